"""The request clock (SPEC "Request clock"): when a decision is due, how long is left, whether it is late.

Every time is naive UTC, as the store keeps them; `now` is always passed in (tests freeze it by passing it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Literal

from extractor.config import Settings, get_settings

Urgency = Literal["expedited", "standard"]
URGENCIES: tuple[Urgency, ...] = ("expedited", "standard")


def window(urgency: str, settings: Settings | None = None) -> timedelta:
    """How long the payer has to decide: 72 h expedited, 7 days standard by default (both settings)."""
    settings = settings or get_settings()
    hours = settings.expedited_hours if urgency == "expedited" else settings.standard_hours
    return timedelta(hours=hours)


def due_at(received_at: datetime, urgency: str, settings: Settings | None = None) -> datetime:
    return received_at + window(urgency, settings)


def naive_utc(value: datetime) -> datetime:
    """An aware time converted to naive UTC (how the store keeps times); a naive one is taken as UTC already."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def parse_received_at(value: str) -> datetime:
    """An ISO 8601 time from a form or manifest ("2026-12-03T14:05:00Z", with an offset, or naive = UTC), as naive
    UTC; ValueError for anything else (a bare date included: receipt needs a time)."""
    text = value.strip()
    if "T" not in text and " " not in text:
        raise ValueError("received_at needs a date and a time")
    return naive_utc(datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")))


def iso_z(value: datetime | None) -> str | None:
    """A stored (naive UTC) time as ISO 8601 with `Z`, as the API answers."""
    return None if value is None else naive_utc(value).isoformat(timespec="seconds") + "Z"


def hours_left(due: datetime | None, now: datetime, decided_at: datetime | None = None) -> float | None:
    """Hours until `due` (negative once overdue); None when there is no due time or the case is decided."""
    if due is None or decided_at is not None:
        return None
    return (due - naive_utc(now)).total_seconds() / 3600


def is_overdue(due: datetime | None, now: datetime, decided_at: datetime | None = None) -> bool:
    left = hours_left(due, now, decided_at)
    return left is not None and left < 0


def within_clock(due: datetime | None, decided_at: datetime | None) -> bool | None:
    """Whether a decided case was decided by its due time; None while undecided."""
    if decided_at is None or due is None:
        return None
    return decided_at <= due


def time_left_label(due: datetime | None, now: datetime, decided_at: datetime | None = None) -> str:
    """What the queue shows: "5 h left", "2 d 3 h left", or "overdue 4 h"; empty when decided."""
    left = hours_left(due, now, decided_at)
    if left is None:
        return ""
    hours = int(abs(left))
    text = f"{hours // 24} d {hours % 24} h" if hours >= 48 else f"{hours} h"
    return f"overdue {text}" if left < 0 else f"{text} left"
