"""Server-rendered pages for intake staff, reviewers and admins (session cookie + CSRF token per form).

The HTML routes only: each checks the CSRF token and the role, calls `actions` (the same operations the JSON API
calls) or `case_view` (what the case page draws) and answers with a page or a redirect."""

from __future__ import annotations

import json
import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from extractor import store
from extractor.schemas import RECOMMENDATIONS

from . import actions, case_view, policy
from .deps import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    PageUser,
    check_csrf,
    client,
    commit,
    db,
    page_user,
    require,
    state,
)
from .templating import templates

router = APIRouter()
Db = Annotated[Session, Depends(db)]
Who = Annotated[PageUser, Depends(page_user)]


def page(request: Request, name: str, who: PageUser | None, status_code: int = 200, **context) -> HTMLResponse:
    context.update(user=who.user if who else None, csrf=who.csrf if who else "")
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "message": message, "user": None, "csrf": ""}, status_code=status
    )


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _safe_next(target: str | None) -> str:
    """Only a local path: a login link must never send the user to another site."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


# --- login ----------------------------------------------------------------------------------------


def _login_page(request: Request, status: int, next: str, message: str | None, token: str = "") -> HTMLResponse:
    """The login form. Its CSRF token is minted here (a cookie the client brought is never echoed back: one an
    attacker planted would become the form's), or after a failed login the one just checked against ours."""
    fresh = not token
    token = token or secrets.token_urlsafe(32)
    response = page(request, "login.html", None, status, login_csrf=token, next=_safe_next(next), message=message)
    if fresh:
        response.set_cookie(
            LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), max_age=3600
        )
    return response


@router.get("/login")
def login_form(request: Request, next: str = "/"):
    return _login_page(request, 200, next, None)


@router.post("/login")
def login(
    request: Request,
    session: Db,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
):
    check_csrf(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE, ""))
    try:
        secret = actions.log_in(request, session, username, password, "session")
    except actions.TooManyLogins:
        return _login_page(request, 429, next, "Too many failed logins. Wait a few minutes and try again.", csrf_token)
    if secret is None:
        return _login_page(request, 401, next, "Wrong user name or password.", csrf_token)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        max_age=int(state(request).settings.session_hours * 3600),
    )
    return response


@router.post("/logout")
def logout(request: Request, session: Db, who: Who, csrf_token: Annotated[str, Form()] = ""):
    check_csrf(csrf_token, who.csrf)
    store.revoke(session, request.cookies.get(SESSION_COOKIE, ""))
    store.audit(session, who.user, "logout", client=client(request))
    commit(request, session)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/")
def home(who: Who):
    return RedirectResponse("/intake" if who.user.role == "intake" else "/queue", status_code=303)


# --- intake ---------------------------------------------------------------------------------------


@router.get("/intake")
def intake(request: Request, session: Db, who: Who, case: str | None = None):
    require(who.user, "intake", "admin")
    cases = store.list_cases(session, sort="newest", limit=100, created_by=policy.owner_scope(who.user))
    uploaded = policy.readable_case(session, who.user, case, "status") if case else None
    actions.listed(request, session, who.user, "intake page", len(cases))
    return page(request, "intake.html", who, cases=cases, uploaded=uploaded, now=store.utcnow())


@router.post("/intake/upload")
async def intake_upload(request: Request, session: Db, who: Who):
    """The upload form (files, csrf_token, request_date, urgency, received_at): read after the session and the
    role are checked."""
    require(who.user, "intake", "admin")
    uploads, fields = await actions.read_upload_form(request)
    check_csrf(fields.get("csrf_token", ""), who.csrf)
    urgency, received_at = fields.get("urgency") or None, fields.get("received_at") or None
    actions.clock_fields(urgency, received_at)
    result = actions.create_case(
        request, session, who.user, uploads, request_date=fields.get("request_date") or None,
        urgency=urgency, received_at=received_at,
    )  # fmt: skip
    if request.headers.get("accept", "").startswith("application/json"):
        return JSONResponse(result, status_code=201)
    return RedirectResponse(f"/intake?case={result['id']}", status_code=303)


@router.get("/intake/statuses")
def intake_statuses(session: Db, who: Who):
    require(who.user, "intake", "admin")
    return {
        c.id: {"status": c.status, "recommendation": c.recommendation, "error": c.error}
        for c in store.list_cases(session, sort="newest", limit=100, created_by=policy.owner_scope(who.user))
    }


# --- reviewer -------------------------------------------------------------------------------------


