"""Cases that came in as Da Vinci PAS requests: recorded at `$submit`, found again by `$inquire`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .tables import Case, PasRequest, User


def record_pas_request(
    session: Session,
    case: Case,
    user: User | None,
    *,
    claim_system: str,
    claim_value: str,
    member_id: str | None,
    provider: str | None,
    priority: str | None,
    expedited: bool,
    received_at: datetime,
    claim_json: str,
) -> PasRequest:
    row = PasRequest(
        case_id=case.id,
        claim_system=claim_system[:255],
        claim_value=claim_value[:255],
        member_id=member_id and member_id[:100],
        provider=provider and provider[:255],
        priority=priority and priority[:20],
        expedited=expedited,
        received_at=received_at,
        submitted_by=user.id if user else None,
        claim_json=claim_json,
    )
    session.add(row)
    session.flush()
    return row


def pas_request_of(session: Session, case_id: str) -> PasRequest | None:
    return session.get(PasRequest, case_id)


def find_pas_request(
    session: Session,
    owner: int | None,
    claim_system: str,
    claim_value: str,
    member_id: str | None = None,
    provider: str | None = None,
) -> PasRequest | None:
    """The latest request with this Claim identifier (and, when given, member id and provider: PAS's inquiry
        matches on the subscriber and the requesting provider too); `owner` (the read policy's scope) keeps only
    the requests that user submitted, None searches all."""
    query = select(PasRequest).where(PasRequest.claim_value == claim_value)
    if claim_system:
        query = query.where(PasRequest.claim_system == claim_system)
    if member_id:
        query = query.where(PasRequest.member_id == member_id)
    if provider:
        query = query.where(PasRequest.provider == provider)
    if owner is not None:
        query = query.where(PasRequest.submitted_by == owner)
    return session.scalar(query.order_by(PasRequest.received_at.desc()).limit(1))
