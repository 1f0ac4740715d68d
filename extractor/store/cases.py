"""Cases: created at intake, claimed by a worker, finished with a review; imported from the backfill."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import ValidationError
from sqlalchemy import (
    bindparam,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from extractor import clock
from extractor.config import get_settings
from extractor.ingest.cache import forget
from extractor.ingest.files import read_regular
from extractor.schemas import Review

from .db import open_store
from .tables import Case, Decision, PasRequest, ReviewRow, StoredDocument, StoreError, User, cache_table, utcnow
from .uploads import Duplicate, add_documents, remove_files

# --- cases --------------------------------------------------------------------------------------


def create_case(
    session: Session,
    user: User | None,
    files: Sequence[tuple[str, bytes]],
    data_dir: Path,
    request_date: date | None = None,
    source: str = "upload",
    *,
    urgency: str | None = None,
    received_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[Case, list[Duplicate]]:
    """Store the uploaded files of one case and queue it for the background workers (`source`: the intake
    channel, "upload" or "pas"). `urgency` and `received_at`, when given, are kept as given; otherwise the
    case is standard and received now until its documents say otherwise (see `set_clock`)."""
    if not files:
        raise StoreError("no files")
    if urgency is not None and urgency not in clock.URGENCIES:
        raise StoreError(f"urgency must be one of {', '.join(clock.URGENCIES)}")
    created = clock.naive_utc(now) if now else utcnow()
    case = Case(
        id=uuid.uuid4().hex,
        status="queued",
        source=source,
        created_by=user.id if user else None,
        created_at=created,
        updated_at=created,
        request_date=request_date,
    )
    received = clock.naive_utc(received_at) if received_at else created
    set_clock(case, urgency or "standard", "given" if urgency else "default", received,
              "given" if received_at else "upload")  # fmt: skip
    session.add(case)
    duplicates = add_documents(session, case, files, data_dir)
    session.flush()
    return case, duplicates


MAX_ATTEMPTS = 3


def claim_next(session: Session, worker: str = "", lease_seconds: float | None = None) -> Case | None:
    """Atomically move the oldest queued case (or one whose claim was not renewed for a lease) to processing.

    The conditional UPDATE is the lock: of two workers racing for the same case only one changes a row,
    and the case carries a fresh `claim_token` that its holder must show to renew (`heartbeat`) or finish
    (`finish_claim`, `fail_claim`). A case whose processing was cut off MAX_ATTEMPTS times (a worker
    crashing on it, a deadline passed) fails instead of being taken up again forever.
    """
    lease = get_settings().web_claim_lease_seconds if lease_seconds is None else lease_seconds
    stale = utcnow() - timedelta(seconds=lease)
    renewed = func.coalesce(Case.heartbeat_at, Case.claimed_at)
    claimable = (Case.status == "queued") | ((Case.status == "processing") & (renewed < stale))
    candidates = session.scalars(select(Case.id).where(claimable).order_by(Case.created_at).limit(5)).all()
    for case_id in candidates:
        now = utcnow()
        result = session.execute(
            update(Case)
            .where(Case.id == case_id, claimable)
            .values(
                status="processing",
                claimed_at=now,
                claimed_by=worker[:64] or None,
                claim_token=uuid.uuid4().hex,
                heartbeat_at=now,
                updated_at=now,
                attempts=Case.attempts + 1,
            )
        )
        session.commit()
        if result.rowcount != 1:
            continue
        case = session.get(Case, case_id, populate_existing=True)
        if case.attempts > MAX_ATTEMPTS:
            fail_case(session, case, f"processing stopped {MAX_ATTEMPTS} times before it finished; not retried")
            session.commit()
            continue
        return case
    return None


def heartbeat(session: Session, case_id: str, token: str) -> bool:
    """Renew a claim; False when it is no longer this holder's (lapsed and taken up, or finished)."""
    result = session.execute(
        update(Case)
        .where(Case.id == case_id, Case.claim_token == token, Case.status == "processing")
        .values(heartbeat_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _end_claim(session: Session, case: Case, token: str, status: str) -> bool:
    """The conditional UPDATE that ends a claim: only the current holder's token matches."""
    result = session.execute(
        update(Case)
        .where(Case.id == case.id, Case.claim_token == token, Case.status == "processing")
        .values(status=status, claim_token=None, claimed_by=None, heartbeat_at=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def finish_claim(session: Session, case: Case, token: str, review: Any) -> bool:
    """Store the review of a claimed case if `token` is still its claim; False (nothing stored) otherwise."""
    if not _end_claim(session, case, token, "ready"):
        return False
    finish_case(session, case, review)
    case.claim_token = case.claimed_by = case.heartbeat_at = None
    return True


def fail_claim(session: Session, case: Case, token: str, error: str) -> bool:
    """Fail a claimed case if `token` is still its claim."""
    if not _end_claim(session, case, token, "failed"):
        return False
    fail_case(session, case, error)
    case.claim_token = case.claimed_by = case.heartbeat_at = None
    return True


def release_orphans(session: Session, host: str, alive: Callable[[int], bool]) -> int:
    """On start-up of a server on `host`: put back the claims of this host's servers that are no longer
    running (worker ids are host:server-pid:worker-pid). Claims of other hosts, or of a server still running
    here, are left alone: several servers may share one database, and a lapsed claim is taken up anyway."""
    rows = session.execute(
        select(Case.claimed_by).where(Case.status == "processing", Case.claimed_by.like(f"{host}:%"))
    ).all()
    dead = set()
    for (claimed_by,) in rows:
        owner = claimed_by.split(":")[1] if claimed_by.count(":") >= 1 else ""
        if not owner.isdigit() or not alive(int(owner)):
            dead.add(claimed_by)
    anonymous = session.execute(  # claimed with no worker id: nobody else can answer for them
        update(Case)
        .where(Case.status == "processing", Case.claimed_by.is_(None))
        .values(status="queued", claimed_at=None, claim_token=None, heartbeat_at=None)
    )
    return (anonymous.rowcount or 0) + sum(release_claims(session, worker) for worker in sorted(dead))


def release_claims(session: Session, worker: str | None = None, *, count_attempt: bool = True) -> int:
    """Put cases back in the queue that a worker (or, with None, any worker of a stopped server) left
    processing. A worker that died counts as an attempt (a case that keeps killing workers fails); one that
    was stopped and hands its case back (`count_attempt=False`) does not."""
    query = update(Case).where(Case.status == "processing")
    if worker is not None:
        query = query.where(Case.claimed_by == worker[:64])
    values: dict[str, Any] = {
        "status": "queued",
        "claimed_at": None,
        "claimed_by": None,
        "claim_token": None,
        "heartbeat_at": None,
    }
    if not count_attempt:
        values["attempts"] = Case.attempts - 1
    result = session.execute(query.values(**values))
    return result.rowcount or 0


def requeue_processing(session: Session) -> int:
    """On startup of the only server: cases it was processing when it stopped go back to the queue."""
    return release_claims(session, None)


def set_clock(case: Case, urgency: str, urgency_source: str, received_at: datetime, received_source: str) -> None:
    """The case's urgency and receipt with where each came from, and the due time they give."""
    case.urgency, case.urgency_source = urgency, urgency_source
    case.received_at, case.received_source = received_at, received_source
    case.due_at = clock.due_at(received_at, urgency)


def _clock_from_review(case: Case, request: dict[str, Any]) -> None:
    """What the review's request says (read from the documents: a cover sheet's URGENT box, a fax header's time;
    or given to the prefill, as the backfill's manifest does) replaces the defaults; what intake gave the case
    is never replaced."""
    urgency, urgency_source = case.urgency, case.urgency_source
    if urgency_source != "given" and request.get("urgency_source") in ("given", "documents"):
        urgency, urgency_source = request["urgency"], request["urgency_source"]
    received, received_source = case.received_at or case.created_at or utcnow(), case.received_source
    if received_source != "given" and request.get("received_at_source") in ("given", "documents"):
        received, received_source = clock.parse_received_at(request["received_at"]), request["received_at_source"]
    set_clock(case, urgency, urgency_source, received, received_source)


def _denormalise(case: Case, review: dict[str, Any]) -> None:
    request = review.get("request") or {}
    case.recommendation = review.get("recommendation")
    case.member_id = (request.get("member_id") or None) and str(request["member_id"])[:100]
    case.patient_name = (request.get("patient_name") or None) and str(request["patient_name"])[:200]
    case.cpt_codes = ",".join(request.get("cpt_codes") or [])[:100] or None
    _clock_from_review(case, request)


def _review_dict(review: Any) -> dict[str, Any]:
    if isinstance(review, dict):
        return review
    if isinstance(review, str):
        return json.loads(review)
    return review.model_dump(mode="json")


def checked_review(review: Any) -> dict[str, Any]:
    """A review handed over from elsewhere (the backfill) as JSON or a dict is checked against `Review`
    before it is stored: a case page built on a malformed review would fail for the reviewer long after the
    import said "stored"."""
    if isinstance(review, Review):
        return review.model_dump(mode="json")
    try:
        data = json.loads(review) if isinstance(review, str | bytes) else review
        Review.model_validate(data)
    except ValueError as exc:  # pydantic's ValidationError and json's JSONDecodeError are ValueErrors
        where = ""
        if isinstance(exc, ValidationError) and exc.errors():
            where = f" (first at {'.'.join(str(p) for p in exc.errors()[0]['loc'])})"
        raise StoreError(f"review is not a valid Review{where}") from None
    return data


def finish_case(session: Session, case: Case, review: Any) -> None:
    data = _review_dict(review)
    row = session.get(ReviewRow, case.id) or ReviewRow(case_id=case.id, review_json="")
    row.review_json = json.dumps(data, ensure_ascii=False)
    row.pipeline_version = data.get("pipeline_version")
    row.created_at = utcnow()
    session.merge(row)
    _denormalise(case, data)
    case.status = "ready"
    case.error = None
    case.updated_at = utcnow()


def fail_case(session: Session, case: Case, error: str) -> None:
    case.status = "failed"
    case.error = error[:2000]
    case.updated_at = utcnow()


CASE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")


def check_case_id(case_id: str) -> str:
    """An imported case id goes into URLs, pages and the audit CSV: 1-200 letters, digits, . _ -, starting with
    a letter or digit; anything else is a StoreError naming the rule (never the id's full text)."""
    if not isinstance(case_id, str) or not CASE_ID.fullmatch(case_id):
        raise StoreError("case id: 1-200 letters, digits, . _ - (starting with a letter or digit)")
    return case_id


def purge_case(session: Session, case_id: str, data_dir: Path) -> int:
    """Delete a case, its review, decisions, PAS request, stored files (uploads and page renders) and the
    document-text cache entries of files no other case holds; the audit trail stays. How many files went; the
    caller commits (the files are gone already)."""
    case = session.get(Case, case_id)
    if case is None:
        raise StoreError(f"no case {case_id!r}")
    names = [d.stored_name for d in case.documents]
    digests = {d.sha256 for d in case.documents}
    for model in (Decision, ReviewRow, PasRequest):
        for row in session.scalars(select(model).where(model.case_id == case_id)):
            session.delete(row)
    session.delete(case)
    session.flush()
    kept = set(session.scalars(select(StoredDocument.sha256).where(StoredDocument.sha256.in_(digests))))
    forget(session.connection(), cache_table, sorted(digests - kept))
    return remove_files(data_dir, names)


def save_imported_case(
    session: Session,
    case_id: str,
    files: Sequence[Path | tuple[str, bytes]],
    review: Any,
    data_dir: Path,
    *,
    replace: bool = False,
) -> Case:
    """Store a case whose review was computed elsewhere (the batch backfill) as ready for reviewers.

    `files` are the case's documents (paths, or (name, bytes) pairs), copied under random names into
    `data_dir/uploads` so page images and downloads work as for uploads; `review` is a `schemas.Review`,
    its dict or its JSON. An existing `case_id` is left as it is (re-running a backfill stores nothing
    twice) unless `replace` is true. The caller commits, then removes a replaced case's old files
    (`remove_files`; `import_reviews` does), so a rollback never leaves a case without its pages.
    """
    check_case_id(case_id)
    review = checked_review(review)
    existing = session.get(Case, case_id)
    if existing is not None:
        if not replace:
            return existing
        session.delete(existing)
        session.flush()
    pairs = [(f.name, f.read_bytes()) if isinstance(f, Path) else f for f in files]
    case = Case(id=case_id, status="ready", source="import")
    session.add(case)
    if pairs:
        add_documents(session, case, pairs, data_dir)
    session.flush()
    finish_case(session, case, review)
    return case


@dataclass
class ImportResult:
    new: int = 0
    replaced: int = 0
    kept_decided: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)


def import_reviews(db_url: str, items: Sequence[tuple[str, str, Sequence[Path]]], data_dir: Path) -> ImportResult:
    """The backfill's `--db URL`: store (case_id, review JSON, document paths) as ready cases.

    A new case id is stored with its documents (copied into `data_dir`, the app's data dir, so reviewers
    see pages and boxes). An imported case nobody has decided gets the new review (it was re-scored); a
    decided case keeps its review and decision and is listed in `kept_decided`; a case id the web app
    created (an upload) is never touched. A review that is not a valid `Review` stores nothing for its case
    and is listed in `invalid`; the other cases are stored.
    """
    engine, factory = open_store(db_url)
    result = ImportResult()
    stale: list[str | None] = []  # a replaced case's old uploads, removed once the new ones are committed
    try:
        with factory() as session:
            for case_id, review, files in items:
                existing = session.get(Case, case_id)
                if existing is not None and (existing.source != "import" or existing.decision is not None):
                    result.kept_decided.append(case_id)
                    continue
                pairs = [(Path(f).name, read_regular(Path(f), follow_links=False)) for f in files]
                try:
                    checked_review(review)
                except StoreError:
                    result.invalid.append(case_id)
                    continue
                if existing is None:
                    save_imported_case(session, case_id, pairs, review, data_dir)
                    result.new += 1
                elif load_review_json(session, case_id) != json.dumps(_review_dict(review), ensure_ascii=False):
                    same_files = [d.sha256 for d in existing.documents] == [
                        hashlib.sha256(b).hexdigest() for _, b in pairs
                    ]
                    if same_files:  # the pipeline or guideline changed: new review, the page views redrawn
                        for doc in existing.documents:
                            doc.text = doc.line_boxes = doc.parts = None
                        finish_case(session, existing, review)
                    else:
                        stale = [d.stored_name for d in existing.documents]
                        save_imported_case(session, case_id, pairs, review, data_dir, replace=True)
                    result.replaced += 1
                session.commit()
                remove_files(data_dir, stale)
                stale = []
    finally:
        engine.dispose()
    return result


def get_case(session: Session, case_id: str) -> Case | None:
    return session.get(Case, case_id)


def load_review_json(session: Session, case_id: str) -> str | None:
    return session.scalar(select(ReviewRow.review_json).where(ReviewRow.case_id == case_id))


class CaseHead(NamedTuple):
    """What the API's review read answers and the read policy checks of a case, without its ORM object."""

    id: str
    status: str
    created_by: int | None
    error: str | None
    decision: str | None
    urgency: str
    received_at: datetime | None
    due_at: datetime | None
    decided_at: datetime | None


_cases, _reviews = Case.__table__, ReviewRow.__table__
_CASE_WITH_REVIEW = (  # built once (see users._READER); the columns in CaseHead's order, then the review
    select(*(_cases.c[name] for name in CaseHead._fields), _reviews.c.review_json)
    .select_from(_cases.outerjoin(_reviews, _reviews.c.case_id == _cases.c.id))
    .where(_cases.c.id == bindparam("case_id"))
)


def case_with_review(session: Session, case_id: str) -> tuple[CaseHead | None, str | None]:
    """The case's head and its stored review JSON (as stored, never re-validated) in one SQLAlchemy Core query
    on the session's connection and transaction: no ORM objects, no join to the uploader."""
    row = session.connection().execute(_CASE_WITH_REVIEW, {"case_id": case_id}).first()
    return (CaseHead._make(row[:-1]), row[-1]) if row is not None else (None, None)


def list_cases(
    session: Session,
    *,
    status: str | None = None,
    recommendation: str | None = None,
    decided: bool | None = None,
    sort: str = "oldest",
    limit: int = 200,
    urgency: str | None = None,
    overdue_at: datetime | None = None,
    created_by: int | None = None,
) -> list[Case]:
    """Cases by status, recommendation, decided or not, urgency, and (`overdue_at`: now) undecided past due;
    `created_by` keeps only one uploader's (the read policy's scope of an intake user)."""
    query = select(Case)
    if created_by is not None:
        query = query.where(Case.created_by == created_by)
    if urgency:
        query = query.where(Case.urgency == urgency)
    if overdue_at is not None:
        query = query.where(Case.decision.is_(None), Case.due_at < clock.naive_utc(overdue_at))
    if status:
        query = query.where(Case.status == status)
    if recommendation:
        query = query.where(Case.recommendation == recommendation)
    if decided is True:
        query = query.where(Case.decision.is_not(None))
    elif decided is False:
        query = query.where(Case.decision.is_(None))
    order = {
        "oldest": [Case.created_at.asc()],
        "newest": [Case.created_at.desc()],
        "recommendation": [Case.recommendation.asc(), Case.created_at.asc()],
        "member": [Case.member_id.asc(), Case.created_at.asc()],
        "due": [Case.due_at.asc(), Case.created_at.asc()],
    }.get(sort, [Case.created_at.asc()])
    return list(session.scalars(query.order_by(*order).limit(limit)))
