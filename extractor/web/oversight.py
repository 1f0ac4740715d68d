"""Routes of the request clock's figures and of oversight of the prefill: `GET /api/metrics[.csv]` (SPEC), the
quarterly AI tool review export, the admin metrics page and the QA second-review queue. Admin only, except the
second-review queue (reviewers; never a case they decided first)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from extractor import metrics, store
from extractor.schemas import DECISIONS

from . import charts
from .deps import PageUser, api_user, check_csrf, client, commit, db, page_user, require
from .pages import page

router = APIRouter()
Db = Annotated[Session, Depends(db)]
ApiUser = Annotated[store.User, Depends(api_user)]
Who = Annotated[PageUser, Depends(page_user)]
From = Annotated[str | None, Query(alias="from")]
To = Annotated[str | None, Query(alias="to")]


def period(start: str | None, end: str | None) -> metrics.Period:
    """The receipt dates asked for (YYYY-MM-DD, both optional and inclusive); 400 for a bad one."""
    days = []
    for name, value in (("from", start), ("to", end)):
        try:
            days.append(date.fromisoformat(value) if value else None)
        except ValueError:
            raise HTTPException(400, f"{name}: not a date (YYYY-MM-DD)") from None
    if days[0] and days[1] and days[0] > days[1]:
        raise HTTPException(400, "from: after to")
    return metrics.Period(days[0], days[1])


def quarter_period(quarter: str | None, start: str | None, end: str | None) -> metrics.Period:
    if quarter:
        try:
            return metrics.quarter(quarter)
        except ValueError as exc:
            raise HTTPException(400, f"quarter: {exc}") from None
    return period(start, end)


def csv_response(figures: dict, name: str) -> Response:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["metric", "value"])
    writer.writerows((name, "" if value is None else value) for name, value in metrics.flatten(figures))
    return Response(buf.getvalue(), media_type="text/csv",
                    headers={"content-disposition": f'attachment; filename="{name}"'})  # fmt: skip


def _exported(request: Request, session: Session, user: store.User, what: str, span: metrics.Period) -> None:
    detail = f"{what} {span.start or '-'}..{span.end or '-'}"
    store.audit(session, user, "metrics_exported", detail=detail, client=client(request))
    commit(request, session)


def review_export(request: Request, session: Session, user: store.User, span: metrics.Period) -> Response:
    """The AI tool review as a JSON file, audited."""
    bundle = metrics.ai_tool_review(session, span, store.utcnow())
    _exported(request, session, user, "ai_tool_review", span)
    name = f"ai-tool-review-{span.start or 'start'}-{span.end or 'now'}.json"
    return Response(json.dumps(bundle, indent=1), media_type="application/json",
                    headers={"content-disposition": f'attachment; filename="{name}"'})  # fmt: skip


# --- API ------------------------------------------------------------------------------------------


@router.get("/api/metrics")
def api_metrics(session: Db, user: ApiUser, start: From = None, end: To = None):
    require(user, "admin")
    return metrics.report(session, period(start, end))


@router.get("/api/metrics.csv")
def api_metrics_csv(request: Request, session: Db, user: ApiUser, start: From = None, end: To = None):
    require(user, "admin")
    span = period(start, end)
    _exported(request, session, user, "metrics.csv", span)
    return csv_response(metrics.report(session, span), "metrics.csv")


@router.get("/api/metrics/ai-tool-review")
def api_ai_tool_review(request: Request, session: Db, user: ApiUser, quarter: str | None = None,
                       start: From = None, end: To = None):  # fmt: skip
    require(user, "admin")
    return review_export(request, session, user, quarter_period(quarter, start, end))


# --- admin pages ----------------------------------------------------------------------------------


@router.get("/admin/metrics", response_class=HTMLResponse)
def metrics_page(request: Request, session: Db, who: Who, start: From = None, end: To = None):
    require(who.user, "admin")
    span = period(start, end)
    figures, more = metrics.report(session, span), metrics.oversight(session, span)
    return page(
        request, "metrics.html", who, span=span, figures=figures, more=more, decisions=DECISIONS,
        hours_chart=charts.decision_time_chart(more["decision_hours"]),
        weekly_chart=charts.weekly_chart(more["within_clock_by_week"]),
        query=f"from={span.start or ''}&to={span.end or ''}",
    )  # fmt: skip


@router.get("/admin/metrics.csv")
def metrics_page_csv(request: Request, session: Db, who: Who, start: From = None, end: To = None):
    require(who.user, "admin")
    span = period(start, end)
    _exported(request, session, who.user, "metrics.csv", span)
    return csv_response(metrics.report(session, span), "metrics.csv")


@router.get("/admin/metrics/ai-tool-review.json")
def metrics_page_review(request: Request, session: Db, who: Who, quarter: str | None = None,
                        start: From = None, end: To = None):  # fmt: skip
    require(who.user, "admin")
    return review_export(request, session, who.user, quarter_period(quarter, start, end))


# --- QA second review -----------------------------------------------------------------------------


@router.get("/qa", response_class=HTMLResponse)
def qa_page(request: Request, session: Db, who: Who):
    require(who.user, "reviewer", "admin")
    pending = store.qa_queue(session, who.user)
    return page(request, "qa.html", who, pending=pending, decisions=DECISIONS)


@router.post("/qa/{qa_id}")
def qa_record(
    request: Request,
    qa_id: int,
    session: Db,
    who: Who,
    decision: Annotated[str, Form()],
    note: Annotated[str, Form(max_length=20000)] = "",
    csrf_token: Annotated[str, Form()] = "",
):
    check_csrf(csrf_token, who.csrf)
    require(who.user, "reviewer", "admin")
    qa = session.get(store.QaReview, qa_id)
    if qa is None:
        raise HTTPException(404, "no such second review")
    try:
        store.record_qa_review(session, qa, who.user, decision, note)
    except store.StoreError as exc:
        raise HTTPException(409 if "already" in str(exc) else 422, str(exc)) from None
    store.audit(session, who.user, "qa_review_recorded", case_id=qa.case_id,
                detail=f"{decision}; first: {qa.first.decision}", client=client(request))  # fmt: skip
    commit(request, session)
    return RedirectResponse("/qa", status_code=303)
