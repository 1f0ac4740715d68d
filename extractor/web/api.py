"""The JSON API (SPEC "Web application"): every route but POST /api/token needs a bearer token.

Each route parses its input, checks the role and calls `actions`, the same operations the HTML pages call."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from extractor import store
from extractor.schemas import CaseStatus, DecisionOutcome, Role

from . import actions, policy
from .deps import api_reader, api_user, client, commit, db, require, state

router = APIRouter(prefix="/api")
Db = Annotated[Session, Depends(db)]
ApiUser = Annotated[store.User, Depends(api_user)]


@router.post("/token")
def token(request: Request, session: Db, username: Annotated[str, Form()], password: Annotated[str, Form()]):
    try:
        secret = actions.log_in(request, session, username, password, "api")
    except actions.TooManyLogins:
        raise HTTPException(429, "too many failed logins; wait a few minutes") from None
    if secret is None:
        raise HTTPException(401, "wrong user name or password", headers={"WWW-Authenticate": "Bearer"})
    return {"access_token": secret, "token_type": "bearer"}


@router.delete("/token", status_code=204)
def revoke_token(request: Request, session: Db, user: ApiUser) -> Response:
    """Revoke the presented token (a client logging out); other tokens of the user stay valid."""
    actions.revoke_token(request, session, user)
    return Response(status_code=204)


@router.post("/cases", status_code=201)
async def upload(request: Request, session: Db, user: ApiUser):
    """Multipart: one or more `files`, optional `request_date`, `urgency`, `received_at`; the body is read after
    the token and role, and a bad clock value is refused before the case is made."""
    require(user, "intake", "admin")
    files, fields = await actions.read_upload_form(request)
    urgency, received_at = fields.get("urgency") or None, fields.get("received_at") or None
    actions.clock_fields(urgency, received_at)
    return actions.create_case(
        request, session, user, files, fields.get("request_date") or None, urgency=urgency, received_at=received_at
    )


def case_summary(case: store.Case) -> dict:
    return {
        "id": case.id,
        "status": case.status,
        "created_at": case.created_at.isoformat(timespec="seconds") + "Z",
        "recommendation": case.recommendation,
        "member_id": case.member_id,
        "cpt_codes": case.cpt_codes.split(",") if case.cpt_codes else [],
        "decision": case.decision,
        "error": case.error,
        **actions.case_clock(case),
    }


@router.get("/cases")
def list_cases(
    request: Request,
    session: Db,
    user: ApiUser,
    status: CaseStatus | None = None,
    recommendation: str | None = None,
    decided: bool | None = None,
    sort: Literal["oldest", "newest", "recommendation", "member", "due"] = "oldest",
):
    if sort == "due":  # SPEC: undecided cases, soonest due first
        decided = False
    cases = store.list_cases(
        session,
        status=status,
        recommendation=recommendation,
        decided=decided,
        sort=sort,
        created_by=policy.owner_scope(user),
    )
    filters = f"api status={status} recommendation={recommendation} decided={decided} sort={sort}"
    actions.listed(request, session, user, filters, len(cases))
    return {"cases": [case_summary(c) for c in cases]}


@router.get("/cases/{case_id}")
def get_case(request: Request, case_id: str):
    """The most frequent read, in one worker-thread hop from the event loop with no dependency to solve: its
    own session, the token checked by `api_reader` (api_user's rule in one Core query), the case and review
    in another, the audit row in the read's commit."""
    with state(request).factory() as session:
        user = api_reader(request, session)
        case, review = policy.readable_review(session, user, case_id)
        actions.viewed(request, session, user, case, "api")
    head = {"id": case.id, "status": case.status, "error": case.error, "decision": case.decision,
            **actions.case_clock(case)}  # fmt: skip
    body = json.dumps(head)[:-1] + ', "review": ' + (review or "null") + "}"  # the stored JSON as it is
    return Response(body, media_type="application/json")


@router.delete("/cases/{case_id}")
def purge(request: Request, case_id: str, session: Db, user: ApiUser):
    """An admin deletes a case and its stored files for good (audited)."""
    require(user, "admin")
    return actions.purge_case(request, session, user, case_id)


@router.get("/cases/{case_id}/fhir")
def get_fhir(request: Request, case_id: str, session: Db, user: ApiUser):
    case = policy.readable_case(session, user, case_id, "bundle")
    bundle = actions.fhir_bundle(request, session, case, "api_document")
    actions.viewed(request, session, user, case, "api fhir")
    return Response(json.dumps(bundle, ensure_ascii=False), media_type=actions.FHIR_JSON)


@router.get("/cases/{case_id}/documents/{doc_id}", name="api_document")
def api_document(request: Request, case_id: str, doc_id: int, session: Db, user: ApiUser):
    case = policy.readable_case(session, user, case_id, "documents")
    return actions.document_response(request, session, user, case, doc_id, " (api)")


class DecisionIn(BaseModel):
    decision: DecisionOutcome
    note: str = Field(default="", max_length=20000)
    overrides: dict[str, str] = {}
    rationale: str | None = Field(default=None, max_length=20000)


@router.post("/cases/{case_id}/decision", status_code=201)
def decide(request: Request, case_id: str, body: DecisionIn, session: Db, user: ApiUser):
    require(user, "reviewer", "admin")
    case = policy.readable_case(session, user, case_id, "decisions")
    return actions.record_decision(
        request, session, case, user, body.decision, body.note, body.overrides, body.rationale
    )


@router.get("/cases/{case_id}/decisions")
def decisions(request: Request, case_id: str, session: Db, user: ApiUser):
    case = policy.readable_case(session, user, case_id, "decisions")
    rows = [actions.decision_dict(d) for d in store.decisions_for(session, case_id)]
    store.audit(session, user, "decisions_viewed", case_id=case.id, detail=f"{len(rows)} decisions",
                client=client(request))  # fmt: skip
    commit(request, session)
    return {"decisions": rows}


class UserIn(BaseModel):
    name: str
    role: Role
    password: str = Field(min_length=8)


@router.get("/users")
def users(session: Db, user: ApiUser):
    require(user, "admin")
    return {"users": [{"name": u.name, "role": u.role, "active": u.active} for u in actions.all_users(session)]}


@router.post("/users", status_code=201)
def add_user(request: Request, body: UserIn, session: Db, user: ApiUser):
    require(user, "admin")
    try:
        new = actions.add_user(request, session, user, body.name, body.role, body.password)
    except store.StoreError as exc:
        raise HTTPException(409 if "exists" in str(exc) else 422, str(exc)) from None
    return {"name": new.name, "role": new.role}


class UserChange(BaseModel):
    active: bool | None = None
    password: str | None = Field(default=None, min_length=8, max_length=store.MAX_PASSWORD)


@router.patch("/users/{name}")
def change_user(request: Request, name: str, body: UserChange, session: Db, user: ApiUser):
    """(De)activate a user or set their password; either ends every session and token they had."""
    require(user, "admin")
    if body.active is None and body.password is None:
        raise HTTPException(422, "send active, password or both")
    if body.password is not None:
        actions.change_password(request, session, user, name, body.password)
    if body.active is not None:
        return actions.set_active(request, session, user, name, body.active)
    return actions.user_dict(actions.find_user(session, name))


@router.get("/audit")
def audit(session: Db, user: ApiUser, case_id: str | None = None, action: str | None = None):
    require(user, "admin")
    return {"events": actions.audit_rows(session, case_id, action)}


@router.get("/audit.csv")
def audit_export(request: Request, session: Db, user: ApiUser):
    require(user, "admin")
    return actions.audit_csv_response(request, session, user)
