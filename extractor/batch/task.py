"""The per-case task, run on a Dask worker: extractor.case.prefill, a bad case an error result, never an exception."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

from extractor import knowledge
from extractor.config import Settings, get_settings
from extractor.errors import ExtractorError, NoReadableDocuments
from extractor.ingest import sandbox
from extractor.ingest.cache import MemoryCache, reader_key

from .state import ERROR, OK

# --- the per-case task (runs on a worker) -----------------------------------------------------------


@lru_cache(maxsize=1)
def _worker_settings() -> Settings:
    return get_settings()


@lru_cache(maxsize=1)
def _worker_reader_key() -> str:
    return reader_key(_worker_settings())


Shipped = dict[str, tuple[str, bytes]]  # sha256 -> (reader key, cached reading), sent with the task


_cases_in_process = [0]


def score_case(
    case_id: str,
    files: Sequence[str],
    request_date: str | None,
    replaceable: bool = False,
    shipped: Shipped | None = None,
    urgency: str | None = None,
    received_at: str | None = None,
) -> dict:
    """Run `extractor.case.prefill` on one case; a bad case becomes an error result, never an exception.

    PDFs whose reading the coordinator shipped (`shipped`, from the state's document-text cache) are not
    read; the readings of the others come back in the result (`readings`) for the coordinator to keep.

    Every `backfill_reload_every` cases a worker process bounds its memory: a replaceable one (a worker of
    our own local cluster) asks the coordinator to replace it; any other rebuilds its pipeline."""
    settings = _worker_settings()
    cache = MemoryCache(shipped or {}, _worker_reader_key())
    result = _run_case(files, request_date, settings, cache, urgency, received_at)
    result["readings"] = [(sha, cache.key, payload) for sha, payload in cache.new.items()]
    result["cache_hits"], result["cache_misses"] = cache.hits, cache.misses
    _cases_in_process[0] += 1
    every = settings.backfill_reload_every
    if every and _cases_in_process[0] % every == 0:
        address = None
        if replaceable:
            from distributed import get_worker  # lazy: the coordinator imports this module before it needs Dask

            with contextlib.suppress(ValueError):  # not inside a Dask worker
                address = get_worker().address
        if address:
            result["replace_worker"] = address
        else:
            _rebuild_pipeline()
    return result


def iso_date(day: date | None) -> str | None:
    return day.isoformat() if day else None


def score_cases(items: Sequence[tuple], replaceable: bool = False) -> list[dict]:
    """Several cases in one Dask task: the scheduler's cost per task is paid once for all of them. Each item is
    (case_id, files, request_date, shipped readings[, urgency, received_at])."""
    return [
        score_case(case_id, files, request_date, replaceable, shipped, *clock)
        for case_id, files, request_date, shipped, *clock in items
    ]


def _rebuild_pipeline() -> None:
    from extractor.nlp.pipeline import load  # lazy: only workers load spaCy, never the coordinator

    load.cache_clear()
    gc.collect()


def _landed_at(paths: Sequence[Path]) -> datetime | None:
    """When the case's files landed in the input (their newest mtime): without a manifest receipt time this is
    the case's "upload", the same on every re-run, so a re-score does not move its clock."""
    try:
        return datetime.fromtimestamp(max(p.stat().st_mtime for p in paths), UTC)
    except (OSError, ValueError):
        return None


def _run_case(
    files: Sequence[str],
    request_date: str | None,
    settings: Settings,
    cache: MemoryCache,
    urgency: str | None = None,
    received_at: str | None = None,
) -> dict:
    from extractor import case  # lazy: the coordinator imports this module to submit tasks; only workers load spaCy

    paths = [Path(f) for f in files]
    crash = settings.test_crash_file
    if crash and any(p.name == crash for p in paths):
        os._exit(70)
    try:
        when = datetime.fromisoformat(received_at) if received_at else None
        review = case.prefill(
            paths,
            date.fromisoformat(request_date) if request_date else None,
            cache=cache,
            urgency=urgency,
            received_at=when,
            uploaded_at=_landed_at(paths),
            follow_links=False,
        ).review
    except NoReadableDocuments as exc:
        reasons = "; ".join(sorted({reason for _, reason in exc.errors}))
        return {"status": ERROR, "error": f"no document could be read: {exc}", "reason": f"unreadable: {reasons}"}
    except ExtractorError as exc:
        return {"status": ERROR, "error": str(exc), "reason": type(exc).__name__}
    except Exception as exc:  # one bad case never sinks the batch; the type names the failure, no note text
        return {"status": ERROR, "error": f"internal error ({type(exc).__name__})", "reason": "internal error"}
    return {
        "status": OK,
        "review": review.model_dump_json(),
        "recommendation": review.recommendation,
        "guideline_version": review.guideline.version,
        "request_date": review.request.request_date,
        "indications": {i.id: i.status for i in review.indications},
    }


def warm_up() -> int:
    """Load the pipeline and the knowledge once in a worker process, and start its PDF worker, before its
    first case."""
    from extractor.nlp.pipeline import load  # lazy: only workers load spaCy, never the coordinator

    sandbox.start_worker(_worker_settings())  # its imports run meanwhile, in its own process
    load()
    knowledge.guidelines()
    return os.getpid()


def worker_rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss
