"""The case store: users, cases, uploaded documents, prefilled reviews, decisions and the audit log.

SQLAlchemy 2.x over SQLite (a file in the data dir, the default) or PostgreSQL (by URL); the schema is
owned by the Alembic migrations shipped in `extractor/migrations` and applied by `migrate()` on startup,
so an installed wheel can create or upgrade its own database. Uploaded files are kept in
`<data_dir>/uploads/` under random names; the name a user gave is only ever displayed (sanitised).

The web app and the batch backfill both write here: `save_imported_case()` stores a case whose review
was computed elsewhere (see its docstring).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import secrets
import unicodedata
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    delete,
    event,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship, sessionmaker

from .errors import ExtractorError
from .schemas import COVERED_STATUSES, EXPERIMENTAL_STATUSES

ROLES = ("intake", "reviewer", "admin")
STATUSES = ("queued", "processing", "ready", "failed")
DECISIONS = ("approve", "refer_to_physician", "request_information")
Role = Literal["intake", "reviewer", "admin"]


class StoreError(ExtractorError):
    """A store operation a user can act on (unknown user, bad role, bad decision...)."""


def utcnow() -> datetime:
    """Naive UTC: SQLite drops time zones, so every timestamp is stored naive in UTC on every backend."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Token(Base):
    """A bearer token (API) or a browser session; only the sha256 of the secret is stored."""

    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    csrf: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    user: Mapped[User] = relationship(lazy="joined")


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    source: Mapped[str] = mapped_column(String(10), default="upload")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    request_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # denormalised from the review so the queue is one query
    recommendation: Mapped[str | None] = mapped_column(String(40), nullable=True)
    member_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    patient_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    cpt_codes: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(30), nullable=True)
    documents: Mapped[list[Document]] = relationship(
        order_by="Document.position", cascade="all, delete-orphan", back_populates="case"
    )
    creator: Mapped[User | None] = relationship(lazy="joined")


class Document(Base):
    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    size: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    page_sizes: Mapped[list | None] = mapped_column(JSON, nullable=True)
    # per finding "start:end" -> one box per line it covers (the review's bbox is their union)
    line_boxes: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # a fax packet split into documents ("fax.pdf#2"): each part's offset in `text`, the parts' texts joined
    parts: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    duplicate_of: Mapped[str | None] = mapped_column(String(200), nullable=True)
    case: Mapped[Case] = relationship(back_populates="documents")


class ReviewRow(Base):
    __tablename__ = "reviews"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    review_json: Mapped[str] = mapped_column(Text)
    pipeline_version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Decision(Base):
    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    # what the reviewer sent as the rationale (None: they sent none); the machine draft stays in the review
    rationale: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user: Mapped[User] = relationship(lazy="joined")
    overrides: Mapped[list[Override]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class Override(Base):
    """A reviewer's change of one indication status, kept beside the prefilled one."""

    __tablename__ = "overrides"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"), index=True)
    indication_id: Mapped[str] = mapped_column(String(60))
    prefilled_status: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))


class AuditEvent(Base):
    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    username: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(40), index=True)
    case_id: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    document_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[str] = mapped_column(String(500), default="")
    client: Mapped[str] = mapped_column(String(100), default="")


# --- engine, migrations -------------------------------------------------------------------------


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir).resolve() / 'extractor.db'}"


