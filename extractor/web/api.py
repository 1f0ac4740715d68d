"""The JSON API (SPEC "Web application"): every route but POST /api/token needs a bearer token."""

from __future__ import annotations

import json
from datetime import UTC, date
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from extractor import store
from extractor.render import fhir
from extractor.schemas import Review

from .deps import api_user, client, commit, db, require, state

router = APIRouter(prefix="/api")
Db = Annotated[Session, Depends(db)]
ApiUser = Annotated[store.User, Depends(api_user)]


@router.post("/token")
def token(request: Request, session: Db, username: Annotated[str, Form()], password: Annotated[str, Form()]):
    limiter = state(request).limiter
    who = client(request)
    if limiter.blocked(who, username):
        raise HTTPException(429, "too many failed logins; wait a few minutes")
    user = store.authenticate(session, username, password)
    if user is None:
        limiter.failed(who, username)
        store.audit(session, None, "login_failed", detail=f"api user={store.display_name(username)}", client=who)
        commit(request, session)
        raise HTTPException(401, "wrong user name or password", headers={"WWW-Authenticate": "Bearer"})
    limiter.succeeded(who, username)
    secret, _ = store.issue_token(session, user, "api", state(request).settings.token_hours)
    store.audit(session, user, "token_issued", client=who)
    commit(request, session)
    return {"access_token": secret, "token_type": "bearer"}


async def read_uploads(request: Request, files: list[UploadFile]) -> list[tuple[str, bytes]]:
    settings = state(request).settings
    if not files:
        raise HTTPException(422, "files: at least one file is required")
    if len(files) > settings.max_upload_files:
        raise HTTPException(413, f"at most {settings.max_upload_files} files per case")
    out = []
    for f in files:
        data = await f.read(settings.max_upload_bytes + 1)
        if len(data) > settings.max_upload_bytes:
            raise HTTPException(413, f"upload larger than the limit of {settings.max_upload_bytes} bytes")
        name = store.display_name(f.filename)
        if store.sniff(data) is None:
            raise HTTPException(415, f"{name}: not a PDF or a text file")
        out.append((name, data))
    return out


def create(request: Request, session: Session, user: store.User, files, request_date: str | None) -> dict:
    when = None
    if request_date:
        try:
            when = date.fromisoformat(request_date)
        except ValueError:
            raise HTTPException(422, "request_date: not a date (YYYY-MM-DD)") from None
    case, dups = store.create_case(session, user, files, state(request).data_dir, when)
    store.audit(session, user, "case_uploaded", case_id=case.id, detail=f"{len(files)} files", client=client(request))
    commit(request, session)
    return {
        "id": case.id,
        "status": case.status,
        "duplicates": [{"name": d.name, "case_id": d.case_id} for d in dups],
    }


@router.post("/cases", status_code=201)
async def upload(
    request: Request,
    session: Db,
    user: ApiUser,
    files: Annotated[list[UploadFile], File()],
    request_date: Annotated[str | None, Form()] = None,
):
    require(user, "intake", "admin")
    return create(request, session, user, await read_uploads(request, files), request_date)


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
    }


@router.get("/cases")
def list_cases(
    session: Db,
    user: ApiUser,
    status: Literal["queued", "processing", "ready", "failed"] | None = None,
    recommendation: str | None = None,
    decided: bool | None = None,
    sort: Literal["oldest", "newest", "recommendation", "member"] = "oldest",
):
    cases = store.list_cases(session, status=status, recommendation=recommendation, decided=decided, sort=sort)
    return {"cases": [case_summary(c) for c in cases]}


def load_case(session: Session, case_id: str) -> store.Case:
    case = store.get_case(session, case_id)
    if case is None:
        raise HTTPException(404, "no such case")
    return case


@router.get("/cases/{case_id}")
def get_case(request: Request, case_id: str, session: Db, user: ApiUser):
    case = load_case(session, case_id)
    review = store.load_review_json(session, case.id) if case.status == "ready" else None
    store.audit(session, user, "case_viewed", case_id=case.id, detail="api", client=client(request))
    commit(request, session)
    head = {"id": case.id, "status": case.status, "error": case.error, "decision": case.decision}
    body = json.dumps(head)[:-1] + ', "review": ' + (review or "null") + "}"  # the stored JSON as it is
    return Response(body, media_type="application/json")


