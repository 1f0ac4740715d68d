"""The case store's tables (SQLAlchemy 2.x declarative); the schema itself is owned by the Alembic migrations."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from extractor.errors import StoreError  # noqa: F401  re-exported: store.StoreError
from extractor.ingest.cache import define_table
from extractor.schemas import CASE_STATUSES, DECISIONS, ROLES, Role  # noqa: F401  re-exported by store


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
    # the current claim: only its holder may finish the case; its heartbeat keeps the claim from lapsing
    claim_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    request_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    # denormalised from the review so the queue is one query
    recommendation: Mapped[str | None] = mapped_column(String(40), nullable=True)
    member_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    patient_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    cpt_codes: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(30), nullable=True)
    # the request clock (SPEC "Request clock"): sources say given | documents | default, given | documents | upload
    urgency: Mapped[str] = mapped_column(String(10), default="standard", server_default="standard")
    urgency_source: Mapped[str] = mapped_column(String(10), default="default", server_default="default")
    received_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    received_source: Mapped[str] = mapped_column(String(10), default="upload", server_default="upload")
    due_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # its latest decision's time
    documents: Mapped[list[StoredDocument]] = relationship(
        order_by="StoredDocument.position", cascade="all, delete-orphan", back_populates="case"
    )
    creator: Mapped[User | None] = relationship(lazy="joined")


class StoredDocument(Base):
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


class PasRequest(Base):
    """A case that came in by Da Vinci PAS `Claim/$submit`: what $inquire matches on and the ClaimResponse
    echoes (the Claim as received, without its documents), the priority and the receipt time."""

    __tablename__ = "pas_requests"
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    claim_system: Mapped[str] = mapped_column(String(255), default="")
    claim_value: Mapped[str] = mapped_column(String(255), index=True)
    member_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    provider: Mapped[str | None] = mapped_column(String(255), nullable=True)
    priority: Mapped[str | None] = mapped_column(String(20), nullable=True)
    expedited: Mapped[bool] = mapped_column(Boolean, default=False)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    claim_json: Mapped[str] = mapped_column(Text)


class QaReview(Base):
    """A decided case drawn for the second-review sample: a different reviewer's decision beside the first."""

    __tablename__ = "qa_reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True, unique=True)
    first_decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    sampled_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decision: Mapped[str | None] = mapped_column(String(30), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    first: Mapped[Decision] = relationship(lazy="joined")
    reviewer: Mapped[User | None] = relationship(lazy="joined")


# The document-text cache (ingest/cache.py): each uploaded PDF's reading, made once by the worker at intake.
cache_table = define_table(Base.metadata)


class LoginFailure(Base):
    """One failed login, by user name and by client address: the login limiter's counters when several server
    instances share one database (Settings.login_counters), so a guesser cannot spread tries across them."""

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_kind_key", "kind", "key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # "name" | "client"
    key: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