def resolve_url(db: str | None, data_dir: Path) -> str:
    """--db, else EXTRACTOR_DATABASE_URL (passed in as db by callers), else SQLite in the data dir."""
    return db or default_url(data_dir)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # WAL: readers never wait for the worker's writes
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def migrations_dir() -> Path:
    return Path(__file__).resolve().parent / "migrations"


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` with the migrations inside the package (no alembic.ini needed)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def open_store(url: str) -> tuple[Engine, sessionmaker[Session]]:
    engine = make_engine(url)
    migrate(engine)
    return engine, sessionmaker(engine, expire_on_commit=False)


# --- users and tokens ---------------------------------------------------------------------------

_hasher = None


def _password_hasher():
    global _hasher
    if _hasher is None:
        from argon2 import PasswordHasher

        _hasher = PasswordHasher()
    return _hasher


_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,100}$")


def add_user(session: Session, name: str, role: str, password: str) -> User:
    if role not in ROLES:
        raise StoreError(f"unknown role {role!r} (one of {', '.join(ROLES)})")
    if not _NAME.match(name):
        raise StoreError("user name: 1-100 letters, digits, _ . @ -")
    if len(password) < 8:
        raise StoreError("password must have at least 8 characters")
    if session.scalar(select(User).where(User.name == name)):
        raise StoreError(f"user {name!r} exists")
    user = User(name=name, role=role, password_hash=_password_hasher().hash(password))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    if len(password) < 8:
        raise StoreError("password must have at least 8 characters")
    user.password_hash = _password_hasher().hash(password)


def set_active(session: Session, name: str, active: bool) -> User:
    """Deactivating a user ends every session and token at once (token_for checks `active`)."""
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise StoreError(f"no user {name!r}")
    user.active = active
    return user


def authenticate(session: Session, name: str, password: str) -> User | None:
    from argon2.exceptions import InvalidHashError, VerificationError

    user = session.scalar(select(User).where(User.name == name, User.active.is_(True)))
    if user is None:
        _password_hasher().hash(password)  # same cost whether or not the user exists
        return None
    try:
        _password_hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    return user


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(session: Session, user: User, kind: Literal["api", "session"], hours: float) -> tuple[str, Token]:
    """A new random secret for the user; the caller hands it out once, the store keeps its hash."""
    session.execute(delete(Token).where(Token.expires_at < utcnow()))
    secret = secrets.token_urlsafe(32)
    token = Token(
        token_hash=_digest(secret),
        user_id=user.id,
        kind=kind,
        csrf=secrets.token_urlsafe(32) if kind == "session" else None,
        expires_at=utcnow() + timedelta(hours=hours),
    )
    session.add(token)
    session.flush()
    return secret, token


def token_for(session: Session, secret: str, kind: str) -> Token | None:
    token = session.scalar(select(Token).where(Token.token_hash == _digest(secret), Token.kind == kind))
    if token is None or token.expires_at < utcnow() or not token.user.active:
        return None
    return token


def revoke(session: Session, secret: str) -> None:
    token = session.scalar(select(Token).where(Token.token_hash == _digest(secret)))
    if token is not None:
        session.delete(token)


# --- files --------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^\w .()+,-]")


def display_name(raw: str | None) -> str:
    """A name safe to show and log: last path part, no control or markup characters, 1-120 chars."""
    name = unicodedata.normalize("NFKC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:110] + "." + ext[:9]) if dot and len(ext) <= 9 else name[:120]
    return name or "document"


def sniff(data: bytes) -> str | None:
    """'pdf', 'text' or None (refused), judged by content only: a name or a client's type proves nothing."""
    if b"%PDF-" in data[:1024]:
        return "pdf"
    from .errors import DocumentError
    from .ingest import decode_text

    try:
        decode_text(data)
    except DocumentError:
        return None
    return "text"


def uploads_dir(data_dir: Path) -> Path:
    path = Path(data_dir) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _write_file(data_dir: Path, data: bytes) -> str:
    stored = secrets.token_hex(16)
    target = uploads_dir(data_dir) / stored
    tmp = target.with_suffix(".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, target)
    return stored


def stored_path(data_dir: Path, doc: Document) -> Path:
    if not doc.stored_name or not re.fullmatch(r"[0-9a-f]{32}", doc.stored_name):
        raise StoreError(f"document {doc.id} has no stored file")
    return uploads_dir(data_dir) / doc.stored_name


@dataclass
class Duplicate:
    name: str
    case_id: str


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            stem, dot, ext = name.rpartition(".")
            name = f"{stem} ({seen[name]}).{ext}" if dot else f"{name} ({seen[name]})"
        seen.setdefault(name, 1)
        out.append(name)
    return out


def _add_documents(session: Session, case: Case, files: Sequence[tuple[str, bytes]], data_dir: Path) -> list[Duplicate]:
    duplicates: list[Duplicate] = []
    names = _unique([display_name(n) for n, _ in files])
    for position, ((_, data), name) in enumerate(zip(files, names, strict=True)):
        kind = sniff(data)
        if kind is None:
            raise StoreError(f"{name}: not a PDF or text file")
        digest = hashlib.sha256(data).hexdigest()
        earlier = session.scalar(
            select(Document.case_id).where(Document.sha256 == digest, Document.case_id != case.id).limit(1)
        )
        if earlier:
            duplicates.append(Duplicate(name=name, case_id=earlier))
        case.documents.append(
            Document(
                position=position,
                name=name,
                stored_name=_write_file(data_dir, data),
                sha256=digest,
                size=len(data),
                kind=kind,
                duplicate_of=earlier,
            )
        )
    return duplicates


# --- cases --------------------------------------------------------------------------------------


def create_case(
    session: Session,
    user: User | None,
    files: Sequence[tuple[str, bytes]],
    data_dir: Path,
    request_date: date | None = None,
) -> tuple[Case, list[Duplicate]]:
    """Store the uploaded files of one case and queue it for the background workers."""
    if not files:
        raise StoreError("no files")
    case = Case(
        id=uuid.uuid4().hex,
        status="queued",
        source="upload",
        created_by=user.id if user else None,
        request_date=request_date,
    )
    session.add(case)
    duplicates = _add_documents(session, case, files, data_dir)
    session.flush()
    return case, duplicates


MAX_ATTEMPTS = 3


def claim_next(session: Session, worker: str = "", lease_seconds: float = 600) -> Case | None:
    """Atomically move the oldest queued case (or one whose worker vanished past its lease) to processing.

    The conditional UPDATE is the lock: of two workers racing for the same case only one changes a row.
    A case whose processing was cut off MAX_ATTEMPTS times (a worker crashing on it) fails instead of
    being taken up again forever.
    """
    stale = utcnow() - timedelta(seconds=lease_seconds)
    claimable = (Case.status == "queued") | ((Case.status == "processing") & (Case.claimed_at < stale))
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


def release_claims(session: Session, worker: str | None = None) -> int:
    """Put cases back in the queue that a worker (or, with None, any worker of a stopped server) left
    processing; the next claim counts the attempt."""
    query = update(Case).where(Case.status == "processing")
    if worker is not None:
        query = query.where(Case.claimed_by == worker[:64])
    result = session.execute(query.values(status="queued", claimed_at=None, claimed_by=None))
    return result.rowcount or 0


def requeue_processing(session: Session) -> int:
    """On startup of the only server: cases it was processing when it stopped go back to the queue."""
    return release_claims(session, None)


def _denormalise(case: Case, review: dict[str, Any]) -> None:
    request = review.get("request") or {}
    case.recommendation = review.get("recommendation")
    case.member_id = (request.get("member_id") or None) and str(request["member_id"])[:100]
    case.patient_name = (request.get("patient_name") or None) and str(request["patient_name"])[:200]
    case.cpt_codes = ",".join(request.get("cpt_codes") or [])[:100] or None


def _review_dict(review: Any) -> dict[str, Any]:
    if isinstance(review, dict):
        return review
    if isinstance(review, str):
        return json.loads(review)
    return review.model_dump(mode="json")


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
    twice) unless `replace` is true. The caller commits.
    """
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
        _add_documents(session, case, pairs, data_dir)
    session.flush()
    finish_case(session, case, review)
    return case


def import_reviews(db_url: str, items: Sequence[tuple[str, str, Sequence[Path]]]) -> int:
    """The backfill's `--db URL`: store (case_id, review JSON, document paths) as ready cases.

    Idempotent by case id (a re-run stores nothing twice). Documents are copied into the app's data dir
    so reviewers see pages and boxes: the folder of a SQLite database file, else EXTRACTOR_DATA_DIR.
    Returns how many cases were new.
    """
    from sqlalchemy.engine import make_url

    from .config import get_settings

    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        data_dir = Path(url.database).resolve().parent
    else:
        data_dir = get_settings().data_dir
    engine, factory = open_store(db_url)
    new = 0
    try:
        with factory() as session:
            for case_id, review, files in items:
                if session.get(Case, case_id) is None:
                    save_imported_case(session, case_id, [Path(f) for f in files], review, data_dir)
                    new += 1
                session.commit()
    finally:
        engine.dispose()
    return new


def get_case(session: Session, case_id: str) -> Case | None:
    return session.get(Case, case_id)


def review_json(session: Session, case_id: str) -> str | None:
    return session.scalar(select(ReviewRow.review_json).where(ReviewRow.case_id == case_id))


def list_cases(
    session: Session,
    *,
    status: str | None = None,
    recommendation: str | None = None,
    decided: bool | None = None,
    sort: str = "oldest",
    limit: int = 200,
) -> list[Case]:
    query = select(Case)
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
    }.get(sort, [Case.created_at.asc()])
    return list(session.scalars(query.order_by(*order).limit(limit)))


def record_decision(
    session: Session,
    case: Case,
    user: User,
    decision: str,
    note: str = "",
    overrides: dict[str, str] | None = None,
    rationale: str | None = None,
) -> Decision:
    """A reviewer's decision on a ready case, with any indication statuses changed and the rationale they
    sent (stored as sent; the drafted one stays untouched in the review); never a denial."""
    if user.role not in ("reviewer", "admin"):
        raise PermissionError("only reviewers decide")
    if decision not in DECISIONS:
        raise StoreError(f"decision must be one of {', '.join(DECISIONS)}")
    if case.status != "ready":
        raise StoreError(f"case is {case.status}, not ready")
    review = json.loads(review_json(session, case.id) or "{}")
    prefilled = {i["id"]: (i["kind"], i["status"]) for i in review.get("indications", [])}
    if rationale is not None:
        rationale = rationale.replace("\r\n", "\n").strip() or None
    row = Decision(case_id=case.id, user_id=user.id, decision=decision, note=note or "", rationale=rationale)
    for ind_id, status in (overrides or {}).items():
        if ind_id not in prefilled:
            raise StoreError(f"unknown indication {ind_id!r}")
        kind, before = prefilled[ind_id]
        allowed = COVERED_STATUSES if kind == "covered" else EXPERIMENTAL_STATUSES
        if status not in allowed:
            raise StoreError(f"{ind_id}: status must be one of {', '.join(allowed)}")
        if status != before:
            row.overrides.append(Override(indication_id=ind_id, prefilled_status=before, status=status))
    session.add(row)
    case.decision = decision
    case.updated_at = utcnow()
    session.flush()
    return row


def decisions_for(session: Session, case_id: str) -> list[Decision]:
    return list(
        session.scalars(
            select(Decision).where(Decision.case_id == case_id).order_by(Decision.created_at, Decision.id)
        )
    )


def reviewed_rationale(session: Session, case_id: str) -> Decision | None:
    """The latest decision that carries a reviewer's rationale (what the FHIR bundle answers with)."""
    return session.scalar(
        select(Decision)
        .where(Decision.case_id == case_id, Decision.rationale.is_not(None))
        .order_by(Decision.created_at.desc(), Decision.id.desc())
        .limit(1)
    )


# --- audit --------------------------------------------------------------------------------------


def audit(
    session: Session,
    user: User | None,
    action: str,
    *,
    case_id: str | None = None,
    document_id: int | None = None,
    detail: str = "",
    client: str = "",
) -> None:
    """Who did what, when, from where. Never note text: details are ids, statuses and file names."""
    session.add(
        AuditEvent(
            user_id=user.id if user else None,
            username=user.name if user else "-",
            action=action,
            case_id=case_id,
            document_id=document_id,
            detail=detail[:500],
            client=client[:100],
        )
    )


def audit_events(
    session: Session, *, case_id: str | None = None, action: str | None = None, limit: int | None = 500
) -> list[AuditEvent]:
    query = select(AuditEvent)
    if case_id:
        query = query.where(AuditEvent.case_id == case_id)
    if action:
        query = query.where(AuditEvent.action == action)
    query = query.order_by(AuditEvent.id.desc())
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


AUDIT_COLUMNS = ["id", "at", "username", "action", "case_id", "document_id", "detail", "client"]


def audit_csv(session: Session) -> Iterator[str]:
    """The whole audit log as CSV, oldest first, streamed row by row."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(AUDIT_COLUMNS)
    yield buf.getvalue()
    last = 0
    while True:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(1000)).all()
        if not rows:
            return
        for ev in rows:
            buf.seek(0)
            buf.truncate()
            writer.writerow(
                [
                    ev.id,
                    ev.at.isoformat(timespec="seconds") + "Z",
                    ev.username,
                    ev.action,
                    ev.case_id or "",
                    ev.document_id or "",
                    _csv_safe(ev.detail),
                    ev.client,
                ]
            )
            yield buf.getvalue()
        last = rows[-1].id


def _csv_safe(value: str) -> str:
    """Spreadsheets run cells that start with = + - @ as formulas; a file name must not."""
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def count_cases(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Case.status, func.count()).group_by(Case.status)).all())
