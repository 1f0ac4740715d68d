"""The audit log: who read or changed what, when, from where; exported as CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import (
    event,
    func,
    select,
)
from sqlalchemy.orm import Session, SessionTransaction

from .tables import AuditEvent, Case, User, utcnow
from .users import Reader

# --- audit --------------------------------------------------------------------------------------

PENDING = "extractor.audit"  # Session.info key: the audit rows of the session's transaction, not yet written


def audit(
    session: Session,
    user: User | Reader | None,
    action: str,
    *,
    case_id: str | None = None,
    document_id: int | None = None,
    detail: str = "",
    client: str = "",
) -> None:
    """Who did what, when, from where. Never note text: details are ids, statuses and file names.

    The row belongs to the session's transaction as an added object would: written by its commit, in that
    commit (one INSERT of every row queued since the last), gone with a rollback. A plain INSERT rather than
    the ORM's unit of work: an audited read is otherwise mostly audit bookkeeping (0.3-0.4 ms of CPU a row,
    docs/benchmarks.md), and on SQLite the row is written inside the commit, under the writers' turn taking
    (web/deps.commit), never before it."""
    session.info.setdefault(PENDING, []).append(
        {
            "at": utcnow(),
            "user_id": user.id if user else None,
            "username": user.name if user else "-",
            "action": action,
            "case_id": case_id,
            "document_id": document_id,
            "detail": detail[:500],
            "client": client[:100],
        }
    )


_INSERT = AuditEvent.__table__.insert()  # built once: the statement is on every audited read's path


@event.listens_for(Session, "before_commit")
def _write_audit(session: Session) -> None:
    rows = session.info.pop(PENDING, None)
    if rows:  # one row (a read) as a plain execute: DBAPI executemany costs more for a single row
        session.connection().execute(_INSERT, rows[0] if len(rows) == 1 else rows)


@event.listens_for(Session, "after_transaction_end")
def _drop_audit(session: Session, transaction: SessionTransaction) -> None:
    """A rolled-back or closed transaction takes its unwritten audit rows with it (as it would added rows)."""
    if transaction.parent is None:
        session.info.pop(PENDING, None)


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
