"""The dispatch loop: claim cases, collect what workers finished, settle each case exactly once."""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator

import sqlalchemy as sa

from extractor.config import Settings

from .cluster import Cluster
from .inputs import CaseInput
from .output import Output, result_line
from .progress import Progress
from .state import ERROR, cases_table, finish_values, quarantine_values
from .store_sync import store_pending
from .task import iso_date, score_cases


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


COLLECT_SECONDS = 0.05


def dispatch(
    cluster: Cluster,
    pending: list[CaseInput],
    engine: sa.Engine,
    output: Output,
    settings: Settings,
    db_url: str | None,
    on_progress: Callable[[Progress], None] | None,
    progress: Progress,
) -> int:
    from distributed import wait
    from distributed.client import FutureCancelledError

    c = cases_table.c
    owner = _owner()
    queue: Iterator[CaseInput] = iter(pending)
    inflight: dict = {}
    # A worker's death fails every task it holds, not only the one that killed it. Such cases become
    # suspects and run again alone, so a death is only counted against the case that was running by itself.
    suspects: list[CaseInput] = []
    solo: list[CaseInput] = []
    # Futures on a worker we replace on purpose: if they fail, the case simply runs again.
    replacing: set = set()
    requeue: list[CaseInput] = []
    processed = 0
    # Enough queued work (in cases) that the workers never wait on the coordinator's commits and fsyncs.
    per_task = max(1, settings.backfill_cases_per_task)
    window = (4 * cluster.slots() + 4) * per_task
    submitted = [0]
    exhausted = False

    def claim_more() -> None:
        nonlocal exhausted
        batch: list[CaseInput] = []
        if solo or (suspects and inflight):
            return
        if suspects:
            batch.append(suspects.pop(0))
            solo.append(batch[0])
        queued = sum(len(cases) for cases, _ in inflight.values())
        while not solo and queued + len(batch) < window:
            case = requeue.pop() if requeue else next(queue, None)
            if case is None:
                exhausted = True
                break
            batch.append(case)
        if not batch:
            return
        now = time.time()
        submit = []
        with engine.begin() as conn:
            for case in batch:
                attempts = conn.execute(sa.select(c.attempts).where(c.case_id == case.case_id)).scalar_one()
                if attempts >= settings.backfill_max_attempts:
                    values, result = quarantine_values(attempts, "its worker died or hung each time")
                    conn.execute(
                        sa.update(cases_table)
                        .where(c.case_id == case.case_id)
                        .values(line=result_line(case.case_id, result), **values)
                    )
                    progress.done += 1
                    progress.failed += 1
                    solo.clear()
                    continue
                conn.execute(
                    sa.update(cases_table)
                    .where(c.case_id == case.case_id)
                    .values(claim_owner=owner, claim_expires=now + settings.backfill_claim_seconds)
                )
                submit.append(case)
        size = 1 if solo else per_task
        for i in range(0, len(submit), size):
            chunk = submit[i : i + size]
            submitted[0] += 1
            fut = cluster.client.submit(
                score_cases,
                [(case.case_id, [str(p) for p in case.files], iso_date(case.request_date)) for case in chunk],
                cluster.cluster is not None,
                key=f"cases-{owner[-8:]}-{submitted[0]}",
                pure=False,
            )
            inflight[fut] = (chunk, time.time() + settings.backfill_claim_seconds * len(chunk))

    def count_failure(case: CaseInput) -> int:
        with engine.begin() as conn:
            conn.execute(sa.update(cases_table).where(c.case_id == case.case_id).values(attempts=c.attempts + 1))
            return conn.execute(sa.select(c.attempts).where(c.case_id == case.case_id)).scalar_one()

    try:
        claim_more()
        output.append_unwritten()
        while inflight or not exhausted or suspects or requeue:
            if not inflight:
                claim_more()
                output.append_unwritten()
                if not inflight:
                    break
            try:
                wait(list(inflight), timeout=1.0, return_when="FIRST_COMPLETED")
            except TimeoutError:
                pass
            # Let a few more cases finish: one transaction, one append and one fsync then serve them all,
            # and the coordinator leaves the cores to the workers (the window keeps them busy meanwhile).
            time.sleep(COLLECT_SECONDS)
            done = {fut for fut in inflight if fut.done()}
            finished: list[tuple[CaseInput, dict, dict]] = []
            replace: set = set()
            now = time.time()
            for fut in list(inflight):
                cases, deadline = inflight[fut]
                alone = len(cases) == 1 and cases[0] in solo
                if fut in done:
                    del inflight[fut]
                    solo.clear()
                    if fut.status == "finished":
                        for case, result in zip(cases, fut.result(), strict=True):
                            address = result.pop("replace_worker", None)
                            if address:
                                replace.add(address)
                            finished.append((case, result, finish_values(result)))
                        continue
                    if fut in replacing:
                        replacing.discard(fut)
                        requeue.extend(cases)
                        continue
                    exc = None
                    with contextlib.suppress(FutureCancelledError):
                        exc = fut.exception()
                    if type(exc).__name__ == "KilledWorker" or exc is None:
                        why = "the worker process died on this case each time"
                    else:
                        result = {
                            "status": ERROR,
                            "error": f"internal error ({type(exc).__name__})",
                            "reason": "internal error",
                        }
                        finished += [(case, dict(result), finish_values(result)) for case in cases]
                        continue
                elif now > deadline:
                    del inflight[fut]
                    solo.clear()
                    fut.cancel()
                    _restart_worker_of(cluster, fut.key)
                    why = f"it did not finish within {settings.backfill_claim_seconds:.0f} s each time"
                else:
                    continue
                if not alone:
                    suspects.extend(cases)
                    continue
                case = cases[0]
                attempts = count_failure(case)
                if attempts >= settings.backfill_max_attempts:
                    values, result = quarantine_values(attempts, why)
                    finished.append((case, result, values))
                else:
                    suspects.insert(0, case)
            if finished:
                with engine.begin() as conn:
                    for case, result, values in finished:
                        conn.execute(
                            sa.update(cases_table)
                            .where(c.case_id == case.case_id)
                            .values(line=result_line(case.case_id, result), **values)
                        )
                progress.done += len(finished)
                progress.failed += sum(1 for _, r, _ in finished if r["status"] == ERROR)
                processed += len(finished)
            if replace:
                progress.replaced += _replace_workers(cluster, replace, inflight, replacing)
            claim_more()
            if finished:
                output.append_unwritten()
                if db_url:
                    store_pending(engine, db_url, {c.case_id: c.files for c in pending})
                if on_progress:
                    on_progress(progress)
        output.append_unwritten()
        return processed
    finally:
        for fut in inflight:
            fut.cancel()


def _replace_workers(cluster: Cluster, addresses: set[str], inflight: dict, replacing: set) -> int:
    """Restart the local workers that asked for it (their memory grows with every case)."""
    try:
        processing = cluster.client.processing(list(addresses))
        keys = {k for a in addresses for k in processing.get(a, ())}
        replacing.update(f for f in inflight if f.key in keys)
        cluster.client.restart_workers(list(addresses), timeout=120)
    except Exception:  # a worker that cannot be replaced now keeps working; it asks again later
        return 0
    return len(addresses)


def _restart_worker_of(cluster: Cluster, key: str) -> None:
    """Free a worker stuck on a case (a hang is treated like a crash)."""
    with contextlib.suppress(Exception):
        for address, keys in cluster.client.processing().items():
            if key in keys:
                cluster.client.restart_workers([address])