def ready_review_row(session: Session, case: store.Case) -> store.ReviewRow:
    """The stored review of a ready case; 409 (as for a decision) while it is not ready."""
    row = session.get(store.ReviewRow, case.id) if case.status == "ready" else None
    if row is None:
        raise HTTPException(409, f"case is {case.status}, not ready")
    return row


def fhir_bundle(request: Request, session: Session, case: store.Case, document_url: str) -> dict:
    """The case's FHIR Bundle (extractor.fhir.bundle) with each stored document's size, SHA-1, type and the
    authenticated route that serves it (`document_url` names that route), and the latest reviewer's
    rationale, if any, as the answer (the draft kept beside it). The returned dict is shared: do not change it."""
    row = ready_review_row(session, case)
    reviewed = store.reviewed_rationale(session, case.id)
    # building and validating a Bundle costs tens of ms of CPU; it changes only with these
    key = (case.id, row.created_at, reviewed and reviewed.id, str(request.base_url), document_url)
    cache = state(request).bundles
    cached = cache.get(key)
    if cached is not None:
        return cached
    review = Review.model_validate_json(row.review_json)
    data_dir = state(request).data_dir
    stored = {d.name: d for d in case.documents}
    meta = {}
    for info in review.documents:
        doc = stored.get(info.source or info.name)
        if doc is None:
            continue
        kind = "application/pdf" if doc.kind == "pdf" else "text/plain"
        found = fhir.DocumentMeta(content_type=kind)
        if doc.name == info.name:  # a packet part gets only its file's url: the file's size and hash are not its own
            try:
                found = fhir.document_meta_from_file(store.stored_path(data_dir, doc))
            except store.StoreError:
                pass
        meta[info.name] = found.model_copy(
            update={"content_type": kind, "url": str(request.url_for(document_url, case_id=case.id, doc_id=doc.id))}
        )
    bundle = fhir.bundle(
        review,
        meta,
        case_id=str(case.id),
        authored=row.created_at.replace(tzinfo=UTC),
        reviewed_rationale=reviewed.rationale if reviewed else None,
        reviewer=reviewed.user.name if reviewed else None,
    )
    cache.put(key, bundle)
    return bundle


FHIR_JSON = "application/fhir+json"


@router.get("/cases/{case_id}/fhir")
def get_fhir(request: Request, case_id: str, session: Db, user: ApiUser):
    case = load_case(session, case_id)
    bundle = fhir_bundle(request, session, case, "api_document")
    store.audit(session, user, "case_viewed", case_id=case.id, detail="api fhir", client=client(request))
    commit(request, session)
    return Response(json.dumps(bundle, ensure_ascii=False), media_type=FHIR_JSON)


def document_response(request: Request, session: Session, user: store.User, case: store.Case, doc_id: int, how: str):
    """A stored upload as a download (never from a static path), audited."""
    doc = next((d for d in case.documents if d.id == doc_id), None)
    if doc is None:
        raise HTTPException(404, "no such document in this case")
    data = store.stored_path(state(request).data_dir, doc).read_bytes()
    store.audit(
        session,
        user,
        "document_downloaded",
        case_id=case.id,
        document_id=doc.id,
        detail=f"{doc.name}{how}"[:500],
        client=client(request),
    )
    commit(request, session)
    media = "application/pdf" if doc.kind == "pdf" else "application/octet-stream"
    ascii_name = doc.name.encode("ascii", "replace").decode().replace('"', "_")
    return Response(data, media_type=media, headers={"content-disposition": f'attachment; filename="{ascii_name}"'})


@router.get("/cases/{case_id}/documents/{doc_id}", name="api_document")
def api_document(request: Request, case_id: str, doc_id: int, session: Db, user: ApiUser):
    return document_response(request, session, user, load_case(session, case_id), doc_id, " (api)")


class DecisionIn(BaseModel):
    decision: Literal["approve", "refer_to_physician", "request_information"]
    note: str = Field(default="", max_length=20000)
    overrides: dict[str, str] = {}
    rationale: str | None = Field(default=None, max_length=20000)


@router.post("/cases/{case_id}/decision", status_code=201)
def decide(request: Request, case_id: str, body: DecisionIn, session: Db, user: ApiUser):
    require(user, "reviewer", "admin")
    case = load_case(session, case_id)
    return record(request, session, case, user, body.decision, body.note, body.overrides, body.rationale)


