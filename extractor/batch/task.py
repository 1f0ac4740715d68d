"""The per-case task, run on a Dask worker: extractor.case.prefill, a bad case an error result, never an exception."""

from __future__ import annotations

import contextlib
import gc
import os
from collections.abc import Sequence
from datetime import date
from functools import lru_cache
from pathlib import Path

from extractor import knowledge
from extractor.config import Settings, get_settings
from extractor.errors import ExtractorError, NoReadableDocuments

from .state import ERROR, OK

# --- the per-case task (runs on a worker) -----------------------------------------------------------


@lru_cache(maxsize=1)
def _worker_settings() -> Settings:
    return get_settings()


_cases_in_process = [0]


def score_case(case_id: str, files: Sequence[str], request_date: str | None, replaceable: bool = False) -> dict:
    """Run `extractor.case.prefill` on one case; a bad case becomes an error result, never an exception.

    Every `backfill_reload_every` cases a worker process bounds its memory: a replaceable one (a worker of
    our own local cluster) asks the coordinator to replace it; any other rebuilds its pipeline."""
    settings = _worker_settings()
    result = _run_case(files, request_date, settings)
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


def score_cases(items: Sequence[tuple[str, Sequence[str], str | None]], replaceable: bool = False) -> list[dict]:
    """Several cases in one Dask task: the scheduler's cost per task is paid once for all of them."""
    return [score_case(case_id, files, request_date, replaceable) for case_id, files, request_date in items]


def _rebuild_pipeline() -> None:
    from extractor.nlp.pipeline import load  # lazy: only workers load spaCy, never the coordinator

    load.cache_clear()
    gc.collect()


def _run_case(files: Sequence[str], request_date: str | None, settings: Settings) -> dict:
    from extractor import case  # lazy: the coordinator imports this module to submit tasks; only workers load spaCy

    paths = [Path(f) for f in files]
    crash = settings.test_crash_file
    if crash and any(p.name == crash for p in paths):
        os._exit(70)
    try:
        when = date.fromisoformat(request_date) if request_date else None
        review = case.prefill(paths, when, follow_links=False).review
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
    """Load the pipeline and the knowledge once in a worker process, before its first case."""
    from extractor.nlp.pipeline import load  # lazy: only workers load spaCy, never the coordinator

    load()
    knowledge.guidelines()
    return os.getpid()


def worker_rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss
