"""Background processing, in a worker process: claim queued cases from the database and prefill them.

The queue is the `cases` table itself, so nothing lives only in memory: a case uploaded while no worker
runs, or one that was processing when the server stopped, is picked up when workers run again.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from extractor import store
from extractor.case import prefill
from extractor.errors import NoReadableDocuments
from extractor.nlp.pipeline import load

from .views import doc_cache, keep_views, linked
from .worker_pool import worker_id

log = logging.getLogger("extractor.web.worker")


def prefill_claimed(session: Session, case: store.Case, data_dir: Path) -> None:
    """Prefill one claimed case (the per-case function the CLI and the backfill call too) and store its review
    with what the case page draws, or mark it failed with a one-line reason."""
    rows = {row.name: row for row in case.documents}
    try:
        with tempfile.TemporaryDirectory(prefix="extractor-case-") as tmp:
            result = prefill(
                linked(case, data_dir, tmp),
                case.request_date,
                cache=doc_cache(session),
                urgency=case.urgency if case.urgency_source == "given" else None,
                received_at=case.received_at if case.received_source == "given" else None,
                uploaded_at=case.created_at,
            )
        keep_views(rows, result.documents, data_dir, [f.model_dump() for f in result.review.findings])
        store.finish_case(session, case, result.review)
        log.info("case %s ready (%d documents)", case.id, len(rows))
    except NoReadableDocuments as exc:
        store.fail_case(session, case, "; ".join(f"{name}: {reason}" for name, reason in exc.errors))
        log.info("case %s failed: no readable document", case.id)
    except Exception as exc:  # one bad case never stops the worker; no note text in the message
        session.rollback()
        case = session.get(store.Case, case.id)
        store.fail_case(session, case, f"internal error ({type(exc).__name__})")
        log.warning("case %s failed: internal error (%s)", case.id, type(exc).__name__)
    session.commit()


def process_one(factory: sessionmaker[Session], data_dir: Path) -> str | None:
    """Claim and process the next queued case; its id, or None when the queue is empty."""
    with factory() as session:
        case = store.claim_next(session, worker_id())
        if case is None:
            return None
        prefill_claimed(session, case, data_dir)
        return case.id


def work_queue(url: str, data_dir: str, stop, poll_seconds: float = 0.2) -> None:
    """Loop of one worker process: warm the pipeline once, then poll the queue until told to stop."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    parent = os.getppid()
    try:
        load()
        engine = store.make_engine(url)
        factory = sessionmaker(engine, expire_on_commit=False)
        while not stop.is_set() and os.getppid() == parent:
            try:
                done = process_one(factory, Path(data_dir))
            except Exception as exc:  # database briefly unavailable: wait and retry
                log.warning("worker: %s", type(exc).__name__)
                done = None
                time.sleep(2)
            if done is None:
                stop.wait(poll_seconds)
    except KeyboardInterrupt:
        pass
