"""Urgency and receipt of a request read from its documents (SPEC "Request clock").

A fax cover sheet's checked URGENT / EXPEDITED / STAT box or stamp makes a request expedited; a fax header's
transmission time is when it was received. The patterns are data (models/request_fields.json): a box must be
checked ("[ ] URGENT" is not) and prose ("no urgent findings", "not urgent") never matches."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from extractor import knowledge
from extractor.config import get_settings
from extractor.schemas import RequestDetails

from .request import parse_date

# A cover sheet and a fax header open a document (each part of a split packet is one): only each document's
# first characters are searched, so a long note costs nothing here.
HEAD_CHARS = 20_000


def urgent_in(texts: Iterable[str]) -> bool:
    """Whether any document marks the request urgent, expedited or STAT: a checked box of that label, a stamp
    line, a field ("Priority: STAT"), a sentence ("expedited review requested")."""
    patterns = knowledge.request_fields().urgent
    for text in texts:
        head = text[:HEAD_CHARS]
        if any(re.search(pattern, head) for pattern in patterns) or any(_boxed(line) for line in head.splitlines()):
            return True
    return False


def _boxed(line: str) -> bool:
    """A checked box whose label is urgent. A line's boxes stand before their labels ("[X] URGENT [ ] ROUTINE",
    also after a field name: "Priority: [X] Urgent") or after them ("URGENT [X]  STANDARD [ ]"); the layout is
    read off where the first box stands, so OCR's spacing does not matter."""
    any_box, checked, label = knowledge.request_fields().urgent_box
    boxes = list(re.finditer(any_box, line))
    if not any(re.fullmatch(checked, b.group()) for b in boxes):
        return False
    before = line[: boxes[0].start()].strip()
    boxes_first = not before or before.endswith(":")
    for i, box in enumerate(boxes):
        if not re.fullmatch(checked, box.group()):
            continue
        if boxes_first:
            text = line[box.end() : boxes[i + 1].start() if i + 1 < len(boxes) else len(line)]
            found = re.match(rf"[\W_]*(?:{label})", text)
        else:
            text = line[boxes[i - 1].end() if i else 0 : box.start()]
            found = re.search(rf"(?:{label})[\W_]*$", text)
        if found:
            return True
    return False


def _clock_time(raw: str, ampm: str | None) -> time | None:
    parts = [int(p) for p in raw.split(":")]
    hour, minute, second = parts[0], parts[1], parts[2] if len(parts) > 2 else 0
    if ampm:
        pm = ampm.lower().startswith("p")
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if pm else 0)
    try:
        return time(hour, minute, second)
    except ValueError:
        return None


def _zone(tz: str | None):
    if tz in ("UTC", "GMT", "Z"):
        return UTC
    if tz:
        sign = -1 if tz[0] == "-" else 1
        return timezone(sign * timedelta(hours=int(tz[1:3]), minutes=int(tz[3:5])))
    try:
        return ZoneInfo(get_settings().fax_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def fax_received_at(texts: Iterable[str]) -> datetime | None:
    """The first fax header transmission time in the documents, as an aware UTC time; a header without a zone
    is read in the fax_timezone setting."""
    patterns = knowledge.request_fields().fax_received
    for text in texts:
        for pattern in patterns:
            for m in re.finditer(pattern, text[:HEAD_CHARS]):
                day = parse_date(re.sub(r"(?<=[A-Za-z])-|-(?=\d{4})", " ", m["date"]).replace("- ", " "))
                at = _clock_time(m["time"], m.groupdict().get("ampm"))
                if day is None or at is None:
                    continue
                return datetime.combine(day, at, _zone(m.groupdict().get("tz"))).astimezone(UTC)
    return None


def iso_z(value: datetime) -> str:
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def with_clock(
    request: RequestDetails,
    texts: list[str],
    urgency: str | None = None,
    received_at: datetime | None = None,
    uploaded_at: datetime | None = None,
) -> RequestDetails:
    """The request with its urgency and receipt: as given, else as the documents say, else standard and
    received at upload (`uploaded_at`, now when not given)."""
    if urgency:
        level, level_source = urgency, "given"
    elif urgent_in(texts):
        level, level_source = "expedited", "documents"
    else:
        level, level_source = "standard", "default"
    uploaded_at = uploaded_at or datetime.now(UTC)
    uploaded_at = uploaded_at if uploaded_at.tzinfo else uploaded_at.replace(tzinfo=UTC)
    faxed = None if received_at else fax_received_at(texts)
    if faxed and faxed > uploaded_at + timedelta(minutes=5):  # a fax machine whose clock runs ahead
        faxed = None
    if received_at:
        when, when_source = received_at, "given"
    elif faxed:
        when, when_source = faxed, "documents"
    else:
        when, when_source = uploaded_at, "upload"
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    return request.model_copy(update={"urgency": level, "urgency_source": level_source,
                                      "received_at": iso_z(when), "received_at_source": when_source})  # fmt: skip
