"""What the web app does, once for both fronts: the JSON API (`api.py`) and the HTML pages (`pages.py`).

Routes stay thin: they parse their input (a JSON body, a form), check the role, call one action here and shape
the answer (JSON, a redirect, a page). Actions are plain functions over the request's app state, the database
session and the user; they audit and commit what they change and raise `HTTPException` (or `store.StoreError`
where the two fronts answer differently), so an upload, a decision or an audit export behaves the same
whichever front it came through. The two route modules import this one and never each other.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Literal

from fastapi import HTTPException, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload

from extractor import clock, store
from extractor.errors import ServerBusy
from extractor.render import fhir
from extractor.schemas import Review

from .deps import client, commit, state

FHIR_JSON = "application/fhir+json"


class TooManyLogins(Exception):
    """Too many failed logins from this client or for this name: each front answers 429 in its own way."""


@contextmanager
def hashing(request: Request) -> Iterator[None]:
    """A slot of the bounded password-hashing pool, else 503 (retry in a second)."""
    try:
        with state(request).hashing.slot():
            yield
    except ServerBusy:
        raise HTTPException(503, "the server is busy; try again in a moment", headers={"Retry-After": "1"}) from None


# --- login ----------------------------------------------------------------------------------------

LOGINS = {  # kind -> (audit detail of a failure, audit action of a success, settings field of the lifetime)
    "api": ("api user={}", "token_issued", "token_hours"),
    "session": ("user={}", "login", "session_hours"),
}


def log_in(request: Request, session: Session, username: str, password: str, kind: Literal["api", "session"]):
    """A new secret (API token or session cookie) for a right password, None for a wrong one; both audited.

    Raises TooManyLogins before checking the password once the login limiter blocks this client or name."""
    limiter = state(request).limiter
    who = client(request)
    failed_detail, action, hours = LOGINS[kind]
    if limiter.blocked(who, username):
        raise TooManyLogins
    if len(username) > store.MAX_NAME or len(password) > store.MAX_PASSWORD:  # refused before any hashing
        limiter.failed(who, username)
        store.audit(session, None, "login_failed", detail=failed_detail.format("(too long)"), client=who)
        commit(request, session)
        return None
    with hashing(request):
        user = store.authenticate(session, username, password)
    if user is None:
        limiter.failed(who, username)
        store.audit(
            session, None, "login_failed", detail=failed_detail.format(store.display_name(username)), client=who
        )
        commit(request, session)
        return None
    limiter.succeeded(who, username)
    secret, _ = store.issue_token(session, user, kind, getattr(state(request).settings, hours))
    store.audit(session, user, action, client=who)
    commit(request, session)
    return secret


# --- cases ----------------------------------------------------------------------------------------


async def read_upload_form(request: Request) -> tuple[list[tuple[str, bytes]], dict[str, str]]:
    """The multipart body of an upload, read only now: the routes call this after the credentials and the role
    were checked, so an anonymous client never makes the server parse a body. The files as (display name,
    bytes), refusing too many, too large or neither PDF nor text, and the text fields."""
    settings = state(request).settings
    async with request.form(max_files=settings.max_upload_files + 1, max_fields=20) as form:
        uploads = [v for k, v in form.multi_items() if k == "files" and isinstance(v, StarletteUpload)]
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        if not uploads:
            raise HTTPException(422, "files: at least one file is required")
        if len(uploads) > settings.max_upload_files:
            raise HTTPException(413, f"at most {settings.max_upload_files} files per case")
        files = [(f.filename or "", await f.read(settings.max_upload_bytes + 1)) for f in uploads]
    return check_files(request, files), fields


def check_files(request: Request, files: list[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    """The intake limits of every channel (upload, PAS): count, size, and content that is PDF or text."""
    settings = state(request).settings
    if len(files) > settings.max_upload_files:
        raise HTTPException(413, f"at most {settings.max_upload_files} files per case")
    out = []
    for raw_name, data in files:
        if len(data) > settings.max_upload_bytes:
            raise HTTPException(413, f"upload larger than the limit of {settings.max_upload_bytes} bytes")
        name = store.display_name(raw_name)
        if store.sniff(data) is None:
            raise HTTPException(415, f"{name}: not a PDF or a text file")
        out.append((name, data))
    return out


def clock_fields(urgency: str | None, received_at: str | None) -> tuple[str | None, datetime | None]:
    """Intake's optional urgency and receipt time, checked (400 for a bad one: it is the caller's input)."""
    level = (urgency or "").strip().lower() or None
    if level is not None and level not in clock.URGENCIES:
        raise HTTPException(400, f"urgency: must be one of {', '.join(clock.URGENCIES)}")
    when = None
    if received_at and received_at.strip():
        try:
            when = clock.parse_received_at(received_at)
        except ValueError:
            raise HTTPException(400, "received_at: not a date and time (ISO 8601, e.g. 2026-12-03T14:05:00Z)") from None
        if when > store.utcnow() + timedelta(minutes=5):
            raise HTTPException(400, "received_at: in the future")
    return level, when


def create_case(
    request: Request,
    session: Session,
    user: store.User,
    files: list[tuple[str, bytes]],
    request_date: str | None,
    *,
    urgency: str | None = None,
    received_at: str | None = None,
) -> dict:
    """Queue a case of the uploaded files; its id, status, clock and the files already seen in other cases."""
    when = None
    if request_date:
        try:
            when = date.fromisoformat(request_date)
        except ValueError:
            raise HTTPException(422, "request_date: not a date (YYYY-MM-DD)") from None
    level, received = clock_fields(urgency, received_at)
    data_dir = state(request).data_dir
    case, dups = store.create_case(session, user, files, data_dir, when, urgency=level, received_at=received)
    store.audit(session, user, "case_uploaded", case_id=case.id, detail=f"{len(files)} files", client=client(request))
    commit_or_remove(request, session, case)
    return {
        "id": case.id,
        "status": case.status,
        **case_clock(case),
        "duplicates": [{"name": d.name, "case_id": d.case_id} for d in dups],
    }


def case_clock(case: store.Case | store.CaseHead) -> dict:
    """The case's request clock as the API answers it (SPEC "Request clock")."""
    return {
        "urgency": case.urgency,
        "received_at": clock.iso_z(case.received_at),
        "due_at": clock.iso_z(case.due_at),
        "decided_at": clock.iso_z(case.decided_at),
    }


