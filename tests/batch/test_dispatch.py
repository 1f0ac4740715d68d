"""The dispatch driven one step at a time: claim, collect, settle, on a real Dask LocalCluster and a real state."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa

from extractor.batch.backfill import sync_state
from extractor.batch.cluster import Cluster
from extractor.batch.dispatch import Collected, Dispatcher
from extractor.batch.inputs import discover
from extractor.batch.output import Output
from extractor.batch.progress import Progress
from extractor.batch.state import cases_table, state_engine
from extractor.config import Settings
from tests.batch.test_batch import EPILEPSY, RECURRENCE

CRASH = "crash.txt"


@pytest.fixture(scope="module")
def cluster():
    """Two local worker processes; a worker that meets a file named crash.txt exits at once (os._exit)."""
    before = os.environ.get("EXTRACTOR_TEST_CRASH_FILE")
    os.environ["EXTRACTOR_TEST_CRASH_FILE"] = CRASH  # read by the workers, which inherit the environment
    cluster = Cluster(2, None)
    try:
        yield cluster
    finally:
        cluster.close()
        if before is None:
            del os.environ["EXTRACTOR_TEST_CRASH_FILE"]
        else:
            os.environ["EXTRACTOR_TEST_CRASH_FILE"] = before


def make_dispatcher(cluster: Cluster, tmp_path: Path, names: list[str], settings: Settings) -> Dispatcher:
    """A state and an output in tmp_path holding these cases (one note each), all pending."""
    folder = tmp_path / "cases"
    folder.mkdir()
    for i, name in enumerate(names):
        (folder / name).write_text(RECURRENCE if i % 2 else EPILEPSY)
    cases = discover(folder)
    engine = state_engine(str(tmp_path / "state.sqlite"))
    output = Output(tmp_path / "results.jsonl", engine)
    output.lock()
    by_id = sync_state(engine, cases, False, output)
    return Dispatcher(cluster, list(by_id.values()), engine, output, settings, Progress(len(by_id), 0, 0))


def rows(d: Dispatcher) -> dict[str, sa.Row]:
    c = cases_table.c
    with d.engine.connect() as conn:
        found = conn.execute(
            sa.select(c.case_id, c.status, c.attempts, c.quarantined, c.claim_owner, c.claim_expires, c.written)
        )
        return {r.case_id: r for r in found}


def lines(d: Dispatcher) -> list[dict]:
    path = d.output.path
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def collect_until(d: Dispatcher, done: Callable[[Collected], bool], timeout: float = 240) -> Collected:
    """collect() again and again (nothing else) until `done` holds for what it returned so far."""
    got = Collected()
    deadline = time.monotonic() + timeout
    while not done(got):
        assert time.monotonic() < deadline, f"gave up: {len(got.finished)} finished, {len(d.inflight)} in flight"
        step = d.collect(timeout=1.0)
        got.finished += step.finished
        got.replace |= step.replace
    return got


def test_claim_collect_settle_one_step_at_a_time(cluster, tmp_path):
    settings = Settings(backfill_cases_per_task=1)
    window = 4 * cluster.slots() + 4
    names = [f"case{i:02d}.txt" for i in range(window + 2)]
    d = make_dispatcher(cluster, tmp_path, names, settings)
    assert d.window == window

    # claim(): the window is submitted, one case per task, and exactly those cases are claimed by this run.
    before = time.time()
    d.claim()
    assert len(d.inflight) == window and not d.exhausted
    state = rows(d)
    claimed = {cid for cid, r in state.items() if r.claim_owner is not None}
    assert claimed == set(names[:window])
    assert {state[cid].claim_owner for cid in claimed} == {d.owner}
    assert all(state[cid].claim_expires >= before + settings.backfill_claim_seconds for cid in claimed)
    assert {r.status for r in state.values()} == {"pending"}

    # collect(): the workers' results come back; nothing of them is in the state or the output yet.
    got = collect_until(d, lambda got: len(got.finished) == window)
    assert not d.inflight and not d.suspects
    assert sorted(f.case.case_id for f in got.finished) == names[:window]
    assert {f.result["status"] for f in got.finished} == {"ok"}, got.finished[0].result
    by_case = {f.case.case_id: f.result for f in got.finished}
    assert by_case["case00.txt"]["recommendation"] == "experimental_investigational"
    assert by_case["case01.txt"]["recommendation"] == "likely_meets_criteria"
    assert {r.status for r in rows(d).values()} == {"pending"}
    assert lines(d) == []

    # settle(): one transaction marks them finished, claims released, and each gets exactly one line.
    d.settle(got)
    state = rows(d)
    for cid in names[:window]:
        assert state[cid].status == "ok" and state[cid].claim_owner is None and state[cid].written
    assert [line["case_id"] for line in lines(d)] == names[:window]
    assert d.progress.done == window and d.progress.failed == 0 and d.processed == window

    # The next claim takes the rest and finds the input exhausted; run() finishes the job.
    d.claim()
    assert d.exhausted and len(d.inflight) == 2
    assert d.run() == window + 2
    ids = [line["case_id"] for line in lines(d)]
    assert sorted(ids) == names and len(ids) == len(set(ids))
    assert {r.status for r in rows(d).values()} == {"ok"}


def test_a_worker_death_counts_only_against_the_case_that_ran_alone_then_quarantines_it(cluster, tmp_path):
    settings = Settings(backfill_cases_per_task=2, backfill_max_attempts=2)
    d = make_dispatcher(cluster, tmp_path, ["a.txt", "b.txt", "c.txt", CRASH], settings)

    d.claim()
    assert d.exhausted and sorted([c.case_id for c in cases] for cases, _ in d.inflight.values()) == [
        ["a.txt", "b.txt"],
        ["c.txt", CRASH],
    ]
    # The killer's worker dies with c.txt beside it: both become suspects, no attempt is counted against either.
    got = collect_until(d, lambda got: len(d.suspects) == 2)
    assert [c.case_id for c in d.suspects] == ["c.txt", CRASH]
    assert rows(d)["c.txt"].attempts == 0 and rows(d)[CRASH].attempts == 0
    if d.inflight:  # a.txt and b.txt still running: nothing may run beside a suspect, so nothing is claimed
        d.claim()
        assert len(d.inflight) == 1 and not d.solo
        got.finished += collect_until(d, lambda _: not d.inflight).finished
    d.settle(got)
    assert sorted(line["case_id"] for line in lines(d)) == ["a.txt", "b.txt"]

    # Alone, c.txt is fine.
    d.claim()
    assert [c.case_id for c in d.solo] == ["c.txt"] and len(d.inflight) == 1
    d.settle(collect_until(d, lambda got: len(got.finished) == 1))
    assert rows(d)["c.txt"].status == "ok" and rows(d)["c.txt"].attempts == 0

    # Alone, the killer's death counts: once, and it runs alone again ...
    d.claim()
    assert [c.case_id for c in d.solo] == [CRASH]
    got = collect_until(d, lambda _: not d.inflight)
    assert got.finished == [] and [c.case_id for c in d.suspects] == [CRASH]
    assert rows(d)[CRASH].attempts == 1 and rows(d)[CRASH].status == "pending"

    # ... twice: quarantined, with an error line written once.
    d.claim()
    assert [c.case_id for c in d.solo] == [CRASH]
    got = collect_until(d, lambda got: len(got.finished) == 1)
    d.settle(got)
    row = rows(d)[CRASH]
    assert row.status == "error" and row.quarantined and row.attempts == 2 and row.claim_owner is None
    by_id = {line["case_id"]: line for line in lines(d)}
    assert len(by_id) == len(lines(d)) == 4
    assert by_id[CRASH]["error"] == "quarantined after 2 attempts: the worker process died on this case each time"
    assert d.progress.done == 4 and d.progress.failed == 1
    assert d.run() == 4 and len(lines(d)) == 4


def test_a_worker_whose_restart_failed_is_asked_again_at_the_next_settle(cluster, tmp_path, monkeypatch):
    """Regression: a restart that failed under load was dropped until the worker's next reload_every cases,
    so a busy run replaced fewer workers than asked and memory was not bounded."""
    d = make_dispatcher(cluster, tmp_path, ["case00.txt"], Settings())
    client = cluster.client
    address = sorted(client.processing())[0]
    real_restart = client.restart_workers

    def failing(*args, **kwargs):
        raise TimeoutError("worker busy")

    monkeypatch.setattr(client, "restart_workers", failing)
    d.settle(Collected(replace={address}))
    assert d.progress.replaced == 0 and d.unreplaced == {address}

    monkeypatch.setattr(client, "restart_workers", real_restart)
    d.settle(Collected())
    assert d.progress.replaced == 1 and d.unreplaced == set()
    client.wait_for_workers(2, timeout=60)
    d.settle(Collected())
    assert d.progress.replaced == 1
