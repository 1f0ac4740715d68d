"""Server-rendered pages for intake staff, reviewers and admins (session cookie + CSRF token per form)."""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import knowledge, store
from ..schemas import RECOMMENDATIONS
from . import api, render
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

router = APIRouter()
templates = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
Db = Annotated[Session, Depends(db)]
Who = Annotated[PageUser, Depends(page_user)]


def _age(when: datetime) -> str:
    seconds = max(0, int((store.utcnow() - when).total_seconds()))
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} d"


templates.env.auto_reload = False  # templates ship inside the package; no stat per include
templates.env.filters["age"] = _age


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


@router.get("/login")
def login_form(request: Request, next: str = "/"):
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = page(request, "login.html", None, login_csrf=token, next=_safe_next(next), message=None)
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), max_age=3600
    )
    return response


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
    st = state(request)
    who = client(request)
    if st.limiter.blocked(who, username):
        return page(
            request,
            "login.html",
            None,
            429,
            login_csrf=csrf_token,
            next=_safe_next(next),
            message="Too many failed logins. Wait a few minutes and try again.",
        )
    user = store.authenticate(session, username, password)
    if user is None:
        st.limiter.failed(who, username)
        store.audit(session, None, "login_failed", detail=f"user={store.display_name(username)}", client=who)
        commit(request, session)
        return page(
            request,
            "login.html",
            None,
            401,
            login_csrf=csrf_token,
            next=_safe_next(next),
            message="Wrong user name or password.",
        )
    st.limiter.succeeded(who, username)
    secret, _ = store.issue_token(session, user, "session", st.settings.session_hours)
    store.audit(session, user, "login", client=who)
    commit(request, session)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        max_age=int(st.settings.session_hours * 3600),
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
    cases = store.list_cases(session, sort="newest", limit=100)
    uploaded = store.get_case(session, case) if case else None
    return page(request, "intake.html", who, cases=cases, uploaded=uploaded)


@router.post("/intake/upload")
async def intake_upload(
    request: Request,
    session: Db,
    who: Who,
    files: Annotated[list[UploadFile], File()],
    csrf_token: Annotated[str, Form()] = "",
    request_date: Annotated[str | None, Form()] = None,
):
    check_csrf(csrf_token, who.csrf)
    require(who.user, "intake", "admin")
    result = api.create(request, session, who.user, await api.read_uploads(request, files), request_date or None)
    if request.headers.get("accept", "").startswith("application/json"):
        return JSONResponse(result, status_code=201)
    return RedirectResponse(f"/intake?case={result['id']}", status_code=303)


@router.get("/intake/statuses")
def intake_statuses(session: Db, who: Who):
    require(who.user, "intake", "admin")
    return {
        c.id: {"status": c.status, "recommendation": c.recommendation, "error": c.error}
        for c in store.list_cases(session, sort="newest", limit=100)
    }


# --- reviewer -------------------------------------------------------------------------------------



@router.get("/queue")
def queue(
    request: Request,
    session: Db,
    who: Who,
    recommendation: str = "",
    decided: str = "no",
    sort: str = "oldest",
):
    require(who.user, "reviewer", "admin")
    flag = {"yes": True, "no": False}.get(decided)
    cases = store.list_cases(
        session,
        status="ready",
        recommendation=recommendation if recommendation in RECOMMENDATIONS else None,
        decided=flag,
        sort=sort,
    )
    counts = store.count_cases(session)
    return page(
        request,
        "queue.html",
        who,
        cases=cases,
        counts=counts,
        recommendation=recommendation,
        decided=decided,
        sort=sort,
        recommendations=RECOMMENDATIONS,
    )


def _reviewer_case(session: Session, who: PageUser, case_id: str) -> store.Case:
    require(who.user, "reviewer", "admin")
    return api.load_case(session, case_id)


def _document(case: store.Case, doc_id: int) -> store.Document:
    for doc in case.documents:
        if doc.id == doc_id:
            return doc
    raise HTTPException(404, "no such document in this case")


def _on_files(case: store.Case, findings: list[dict]) -> list[dict]:
    """Findings placed on the stored files: a split packet's part ("fax.pdf#2") is drawn on its file, its
    offsets moved to where the part starts in the file's stored text (page numbers already count in the file)."""
    where = {}
    for d in case.documents:
        where[d.name] = (d.name, 0)
        for part, offset in (d.parts or {}).items():
            where[part] = (d.name, offset)
    out = []
    for f in findings:
        name, offset = where.get(f["document"], (f["document"], 0))
        if name == f["document"]:
            out.append(f)
        else:
            out.append({**f, "document": name, "part": f["document"], "start": f["start"] + offset,
                        "end": f["end"] + offset})  # fmt: skip
    return out