def listed(request: Request, session: Session, user: store.User, what: str, count: int) -> None:
    """Audit that the user saw a list of cases (which list, its filters, how many rows)."""
    store.audit(session, user, "cases_listed", detail=f"{what}; {count} cases"[:500], client=client(request))
    commit(request, session)


def viewed(
    request: Request,
    session: Session,
    user: store.User | store.Reader,
    case: store.Case | store.CaseHead,
    detail: str = "",
) -> None:
    """Audit that the user saw the case (its page, its JSON or its FHIR Bundle)."""
    store.audit(session, user, "case_viewed", case_id=case.id, detail=detail, client=client(request))
    commit(request, session)


def ready_review_row(session: Session, case: store.Case) -> store.ReviewRow:
    """The stored review of a ready case; 409 (as for a decision) while it is not ready."""
    row = session.get(store.ReviewRow, case.id) if case.status == "ready" else None
    if row is None:
        raise HTTPException(409, f"case is {case.status}, not ready")
    return row


def fhir_bundle(request: Request, session: Session, case: store.Case, document_url: str) -> dict:
    """The case's FHIR Bundle (extractor.render.fhir.bundle) with each stored document's size, SHA-1, type and
    the authenticated route that serves it (`document_url` names that route), and the latest reviewer's
    rationale, if any, as the answer (the draft kept beside it). The returned dict is shared: do not change it."""
    row = ready_review_row(session, case)
    reviewed = store.latest_rationale(session, case)
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
            update={"content_type": kind, "url": link(request, document_url, case_id=case.id, doc_id=doc.id)}
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


def commit_or_remove(request: Request, session: Session, case: store.Case) -> None:
    """Commit a new case; if the commit fails, its files written before go too (no orphaned uploads)."""
    names = [d.stored_name for d in case.documents]
    try:
        commit(request, session)
    except BaseException:
        session.rollback()
        store.remove_files(state(request).data_dir, names)
        raise


def purge_case(request: Request, session: Session, admin: store.User, case_id: str) -> dict:
    """Delete a case and its files for good (an admin only), audited; the audit trail of the case stays."""
    try:
        removed = store.purge_case(session, case_id, state(request).data_dir)
    except store.StoreError:
        raise HTTPException(404, "no such case") from None
    store.audit(session, admin, "case_purged", case_id=case_id, detail=f"{removed} files", client=client(request))
    commit(request, session)
    return {"id": case_id, "files_removed": removed}


