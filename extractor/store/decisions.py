"""A reviewer's decisions and the rationale they reviewed."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from extractor import clock
from extractor.schemas import COVERED_STATUSES, EXPERIMENTAL_STATUSES

from .cases import load_review_json
from .tables import DECISIONS, Case, Decision, Override, StoreError, User, utcnow


def record_decision(
    session: Session,
    case: Case,
    user: User,
    decision: str,
    note: str = "",
    overrides: dict[str, str] | None = None,
    rationale: str | None = None,
    *,
    at: datetime | None = None,
) -> Decision:
    """A reviewer's decision on a ready case, with any indication statuses changed and the rationale they
    sent (stored as sent; the drafted one stays untouched in the review); never a denial. Every decision is a
    row of its own, so a case sent back with request_information and decided later keeps both; the case's
    `decided_at` is its latest decision's time (`at`, now unless given)."""
    if user.role not in ("reviewer", "admin"):
        raise PermissionError("only reviewers decide")
    if decision not in DECISIONS:
        raise StoreError(f"decision must be one of {', '.join(DECISIONS)}")
    if case.status != "ready":
        raise StoreError(f"case is {case.status}, not ready")
    review = json.loads(load_review_json(session, case.id) or "{}")
    prefilled = {i["id"]: (i["kind"], i["status"]) for i in review.get("indications", [])}
    if rationale is not None:
        rationale = rationale.replace("\r\n", "\n").strip() or None
    when = clock.naive_utc(at) if at else utcnow()
    row = Decision(
        case_id=case.id, user_id=user.id, decision=decision, note=note or "", rationale=rationale, created_at=when
    )
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
    case.decided_at = when
    case.updated_at = utcnow()
    session.flush()
    return row


def decisions_for(session: Session, case_id: str) -> list[Decision]:
    return list(
        session.scalars(select(Decision).where(Decision.case_id == case_id).order_by(Decision.created_at, Decision.id))
    )


def reviewed_rationale(session: Session, case_id: str) -> Decision | None:
    """The latest decision that carries a reviewer's rationale (what the FHIR bundle answers with)."""
    return session.scalar(
        select(Decision)
        .where(Decision.case_id == case_id, Decision.rationale.is_not(None))
        .order_by(Decision.created_at.desc(), Decision.id.desc())
        .limit(1)
    )


def case_history(session: Session, case: Case) -> list[Decision]:
    """decisions_for a loaded case, without a query when it was never decided: `decided_at` is set with every
    decision (record_decision; migration 0005 for the decisions before it), so None means there is none."""
    return decisions_for(session, case.id) if case.decided_at is not None else []


def latest_rationale(session: Session, case: Case) -> Decision | None:
    """reviewed_rationale of a loaded case, without a query when it was never decided (see `case_history`)."""
    return reviewed_rationale(session, case.id) if case.decided_at is not None else None
