"""The dispatch loop: claim cases, collect what workers finished, settle each case exactly once."""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import sqlalchemy as sa

from extractor.config import Settings
from extractor.ingest import cache as doc_cache

from .cluster import Cluster
from .inputs import CaseInput
from .output import Output, result_line
from .progress import Progress
from .state import (
    ERROR,
    attempts_of,
    cache_table,
    claim_case,
    count_failure,
    finish_case,
    finish_values,
    quarantine_values,
)
from .store_sync import StoreSync
from .task import Shipped, iso_date, score_cases

if TYPE_CHECKING:
    from distributed import Future

# Let a few more cases finish after the first: one transaction, one append and one fsync then serve them all,
# and the coordinator leaves the cores to the workers (the window keeps them busy meanwhile).
COLLECT_SECONDS = 0.05


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Finished:
    """A case's outcome, ready for the state: the result its line is made of, and the row's new values."""

    case: CaseInput
    result: dict
    values: dict


@dataclass
class Collected:
    """What one collect() found: finished cases, and the workers that asked to be replaced."""

    finished: list[Finished] = field(default_factory=list)
    replace: set[str] = field(default_factory=set)
    readings: list[tuple[str, str, bytes]] = field(default_factory=list)  # new cache entries from workers
    hits: int = 0
    misses: int = 0


