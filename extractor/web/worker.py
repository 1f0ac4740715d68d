"""Background processing, in a worker process: claim queued cases from the database and prefill them.

The queue is the `cases` table itself, so nothing lives only in memory: a case uploaded while no worker
runs, or one that was processing when the server stopped, is picked up when workers run again. SIGTERM
(or SIGINT) stops a worker at once, wherever it is: the case in hand goes back to the queue uncounted.
"""

from __future__ import annotations

import logging
import os
import signal
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from extractor import store
from extractor.case import prefill
from extractor.config import get_settings
from extractor.errors import NoReadableDocuments
from extractor.nlp.pipeline import load

from .views import doc_cache, keep_views, linked
from .worker_pool import worker_id

log = logging.getLogger("extractor.web.worker")


class Stopping(BaseException):
    """SIGTERM/SIGINT reached the worker; a BaseException so no `except Exception` of a case swallows it."""


_signals = {"stopping": False, "shielded": False}


def _on_signal(signum: int, _frame) -> None:
    _signals["stopping"] = True
    if not _signals["shielded"]:
        _signals["shielded"] = True  # raised once: the hand-back that follows runs to its end
        raise Stopping


def _fail(session: Session, case: store.Case, token: str | None, error: str) -> bool:
    if token is None:
        store.fail_case(session, case, error)
        return True
    return store.fail_claim(session, case, token, error)


def prefill_claimed(session: Session, case: store.Case, data_dir: Path) -> None:
    """Prefill one claimed case (the per-case function the CLI and the backfill call too) and store its review
    with what the case page draws, or mark it failed with a one-line reason. A case claimed with a token is
    finished only if the claim is still this worker's: a result computed after the claim lapsed is dropped."""
    rows = {row.name: row for row in case.documents}
    token = case.claim_token
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
        if token is None:
            store.finish_case(session, case, result.review)
            done = True
        else:
            done = store.finish_claim(session, case, token, result.review)
        what = "ready"
    except NoReadableDocuments as exc:
        done = _fail(session, case, token, "; ".join(f"{name}: {reason}" for name, reason in exc.errors))
        what = "failed: no readable document"
    except Exception as exc:  # one bad case never stops the worker; no note text in the message
        session.rollback()
        case = session.get(store.Case, case.id)
        done = _fail(session, case, token, f"internal error ({type(exc).__name__})")
        what = f"failed: internal error ({type(exc).__name__})"
    if not done:
        session.rollback()
        log.warning("case %s: claim lost before it finished (%s); result dropped", case.id, what)
        return
    session.commit()
    log.info("case %s %s (%d documents)", case.id, what, len(rows))


class CaseDeadline(BaseException):
    """The case ran past Settings.web_case_deadline_seconds (raised by SIGALRM in the worker's main thread)."""


def _on_alarm(signum: int, _frame) -> None:
    raise CaseDeadline


class Heartbeat(threading.Thread):
    """Renews a claim every third of the lease while its case runs, up to the case's deadline."""

    def __init__(self, factory: sessionmaker[Session], case_id: str, token: str, lease: float, deadline: float):
        super().__init__(name="extractor-heartbeat", daemon=True)
        self.factory, self.case_id, self.token = factory, case_id, token
        self.every, self.until = max(0.05, lease / 3), time.monotonic() + deadline
        self.done = threading.Event()
        self.lost = False

    def run(self) -> None:
        while not self.done.wait(self.every) and time.monotonic() < self.until:
            try:
                with self.factory() as session:
                    renewed = store.heartbeat(session, self.case_id, self.token)
                    session.commit()
            except Exception as exc:  # database briefly away: try again at the next beat
                log.warning("heartbeat: %s", type(exc).__name__)
                continue
            if not renewed:
                self.lost = True
                return


def process_one(factory: sessionmaker[Session], data_dir: Path) -> str | None:
    """Claim and process the next queued case; its id, or None when the queue is empty.

    While it runs a heartbeat renews the claim; at Settings.web_case_deadline_seconds the case is stopped
    and failed (in the main thread, by SIGALRM) rather than left to hold the queue."""
    settings = get_settings()
    with factory() as session:
        case = store.claim_next(session, worker_id(), settings.web_claim_lease_seconds)
        if case is None:
            return None
        token = case.claim_token
        assert token is not None
        beat = Heartbeat(factory, case.id, token, settings.web_claim_lease_seconds, settings.web_case_deadline_seconds)
        beat.start()
        alarm = threading.current_thread() is threading.main_thread()
        if alarm:
            previous = signal.signal(signal.SIGALRM, _on_alarm)
            signal.setitimer(signal.ITIMER_REAL, settings.web_case_deadline_seconds)
        try:
            prefill_claimed(session, case, data_dir)
        except CaseDeadline:
            session.rollback()
            case = session.get(store.Case, case.id)
            limit = f"{settings.web_case_deadline_seconds:g}"
            if store.fail_claim(session, case, token, f"processing took longer than {limit} s; stopped"):
                session.commit()
            log.warning("case %s failed: deadline of %s s passed", case.id, limit)
        finally:
            if alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
            beat.done.set()
            beat.join(5)
        return case.id


def _hand_back(factory: sessionmaker[Session]) -> None:
    """On the way out: whatever this worker still holds goes back to the queue, the attempt not counted."""
    try:
        with factory() as session:
            if store.release_claims(session, worker_id(), count_attempt=False):
                log.info("worker %s stopping: case handed back to the queue", os.getpid())
            session.commit()
    except Exception as exc:
        log.warning("worker: hand-back failed (%s)", type(exc).__name__)


def work_queue(url: str, data_dir: str, stop, poll_seconds: float = 0.2) -> None:
    """Loop of one worker process: warm the pipeline once, then poll the queue until told to stop."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _on_signal)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    parent = os.getppid()
    engine = store.make_engine(url)
    factory = sessionmaker(engine, expire_on_commit=False)
    try:
        load()
        while not stop.is_set() and not _signals["stopping"] and os.getppid() == parent:
            try:
                done = process_one(factory, Path(data_dir))
            except Exception as exc:  # database briefly unavailable: wait and retry
                log.warning("worker: %s", type(exc).__name__)
                done = None
                time.sleep(2)
            if done is None:
                stop.wait(poll_seconds)
    except Stopping:
        pass
    finally:
        _signals["shielded"] = True
        _hand_back(factory)
        engine.dispose()