def link(request: Request, route: str, **params: object) -> str:
    """An absolute link to a route: on `Settings.public_base_url` when it is set (what the users reach, not
    what the request's Host says), else on the request's own URL (its Host checked by the app)."""
    base = state(request).settings.public_base_url
    if base:
        return base.rstrip("/") + str(request.app.url_path_for(route, **params))
    return str(request.url_for(route, **params))


def stored_document(case: store.Case, doc_id: int) -> store.StoredDocument:
    """One of the case's stored files, or 404 (a document id of another case is not found either)."""
    for doc in case.documents:
        if doc.id == doc_id:
            return doc
    raise HTTPException(404, "no such document in this case")


def document_response(request: Request, session: Session, user: store.User, case: store.Case, doc_id: int, how: str):
    """A stored upload as a download (never from a static path), audited."""
    doc = stored_document(case, doc_id)
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


# --- decisions ------------------------------------------------------------------------------------


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


def record_decision(
    request: Request,
    session: Session,
    case: store.Case,
    user: store.User,
    decision: str,
    note: str,
    overrides: dict[str, str],
    rationale: str | None = None,
) -> dict:
    """Record a reviewer's decision (409 while the case is not ready, 422 for a bad override) and audit
    whether the rationale was kept as drafted or edited; the decision as the API returns it."""
    try:
        row = store.record_decision(session, case, user, decision, note, overrides, rationale)
    except store.StoreError as exc:
        raise HTTPException(409 if "not ready" in str(exc) else 422, str(exc)) from None
    settings = state(request).settings
    store.sample_decision(session, case, row, settings.qa_sample_share, settings.qa_seed)
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


# --- users ----------------------------------------------------------------------------------------


def all_users(session: Session) -> list[store.User]:
    return list(session.scalars(select(store.User).order_by(store.User.name)))


def add_user(request: Request, session: Session, admin: store.User, name: str, role: str, password: str) -> store.User:
    """Add a user, audited; raises store.StoreError (name taken, bad role or password) for the route to show."""
    with hashing(request):
        new = store.add_user(session, name, role, password)
    store.audit(session, admin, "user_added", detail=f"{new.name} ({new.role})", client=client(request))
    commit(request, session)
    return new


def user_dict(user: store.User) -> dict:
    return {"name": user.name, "role": user.role, "active": user.active}


def find_user(session: Session, name: str) -> store.User:
    user = session.scalar(select(store.User).where(store.User.name == name))
    if user is None:
        raise HTTPException(404, f"no user {name!r}")
    return user


def set_active(request: Request, session: Session, admin: store.User, name: str, active: bool) -> dict:
    """(De)activate a user, audited; an admin cannot lock themselves out. Either way the user's sessions and
    tokens end (store.set_active)."""
    if name == admin.name and not active:
        raise HTTPException(422, "an admin cannot deactivate themselves")
    try:
        target = store.set_active(session, name, active)
    except store.StoreError as exc:
        raise HTTPException(404, str(exc)) from None
    store.audit(session, admin, "user_activated" if active else "user_deactivated", detail=name, client=client(request))
    commit(request, session)
    return user_dict(target)


def change_password(request: Request, session: Session, admin: store.User, name: str, password: str) -> None:
    """Set a user's password, audited (never the password); every session and token of theirs ends."""
    target = find_user(session, name)
    try:
        with hashing(request):
            store.set_password(session, target, password)
    except store.StoreError as exc:
        raise HTTPException(422, str(exc)) from None
    store.audit(session, admin, "password_changed", detail=name, client=client(request))
    commit(request, session)


def revoke_token(request: Request, session: Session, user: store.User) -> None:
    """Revoke the bearer token of this request, audited."""
    _, _, secret = request.headers.get("authorization", "").partition(" ")
    store.revoke(session, secret.strip(), "api")
    store.audit(session, user, "token_revoked", client=client(request))
    commit(request, session)


# --- audit ----------------------------------------------------------------------------------------


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


def audit_csv_response(request: Request, session: Session, user: store.User) -> StreamingResponse:
    """The whole audit trail as CSV, streamed from its own session; the export itself is audited first."""
    store.audit(session, user, "audit_exported", client=client(request))
    commit(request, session)
    factory = state(request).factory

    def rows():
        with factory() as s:
            yield from store.audit_csv(s)

    return StreamingResponse(
        rows(), media_type="text/csv", headers={"content-disposition": 'attachment; filename="audit.csv"'}
    )
