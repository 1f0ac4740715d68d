"""The QA sample: a reproducible share of decided cases goes to a second reviewer, whose decision is kept
beside the first so inter-rater agreement can be reported (extractor.metrics)."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from extractor import clock

from .tables import DECISIONS, Case, Decision, QaReview, StoreError, User, utcnow


def in_sample(case_id: str, share: float, seed: str) -> bool:
    """Whether a case belongs to the QA sample: a hash of seed and case id, so the draw is random over cases
    yet the same on every run and every server (no state, no order dependence)."""
    if share <= 0:
        return False
    digest = hashlib.sha256(f"{seed}\0{case_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def sample_decision(session: Session, case: Case, decision: Decision, share: float, seed: str) -> QaReview | None:
    """After a decision: a sampled case gets (or, while its second review is pending, moves to) this decision
    as the one a second reviewer checks."""
    if not in_sample(case.id, share, seed):
        return None
    row = session.scalar(select(QaReview).where(QaReview.case_id == case.id))
    if row is None:
        row = QaReview(case_id=case.id, first_decision_id=decision.id, sampled_at=utcnow())
        session.add(row)
    elif row.reviewed_at is None:
        row.first_decision_id = decision.id
    session.flush()
    return row


def qa_queue(session: Session, user: User, pending: bool = True) -> list[QaReview]:
    """Second reviews waiting (or done) for this user: never a case they decided first."""
    query = select(QaReview).join(Decision, QaReview.first_decision_id == Decision.id)
    query = query.where(Decision.user_id != user.id)
    query = query.where(QaReview.reviewed_at.is_(None) if pending else QaReview.reviewed_at.is_not(None))
    return list(session.scalars(query.order_by(QaReview.sampled_at, QaReview.id)))


def record_qa_review(
    session: Session, qa: QaReview, user: User, decision: str, note: str = "", at: datetime | None = None
) -> QaReview:
    """A second reviewer's decision on a sampled case; the first decider may not review their own."""
    if user.role not in ("reviewer", "admin"):
        raise PermissionError("only reviewers review")
    if decision not in DECISIONS:
        raise StoreError(f"decision must be one of {', '.join(DECISIONS)}")
    if qa.first.user_id == user.id:
        raise StoreError("a second review needs another reviewer than the first")
    if qa.reviewed_at is not None:
        raise StoreError("this case's second review is already recorded")
    qa.reviewer_id, qa.decision, qa.note = user.id, decision, note or ""
    qa.reviewed_at = clock.naive_utc(at) if at else utcnow()
    session.flush()
    return qa


def qa_reviews(session: Session, start: datetime | None = None, end: datetime | None = None) -> list[QaReview]:
    """Completed second reviews, optionally of cases received in [start, end)."""
    query = select(QaReview).join(Case, QaReview.case_id == Case.id).where(QaReview.reviewed_at.is_not(None))
    if start is not None:
        query = query.where(Case.received_at >= start)
    if end is not None:
        query = query.where(Case.received_at < end)
    return list(session.scalars(query.order_by(QaReview.id)))