@router.get("/queue")
def queue(
    request: Request,
    session: Db,
    who: Who,
    recommendation: str = "",
    decided: str = "no",
    sort: str = "due",
    urgency: str = "",
    overdue: str = "",
):
    """Ready cases, by default the undecided ones soonest due first, each with its time left."""
    require(who.user, "reviewer", "admin")
    flag = {"yes": True, "no": False}.get(decided)
    now = store.utcnow()
    cases = store.list_cases(
        session,
        status="ready",
        recommendation=recommendation if recommendation in RECOMMENDATIONS else None,
        decided=flag,
        sort=sort,
        urgency=urgency if urgency in ("expedited", "standard") else None,
        overdue_at=now if overdue == "yes" else None,
    )
    counts = store.count_cases(session)
    actions.listed(request, session, who.user, f"queue recommendation={recommendation} decided={decided}", len(cases))
    return page(
        request,
        "queue.html",
        who,
        cases=cases,
        counts=counts,
        recommendation=recommendation,
        decided=decided,
        sort=sort,
        urgency=urgency,
        overdue=overdue,
        now=now,
        recommendations=RECOMMENDATIONS,
    )


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str, session: Db, who: Who):
    case = policy.readable_case(session, who.user, case_id, "page")
    fragments = case_view.case_fragments(request, session, case)
    history = store.case_history(session, case)
    pas = store.pas_request_of(session, case.id) if case.source == "pas" else None
    actions.viewed(request, session, who.user, case)  # one transaction: the reads, then the audit row, one commit
    return page(
        request,
        "case.html",
        who,
        case=case,
        review=fragments["review"] if fragments else None,
        fragments=fragments,
        history=history,
        pas=pas,
        last_rationale=next((d for d in reversed(history) if d.rationale is not None), None),
        can_decide=who.user.role in ("reviewer", "admin") and case.status == "ready",
        now=store.utcnow(),
    )


@router.post("/cases/{case_id}/decision")
async def case_decision(request: Request, case_id: str, session: Db, who: Who):
    form = await request.form()
    check_csrf(str(form.get("csrf_token", "")), who.csrf)
    require(who.user, "reviewer", "admin")
    case = policy.readable_case(session, who.user, case_id, "decisions")
    overrides = {
        key.removeprefix("override_"): str(value)
        for key, value in form.items()
        if key.startswith("override_") and value
    }
    decision = str(form.get("decision", ""))
    if decision not in store.DECISIONS:
        raise HTTPException(422, "choose a decision")
    rationale = form.get("rationale")
    actions.record_decision(
        request,
        session,
        case,
        who.user,
        decision,
        str(form.get("note", ""))[:20000],
        overrides,
        None if rationale is None else str(rationale)[:20000],
    )
    return RedirectResponse(f"/cases/{case.id}?decided=1#decision", status_code=303)


@router.get("/cases/{case_id}/documents/{doc_id}")
def download(request: Request, case_id: str, doc_id: int, session: Db, who: Who):
    case = policy.readable_case(session, who.user, case_id, "documents")
    return actions.document_response(request, session, who.user, case, doc_id, "")


@router.get("/cases/{case_id}/fhir")
def fhir_download(request: Request, case_id: str, session: Db, who: Who):
    """The case's FHIR Bundle as a file, for a reviewer to hand on; the same Bundle as the API's."""
    case = policy.readable_case(session, who.user, case_id, "bundle")
    bundle = actions.fhir_bundle(request, session, case, "download")
    actions.viewed(request, session, who.user, case, "fhir download")
    return Response(
        json.dumps(bundle, ensure_ascii=False, indent=1),
        media_type=actions.FHIR_JSON,
        headers={"content-disposition": f'attachment; filename="case-{case.id[:8]}-fhir.json"'},
    )


@router.get("/cases/{case_id}/documents/{doc_id}/pages/{number}.png")
def page_image(request: Request, case_id: str, doc_id: int, number: int, session: Db, who: Who):
    case = policy.readable_case(session, who.user, case_id, "documents")
    png = case_view.page_png(request, session, who.user, case, doc_id, number)
    return Response(png, media_type="image/png")


# --- admin ----------------------------------------------------------------------------------------


@router.get("/admin/audit")
def audit_page(request: Request, session: Db, who: Who, case_id: str | None = None, action: str | None = None):
    require(who.user, "admin")
    return page(request, "audit.html", who, events=actions.audit_rows(session, case_id or None, action or None))


@router.get("/admin/audit.csv")
def audit_export(request: Request, session: Db, who: Who):
    require(who.user, "admin")
    return actions.audit_csv_response(request, session, who.user)


@router.get("/admin/users")
def users_page(request: Request, session: Db, who: Who, message: str | None = None):
    require(who.user, "admin")
    return page(request, "users.html", who, users=actions.all_users(session), message=message, roles=store.ROLES)


@router.post("/admin/users")
def users_add(
    request: Request,
    session: Db,
    who: Who,
    name: Annotated[str, Form()],
    role: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
):
    check_csrf(csrf_token, who.csrf)
    require(who.user, "admin")
    try:
        actions.add_user(request, session, who.user, name, role, password)
    except store.StoreError as exc:
        session.rollback()
        users = actions.all_users(session)
        return page(request, "users.html", who, 422, users=users, message=str(exc), roles=store.ROLES)
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{name}/active")
def users_active(
    request: Request,
    name: str,
    session: Db,
    who: Who,
    active: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
):
    check_csrf(csrf_token, who.csrf)
    require(who.user, "admin")
    actions.set_active(request, session, who.user, name, active == "1")
    return RedirectResponse("/admin/users", status_code=303)
