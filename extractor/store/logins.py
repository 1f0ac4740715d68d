"""Failed-login counters in the database: what the login limiter reads and writes when server instances share
one store, so the limits hold across all of them (web/deps.SharedLoginLimiter)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .tables import LoginFailure, utcnow


def recent_failures(session: Session, kind: str, key: str, window_seconds: float) -> int:
    since = utcnow() - timedelta(seconds=window_seconds)
    query = select(func.count()).where(LoginFailure.kind == kind, LoginFailure.key == key, LoginFailure.at >= since)
    return session.scalar(query) or 0


def add_failure(session: Session, keys: dict[str, str], window_seconds: float, max_rows: int) -> None:
    """One failure under each (kind, key); rows older than the window go, and beyond `max_rows` the oldest
    go first, so a flood of made-up names cannot grow the table without bound. The caller commits."""
    now = utcnow()
    session.add_all([LoginFailure(kind=kind, key=key[:200], at=now) for kind, key in keys.items()])
    session.execute(delete(LoginFailure).where(LoginFailure.at < now - timedelta(seconds=window_seconds)))
    session.flush()
    count = session.scalar(select(func.count()).select_from(LoginFailure)) or 0
    if count > max_rows:
        oldest = select(LoginFailure.id).order_by(LoginFailure.at, LoginFailure.id).limit(count - max_rows)
        session.execute(delete(LoginFailure).where(LoginFailure.id.in_(oldest.scalar_subquery())))


def clear_failures(session: Session, kind: str, key: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.kind == kind, LoginFailure.key == key))


def failure_rows(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(LoginFailure)) or 0