class Dispatcher:
    """Runs the pending cases on the cluster, each written exactly once, with its steps callable one by one.

    A worker's death fails every task it holds, not only the one that killed it. Such cases become
    `suspects` and run again alone (`solo`), so a death or hang is only counted against a case that was
    running by itself; after `backfill_max_attempts` the case is quarantined with an error line.

    With `digests` (resolved path -> sha256, from the state's file hashes) each task carries the cached
    readings of its cases' PDFs, so workers read from the state without sharing its disk; without, every
    PDF is read again (--no-cache). The readings workers send back are kept with the cases' lines."""

    def __init__(
        self,
        cluster: Cluster,
        pending: list[CaseInput],
        engine: sa.Engine,
        output: Output,
        settings: Settings,
        progress: Progress,
        sync: StoreSync | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        digests: dict[str, str] | None = None,
    ):
        self.cluster = cluster
        self.pending = pending
        self.engine = engine
        self.output = output
        self.settings = settings
        self.progress = progress
        self.sync = sync
        self.on_progress = on_progress
        self.digests = digests
        self.owner = _owner()
        self.queue: Iterator[CaseInput] = iter(pending)
        # future -> (its cases, the time after which it counts as hung)
        self.inflight: dict[Future, tuple[list[CaseInput], float]] = {}
        self.suspects: list[CaseInput] = []
        self.solo: list[CaseInput] = []
        # Futures on a worker we replace on purpose: if they fail, the case simply runs again.
        self.replacing: set[Future] = set()
        # Workers that asked to be replaced when a restart failed: asked again at every settle, not only
        # after their next `backfill_reload_every` cases, so a busy moment never leaves memory unbounded.
        self.unreplaced: set[str] = set()
        self.requeue: list[CaseInput] = []
        self.processed = 0
        self.submitted = 0
        self.exhausted = False
        self.per_task = max(1, settings.backfill_cases_per_task)
        # Enough queued work (in cases) that the workers never wait on the coordinator's commits and fsyncs.
        self.window = (4 * cluster.slots() + 4) * self.per_task

    # --- the steps ----------------------------------------------------------------------------------

    def claim(self) -> None:
        """Fill the window: claim cases in the state and submit them; a suspect runs alone, nothing beside it.

        A suspect already out of attempts (counted by an earlier run) is quarantined here instead."""
        if self.solo or (self.suspects and self.inflight):
            return
        batch: list[CaseInput] = []
        if self.suspects:
            batch.append(self.suspects.pop(0))
            self.solo.append(batch[0])
        queued = sum(len(cases) for cases, _ in self.inflight.values())
        while not self.solo and queued + len(batch) < self.window:
            case = self.requeue.pop() if self.requeue else next(self.queue, None)
            if case is None:
                self.exhausted = True
                break
            batch.append(case)
        if not batch:
            return
        expires = time.time() + self.settings.backfill_claim_seconds
        submit = []
        with self.engine.begin() as conn:
            for case in batch:
                attempts = attempts_of(conn, case.case_id)
                if attempts >= self.settings.backfill_max_attempts:
                    values, result = quarantine_values(attempts, "its worker died or hung each time")
                    finish_case(conn, case.case_id, result_line(case.case_id, result), values)
                    self.progress.done += 1
                    self.progress.failed += 1
                    self.solo.clear()
                    continue
                claim_case(conn, case.case_id, self.owner, expires)
                submit.append(case)
        size = 1 if self.solo else self.per_task
        for i in range(0, len(submit), size):
            self._submit(submit[i : i + size])

    def collect(self, timeout: float = 1.0) -> Collected:
        """Wait up to `timeout` for a future to end, then sort every ended or overdue one: results (and
        internal errors) are finished; a worker death or hang makes its cases suspects, or, for a case that
        ran alone, counts an attempt and quarantines it after the last. The state's lines are not touched."""
        # Dask loads only when there is work: a rerun over a finished job starts in well under its ~1.5 s.
        from distributed import KilledWorker, wait
        from distributed.client import FutureCancelledError

        if self.inflight:
            with contextlib.suppress(TimeoutError):
                wait(list(self.inflight), timeout=timeout, return_when="FIRST_COMPLETED")
            time.sleep(COLLECT_SECONDS)
        collected = Collected()
        done = {fut for fut in self.inflight if fut.done()}
        now = time.time()
        for fut in list(self.inflight):
            cases, deadline = self.inflight[fut]
            alone = len(cases) == 1 and cases[0] in self.solo
            if fut in done:
                del self.inflight[fut]
                self.solo.clear()
                if fut.status == "finished":
                    for case, result in zip(cases, fut.result(), strict=True):
                        collected.readings += result.pop("readings", [])
                        collected.hits += result.pop("cache_hits", 0)
                        collected.misses += result.pop("cache_misses", 0)
                        address = result.pop("replace_worker", None)
                        if address:
                            collected.replace.add(address)
                        collected.finished.append(Finished(case, result, finish_values(result)))
                    continue
                if fut in self.replacing:
                    self.replacing.discard(fut)
                    self.requeue.extend(cases)
                    continue
                exc = None
                with contextlib.suppress(FutureCancelledError):
                    exc = fut.exception()
                if exc is not None and not isinstance(exc, KilledWorker):
                    error = f"internal error ({type(exc).__name__})"
                    result = {"status": ERROR, "error": error, "reason": "internal error"}
                    collected.finished += [Finished(case, dict(result), finish_values(result)) for case in cases]
                    continue
                why = "the worker process died on this case each time"
            elif now > deadline:
                del self.inflight[fut]
                self.solo.clear()
                fut.cancel()
                self._restart_worker_of(fut.key)
                why = f"it did not finish within {self.settings.backfill_claim_seconds:.0f} s each time"
            else:
                continue
            if not alone:
                self.suspects.extend(cases)
                continue
            case = cases[0]
            attempts = count_failure(self.engine, case.case_id)
            if attempts >= self.settings.backfill_max_attempts:
                values, result = quarantine_values(attempts, why)
                collected.finished.append(Finished(case, result, values))
            else:
                self.suspects.insert(0, case)
        return collected

    def settle(self, collected: Collected) -> None:
        """Mark the finished cases in one transaction with their lines, replace the workers that asked, then
        append the new lines to the output and store the reviews in the app's database (--db)."""
        if collected.finished:
            with self.engine.begin() as conn:
                doc_cache.store(conn, cache_table, collected.readings)
                for f in collected.finished:
                    finish_case(conn, f.case.case_id, result_line(f.case.case_id, f.result), f.values)
            self.progress.cache_hits += collected.hits
            self.progress.cache_misses += collected.misses
            self.progress.done += len(collected.finished)
            self.progress.failed += sum(1 for f in collected.finished if f.result["status"] == ERROR)
            self.processed += len(collected.finished)
        if collected.replace or self.unreplaced:
            self.progress.replaced += self._replace_workers(collected.replace | self.unreplaced)
        if collected.finished:
            self.output.append_unwritten()
            if self.sync:
                self.sync.pending(self.engine, {c.case_id: c.files for c in self.pending})
            if self.on_progress:
                self.on_progress(self.progress)

    def run(self) -> int:
        """Claim, collect, settle until every pending case is settled; returns how many were."""
        try:
            self.claim()
            self.output.append_unwritten()
            while self.inflight or not self.exhausted or self.suspects or self.requeue:
                if not self.inflight:
                    self.claim()
                    self.output.append_unwritten()
                    if not self.inflight:
                        break
                self.settle(self.collect())
                self.claim()
            self.output.append_unwritten()
            return self.processed
        finally:
            for fut in self.inflight:
                fut.cancel()

    # --- the cluster --------------------------------------------------------------------------------

    def _shipped(self, chunk: list[CaseInput]) -> list[dict[str, tuple[str, bytes]]]:
        """Each case's cached readings (sha256 -> (reader key, payload)), fetched in one query."""
        if self.digests is None:
            return [{} for _ in chunk]
        wanted = [[d for p in case.files if (d := self.digests.get(str(p.resolve())))] for case in chunk]
        found = doc_cache.fetch(self.engine, cache_table, sorted({d for ds in wanted for d in ds}))
        if found:
            doc_cache.touch(self.engine, cache_table, [(sha, key) for sha, (key, _) in found.items()])
        return [{d: found[d] for d in ds if d in found} for ds in wanted]

    def _submit(self, chunk: list[CaseInput]) -> None:
        self.submitted += 1
        shipped = self._shipped(chunk)
        fut = self.cluster.client.submit(
            score_cases,
            [_item(case, cached) for case, cached in zip(chunk, shipped, strict=True)],
            self.cluster.cluster is not None,
            key=f"cases-{self.owner[-8:]}-{self.submitted}",
            pure=False,
        )
        self.inflight[fut] = (chunk, time.time() + self.settings.backfill_claim_seconds * len(chunk))

    def _replace_workers(self, addresses: set[str]) -> int:
        """Restart the local workers that asked for it (their memory grows with every case); one that cannot
        be restarted now keeps working and is asked again at the next settle, while it is still a worker."""
        client = self.cluster.client
        replaced = 0
        self.unreplaced = set()
        for address in sorted(addresses):
            try:
                keys = set(client.processing([address]).get(address, ()))
                self.replacing.update(f for f in self.inflight if f.key in keys)
                client.restart_workers([address], timeout=120)
                replaced += 1
            except Exception:
                with contextlib.suppress(Exception):
                    if address in client.processing():
                        self.unreplaced.add(address)
        return replaced

    def _restart_worker_of(self, key: str) -> None:
        """Free a worker stuck on a case (a hang is treated like a crash)."""
        with contextlib.suppress(Exception):
            for address, keys in self.cluster.client.processing().items():
                if key in keys:
                    self.cluster.client.restart_workers([address])


def _item(case: CaseInput, cached: Shipped) -> tuple:
    """What a Dask task gets of one case (see task.score_cases)."""
    received = case.received_at.isoformat() if case.received_at else None
    return (case.case_id, [str(p) for p in case.files], iso_date(case.request_date), cached, case.urgency, received)
