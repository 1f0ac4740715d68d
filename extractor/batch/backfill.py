"""Batch backfill: many historical cases through the one per-case function, resumable and scaled out on Dask.

The state database holds one row per case; a case is marked finished in the same transaction that
stores its result line, and the JSON Lines output is only ever written from that state, so a kill at any
moment leaves at most a torn tail that the next run cuts off, and a rerun writes exactly the lines still
missing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from extractor import PIPELINE_VERSION
from extractor.config import get_settings
from extractor.errors import BackfillError
from extractor.private import private_dir

from .cluster import Cluster
from .dispatch import Dispatcher
from .inputs import CaseInput, discover
from .output import Output, result_line
from .progress import Progress
from .state import (
    ERROR,
    PENDING,
    FileHashes,
    StateLock,
    content_hash,
    finish_case,
    finish_values,
    guideline_catalogue,
    guideline_key,
    insert_cases,
    known_cases,
    new_case,
    release_claims,
    reset_cases,
    state_engine,
    statuses,
)
from .store_sync import StoreSync, store_data_dir


@dataclass
class JobResult:
    total: int
    processed: int
    output: Path
    state: str
    case_ids: list[str]
    cache_hits: int = 0
    cache_misses: int = 0
    sync: StoreSync | None = None


def run_backfill(
    source: Path,
    out: Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    state: str | None = None,
    db_url: str | None = None,
    retry_failed: bool = False,
    use_cache: bool = True,
    allow_outside_input: bool = False,
    db_data_dir: Path | None = None,
    on_start: Callable[[Progress], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> JobResult:
    """Run (or resume) a backfill; returns once every case of the input has exactly one line in `out`.

    A PDF read by an earlier run (same bytes, same reader) comes from the state's document-text cache, so a
    re-score after a pipeline or guideline change reads no PDF and runs no OCR; `use_cache=False`
    (--no-cache) reads every file again (and refreshes the cache)."""
    settings = get_settings()
    out = Path(out)
    state = state or str(out.with_name(out.name + ".state.sqlite"))
    if out.is_dir():
        raise BackfillError(f"{out}: --out is a folder, not a file")
    sync = StoreSync(db_url, store_data_dir(db_url, db_data_dir)) if db_url else None
    if not out.parent.is_dir():  # a folder we create for the output, its state and report is private
        private_dir(out.parent)
    cases = discover(Path(source), allow_outside_input)
    if Path(source).is_dir() and Path(source).resolve() == out.parent.resolve():
        # The output, its state, lock and report beside it are not cases.
        ours = (out.name, out.name.removesuffix(".jsonl") + ".report.html")
        cases = [c for c in cases if not c.case_id.startswith(ours)]
    engine = state_engine(state)
    state_lock = StateLock(engine, state)
    output = Output(out, engine)
    try:
        state_lock.acquire()
        output.lock()
        hashes = FileHashes(engine)
        by_id = sync_state(engine, cases, retry_failed, output, hashes)
        output.reconcile()
        output.append_unwritten()
        status = statuses(engine)
        pending = [case for cid, case in by_id.items() if status.get(cid) == PENDING]
        done = len(by_id) - len(pending)
        failed = sum(1 for cid in by_id if status.get(cid) == ERROR)
        processed = 0
        tally = Progress(len(by_id), done, failed)
        if pending:
            cluster = Cluster(workers, scheduler)
            try:
                if on_start:
                    on_start(Progress(len(by_id), done, failed))
                digests = {path: sha for path, (_, _, sha) in hashes.known.items()} if use_cache else None
                processed = Dispatcher(
                    cluster, pending, engine, output, settings, tally, sync, on_progress, digests
                ).run()
            finally:
                cluster.close()
        elif on_start:
            on_start(Progress(len(by_id), done, failed))
        if sync:
            sync.pending(engine, {cid: c.files for cid, c in by_id.items()})
        return JobResult(len(by_id), processed, out, state, list(by_id), tally.cache_hits, tally.cache_misses, sync)
    finally:
        output.close()
        state_lock.release()
        engine.dispose()


def sync_state(
    engine: sa.Engine, cases: list[CaseInput], retry_failed: bool, output: Output, hashes: FileHashes | None = None
) -> dict[str, CaseInput]:
    """Bring the state up to the input: new cases in, changed ones reset, claims of a killed run released."""
    hashes = hashes or FileHashes(engine)
    catalogue = guideline_catalogue()
    known = known_cases(engine)
    next_seq = max((r.seq for r in known.values()), default=-1) + 1
    inserts: list[dict] = []
    resets: dict[str, tuple[str, str, str]] = {}
    immediate: list[CaseInput] = []
    by_id: dict[str, CaseInput] = {}
    rewrite = False
    for case in cases:
        by_id[case.case_id] = case
        key = (content_hash(case, hashes), PIPELINE_VERSION, guideline_key(case.request_date, catalogue))
        row = known.get(case.case_id)
        if row is None:
            inserts.append(new_case(case.case_id, next_seq, key))
            next_seq += 1
        elif (row.content_hash, row.pipeline_version, row.guideline_key) != key or (
            retry_failed and row.status == ERROR
        ):
            resets[case.case_id] = key
            rewrite = rewrite or bool(row.written)
        else:
            continue
        if case.error:
            immediate.append(case)
    hashes.save()
    with engine.begin() as conn:
        insert_cases(conn, inserts)
        reset_cases(conn, resets)
        # A claim left by an earlier run: that run was killed with the case in flight. The backfill process
        # runs no case itself, so this is no failure of the case; only worker deaths and hangs count.
        release_claims(conn)
        for case in immediate:
            result = {"status": ERROR, "error": case.error, "reason": case.reason}
            finish_case(conn, case.case_id, result_line(case.case_id, result), finish_values(result))
    if rewrite:
        output.rewrite()
    return by_id
