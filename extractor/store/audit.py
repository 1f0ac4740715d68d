"""The audit log: who read or changed what, when, from where; exported as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import (
    func,
    select,
)
from sqlalchemy.orm import Session

from .tables import AuditEvent, Case, User

# --- audit --------------------------------------------------------------------------------------


def audit(
    session: Session,
    user: User | None,
    action: str,
    *,
    case_id: str | None = None,
    document_id: int | None = None,
    detail: str = "",
    client: str = "",
) -> None:
    """Who did what, when, from where. Never note text: details are ids, statuses and file names."""
    session.add(
        AuditEvent(
            user_id=user.id if user else None,
            username=user.name if user else "-",
            action=action,
            case_id=case_id,
            document_id=document_id,
            detail=detail[:500],
            client=client[:100],
        )
    )


def audit_events(
    session: Session, *, case_id: str | None = None, action: str | None = None, limit: int | None = 500
) -> list[AuditEvent]:
    query = select(AuditEvent)
    if case_id:
        query = query.where(AuditEvent.case_id == case_id)
    if action:
        query = query.where(AuditEvent.action == action)
    query = query.order_by(AuditEvent.id.desc())
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query))


AUDIT_COLUMNS = ["id", "at", "username", "action", "case_id", "document_id", "detail", "client"]


def audit_csv(session: Session) -> Iterator[str]:
    """The whole audit log as CSV, oldest first, streamed row by row."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(AUDIT_COLUMNS)
    yield buf.getvalue()
    last = 0
    while True:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(1000)).all()
        if not rows:
            return
        for ev in rows:
            buf.seek(0)
            buf.truncate()
            cells = [
                ev.id,
                ev.at.isoformat(timespec="seconds") + "Z",
                ev.username,
                ev.action,
                ev.case_id or "",
                ev.document_id or "",
                ev.detail,
                ev.client,
            ]
            writer.writerow([csv_safe(str(c)) for c in cells])
            yield buf.getvalue()
        last = rows[-1].id


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: str) -> str:
    """Spreadsheets run a cell starting with = + - @ (or a tab or CR before one) as a formula: every cell of
    the export, whoever chose its text (a file name, a user name, a case id, a forwarded address), is
    prefixed with ' so it stays text."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def count_cases(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Case.status, func.count()).group_by(Case.status)).all())