def decision_dict(d: store.Decision) -> dict:
    return {
        "id": d.id,
        "case_id": d.case_id,
        "decision": d.decision,
        "note": d.note,
        "rationale": d.rationale,
        "by": d.user.name,
        "at": d.created_at.isoformat(timespec="seconds") + "Z",
        "overrides": [
            {"indication": o.indication_id, "prefilled": o.prefilled_status, "status": o.status} for o in d.overrides
        ],
    }


def record(
    request,
    session: Session,
    case,
    user,
    decision: str,
    note: str,
    overrides: dict[str, str],
    rationale: str | None = None,
) -> dict:
    try:
        row = store.record_decision(session, case, user, decision, note, overrides, rationale)
    except store.StoreError as exc:
        raise HTTPException(409 if "not ready" in str(exc) else 422, str(exc)) from None
    draft = json.loads(store.load_review_json(session, case.id) or "{}").get("rationale")
    kept = "none" if row.rationale is None else ("as drafted" if row.rationale == draft else "edited")
    store.audit(
        session,
        user,
        "decision_recorded",
        case_id=case.id,
        detail=f"{decision}; overrides: "
        + (", ".join(f"{o.indication_id}={o.status}" for o in row.overrides) or "none")
        + f"; rationale: {kept}",
        client=client(request),
    )
    commit(request, session)
    return decision_dict(row)


@router.get("/cases/{case_id}/decisions")
def decisions(case_id: str, session: Db, user: ApiUser):
    load_case(session, case_id)
    return {"decisions": [decision_dict(d) for d in store.decisions_for(session, case_id)]}


class UserIn(BaseModel):
    name: str
    role: Literal["intake", "reviewer", "admin"]
    password: str = Field(min_length=8)


@router.get("/users")
def users(session: Db, user: ApiUser):
    require(user, "admin")
    from sqlalchemy import select

    return {
        "users": [
            {"name": u.name, "role": u.role, "active": u.active}
            for u in session.scalars(select(store.User).order_by(store.User.name))
        ]
    }


@router.post("/users", status_code=201)
def add_user(request: Request, body: UserIn, session: Db, user: ApiUser):
    require(user, "admin")
    try:
        new = store.add_user(session, body.name, body.role, body.password)
    except store.StoreError as exc:
        raise HTTPException(409 if "exists" in str(exc) else 422, str(exc)) from None
    store.audit(session, user, "user_added", detail=f"{new.name} ({new.role})", client=client(request))
    commit(request, session)
    return {"name": new.name, "role": new.role}


class UserChange(BaseModel):
    active: bool


@router.patch("/users/{name}")
def change_user(request: Request, name: str, body: UserChange, session: Db, user: ApiUser):
    require(user, "admin")
    return set_active(request, session, user, name, body.active)


def set_active(request: Request, session: Session, admin: store.User, name: str, active: bool) -> dict:
    if name == admin.name and not active:
        raise HTTPException(422, "an admin cannot deactivate themselves")
    try:
        target = store.set_active(session, name, active)
    except store.StoreError as exc:
        raise HTTPException(404, str(exc)) from None
    store.audit(session, admin, "user_activated" if active else "user_deactivated", detail=name, client=client(request))
    commit(request, session)
    return {"name": target.name, "role": target.role, "active": target.active}


def audit_rows(session: Session, case_id: str | None, action: str | None) -> list[dict]:
    return [
        {
            "id": e.id,
            "at": e.at.isoformat(timespec="seconds") + "Z",
            "user": e.username,
            "action": e.action,
            "case_id": e.case_id,
            "document_id": e.document_id,
            "detail": e.detail,
            "client": e.client,
        }
        for e in store.audit_events(session, case_id=case_id, action=action)
    ]


@router.get("/audit")
def audit(session: Db, user: ApiUser, case_id: str | None = None, action: str | None = None):
    require(user, "admin")
    return {"events": audit_rows(session, case_id, action)}


def audit_csv_response(request: Request, session: Session, user: store.User) -> StreamingResponse:
    store.audit(session, user, "audit_exported", client=client(request))
    commit(request, session)
    factory = state(request).factory

    def rows():
        with factory() as s:
            yield from store.audit_csv(s)

    return StreamingResponse(
        rows(), media_type="text/csv", headers={"content-disposition": 'attachment; filename="audit.csv"'}
    )


@router.get("/audit.csv")
def audit_export(request: Request, session: Db, user: ApiUser):
    require(user, "admin")
    return audit_csv_response(request, session, user)