def review_fragments(case: store.Case, review: dict) -> dict:
    """The reader-independent parts of the case page (review summary, documents with boxes), rendered once."""
    pdf_names = {d.name for d in case.documents if d.kind == "pdf" and d.page_sizes}
    findings = review.get("findings", [])
    marks = render.marks({"findings": _on_files(case, findings)}, pdf_names)
    index = {render.finding_key(f): m for f, m in zip(findings, marks, strict=True)}
    info: dict[str, dict] = {}
    for d in review.get("documents", []):  # a split packet's parts are shown together on their file
        merged = info.setdefault(d.get("source") or d["name"], {"types": [], "warnings": [], "error": None})
        merged["types"] += [d["type"]] if d.get("type") else []
        merged["warnings"] += d.get("warnings", [])
        merged["error"] = merged["error"] or d.get("error")
    docs = []
    for d in case.documents:
        own = [m for m in marks if m.finding["document"] == d.name]
        pages = []
        for number, size in enumerate(d.page_sizes or [], start=1):
            boxes = [m for m in own if m.finding["page"] == number and m.finding.get("bbox")]
            pages.append({"number": number, "width": size[0], "height": size[1], "marks": boxes})
        segments = render.text_segments(d.text, own) if d.text else []
        docs.append({"row": d, "info": info.get(d.name, {}), "pages": pages, "segments": segments})
    context = {
        "case": case,
        "review": review,
        "docs": docs,
        "marks": marks,
        "concepts": knowledge.pipeline_config().concepts,
    }
    context["mark_for"] = lambda f: index.get(render.finding_key(f))
    return {
        "summary": Markup(templates.get_template("_review_summary.html").render(context)),
        "documents": Markup(templates.get_template("_review_documents.html").render(context)),
        "review": {
            "recommendation": review.get("recommendation"),
            "rationale": review.get("rationale", ""),
            "indications": [
                {"id": i["id"], "kind": i["kind"], "status": i["status"]} for i in review.get("indications", [])
            ],
        },
    }


@router.get("/cases/{case_id}")
def case_page(request: Request, case_id: str, session: Db, who: Who):
    case = _reviewer_case(session, who, case_id)
    store.audit(session, who.user, "case_viewed", case_id=case.id, client=client(request))
    commit(request, session)
    stamp = session.scalar(select(store.ReviewRow.created_at).where(store.ReviewRow.case_id == case.id))
    fragments = None
    if stamp is not None:
        cache = state(request).fragments
        fragments = cache.get((case.id, stamp))
        if fragments is None:
            from .worker import fill_views

            fill_views(session, case, state(request).data_dir)
            review = json.loads(store.review_json(session, case.id) or "null")
            fragments = review_fragments(case, review)
            cache.put((case.id, stamp), fragments)
    history = store.decisions_for(session, case.id)
    return page(
        request,
        "case.html",
        who,
        case=case,
        review=fragments["review"] if fragments else None,
        fragments=fragments,
        history=history,
        last_rationale=next((d for d in reversed(history) if d.rationale is not None), None),
        can_decide=who.user.role in ("reviewer", "admin") and case.status == "ready",
    )


@router.post("/cases/{case_id}/decision")
async def case_decision(request: Request, case_id: str, session: Db, who: Who):
    form = await request.form()
    check_csrf(str(form.get("csrf_token", "")), who.csrf)
    case = _reviewer_case(session, who, case_id)
    overrides = {
        key.removeprefix("override_"): str(value)
        for key, value in form.items()
        if key.startswith("override_") and value
    }
    decision = str(form.get("decision", ""))
    if decision not in store.DECISIONS:
        raise HTTPException(422, "choose a decision")
    rationale = form.get("rationale")
    api.record(
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
    case = _reviewer_case(session, who, case_id)
    return api.document_response(request, session, who.user, case, doc_id, "")


@router.get("/cases/{case_id}/fhir")
def fhir_download(request: Request, case_id: str, session: Db, who: Who):
    """The case's FHIR Bundle as a file, for a reviewer to hand on; the same Bundle as the API's."""
    case = _reviewer_case(session, who, case_id)
    bundle = api.fhir_bundle(request, session, case, "download")
    store.audit(session, who.user, "case_viewed", case_id=case.id, detail="fhir download", client=client(request))
    commit(request, session)
    return Response(
        json.dumps(bundle, ensure_ascii=False, indent=1),
        media_type=api.FHIR_JSON,
        headers={"content-disposition": f'attachment; filename="case-{case.id[:8]}-fhir.json"'},
    )


@router.get("/cases/{case_id}/documents/{doc_id}/pages/{number}.png")
def page_image(request: Request, case_id: str, doc_id: int, number: int, session: Db, who: Who):
    case = _reviewer_case(session, who, case_id)
    doc = _document(case, doc_id)
    if doc.kind != "pdf" or not (1 <= number <= len(doc.page_sizes or [])):
        raise HTTPException(404, "no such page")
    st = state(request)
    turn = render.page_rotation(doc.page_sizes[number - 1])
    png = render.page_png(store.stored_path(st.data_dir, doc), st.data_dir / "renders", number, turn)
    store.audit(
        session,
        who.user,
        "page_viewed",
        case_id=case.id,
        document_id=doc.id,
        detail=f"page {number}",
        client=client(request),
    )
    commit(request, session)
    return Response(png, media_type="image/png")


# --- admin ----------------------------------------------------------------------------------------


@router.get("/admin/audit")
def audit_page(request: Request, session: Db, who: Who, case_id: str | None = None, action: str | None = None):
    require(who.user, "admin")
    return page(request, "audit.html", who, events=api.audit_rows(session, case_id or None, action or None))


@router.get("/admin/audit.csv")
def audit_export(request: Request, session: Db, who: Who):
    require(who.user, "admin")
    return api.audit_csv_response(request, session, who.user)


@router.get("/admin/users")
def users_page(request: Request, session: Db, who: Who, message: str | None = None):
    require(who.user, "admin")
    users = session.scalars(select(store.User).order_by(store.User.name)).all()
    return page(request, "users.html", who, users=users, message=message, roles=store.ROLES)


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
        new = store.add_user(session, name, role, password)
    except store.StoreError as exc:
        session.rollback()
        users = session.scalars(select(store.User).order_by(store.User.name)).all()
        return page(request, "users.html", who, 422, users=users, message=str(exc), roles=store.ROLES)
    store.audit(session, who.user, "user_added", detail=f"{new.name} ({new.role})", client=client(request))
    commit(request, session)
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
    api.set_active(request, session, who.user, name, active == "1")
    return RedirectResponse("/admin/users", status_code=303)
