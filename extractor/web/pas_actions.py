"""What the Da Vinci PAS routes do (`fhir.py`): a `$submit` becomes a case through the same intake as an
upload (limits, content sniffing, queue, worker, sandbox, audit); an `$inquire` answers with the case's
current ClaimResponse, built from its latest decision. Scoped to the submitter like every intake read."""

from __future__ import annotations

import json
from datetime import UTC

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session

from extractor import store
from extractor.errors import PasRequestError
from extractor.render import fhir
from extractor.render.fhir import pas

from . import policy
from .actions import check_files, commit_or_remove
from .deps import client, commit, state


def _decision(session: Session, case_id: str) -> pas.PasDecision | None:
    decisions = store.decisions_for(session, case_id)
    if not decisions:
        return None
    last = decisions[-1]
    return pas.PasDecision(decision=last.decision, reviewer=last.user.name, at=last.created_at.replace(tzinfo=UTC))


def _missing(session: Session, case_id: str) -> list[pas.MissingDocument]:
    """The checklist items the review found missing: what a request for information asks for."""
    review = json.loads(store.load_review_json(session, case_id) or "{}")
    return [
        pas.MissingDocument(id=d["id"], description=d.get("description") or d["id"])
        for d in review.get("documentation", [])
        if d.get("status") != "present"
    ]


def response_bundle(session: Session, row: store.PasRequest, inquiry: bool = False) -> dict:
    """The PAS response Bundle of a PAS case as it stands now (pended until a reviewer decides)."""
    stored = json.loads(row.claim_json)
    decision = _decision(session, row.case_id)
    missing = _missing(session, row.case_id) if decision and decision.decision == "request_information" else []
    return pas.claim_response_bundle(
        stored["claim"], stored["parties"], row.case_id, row.received_at.replace(tzinfo=UTC), decision, missing,
        inquiry=inquiry,
    )  # fmt: skip


def submit(request: Request, session: Session, user: store.User, body: object) -> dict:
    """Validate the PAS request, queue its documents as a case and answer at once with the pended response."""
    sub = fhir.parse_submit(body)
    try:
        files = check_files(request, [(d.name, d.data) for d in sub.documents])
    except HTTPException as exc:
        if exc.status_code != 415:
            raise
        raise PasRequestError(f"{exc.detail} (its content is neither, whatever its contentType says)",
                              "DocumentReference.content.attachment.data") from None  # fmt: skip
    received = store.utcnow()  # the clock starts at submission; a PAS "stat" priority is an expedited request
    urgency = "expedited" if sub.priority == "stat" else "standard"
    case, _ = store.create_case(
        session, user, files, state(request).data_dir, None, source="pas", urgency=urgency, received_at=received
    )
    row = store.record_pas_request(
        session,
        case,
        user,
        claim_system=sub.claim_system,
        claim_value=sub.claim_value,
        member_id=sub.member_id,
        provider=sub.provider,
        priority=sub.priority,
        expedited=sub.priority == "stat",
        received_at=received,
        claim_json=json.dumps({"claim": sub.claim, "parties": sub.parties}),
    )
    store.audit(
        session, user, "case_uploaded", case_id=case.id,
        detail=f"{len(files)} files; PAS Claim {sub.claim_value}"[:500], client=client(request),
    )  # fmt: skip
    commit_or_remove(request, session, case)
    return response_bundle(session, row)


def inquire(request: Request, session: Session, user: store.User, body: object) -> dict:
    """The current ClaimResponse of the caller's request with this Claim identifier (and member id and
    provider, when the inquiry names them); 404 when there is none."""
    sub = fhir.parse_inquiry(body)
    owner = policy.owner_scope(user)
    row = store.find_pas_request(session, owner, sub.claim_system, sub.claim_value, sub.member_id, sub.provider)
    if row is None:
        raise HTTPException(404, f"no prior-authorization request with Claim identifier {sub.claim_value!r} "
                                 "from this submitter")  # fmt: skip
    bundle = response_bundle(session, row, inquiry=True)
    store.audit(session, user, "case_viewed", case_id=row.case_id, detail="pas inquire", client=client(request))
    commit(request, session)
    return bundle
