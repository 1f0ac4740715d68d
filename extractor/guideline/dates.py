"""Flags that depend on the request date: a dated cue close to the request is current, a treatment told in a
document dated long before it is past. Here, not in nlp, because the request date is the guideline step's."""

from __future__ import annotations

import re
from datetime import date

from extractor import knowledge
from extractor.schemas import Finding

_DATE = re.compile(r"(?:(\d{1,2})\s*/\s*(?:\d{1,2}\s*/\s*)?)?((?:19|20)\d\d)\b")


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH_NAME = re.compile(r"\b(" + "|".join(_MONTHS) + r")[a-z]*\b", re.I)


def _cue_date(cue: str) -> date | None:
    """The first day of the period a date cue names ("in 02/2026" -> 2026-02-01, "in 2019" -> 2019-01-01,
    "in September 2025" -> 2025-09-01: a named month counts as its number would)."""
    m = _DATE.search(cue)
    if not m:
        return None
    named = _MONTH_NAME.search(cue)
    month = int(m.group(1)) if m.group(1) else _MONTHS.index(named.group(1).lower()) + 1 if named else 1
    return date(int(m.group(2)), month, 1) if 1 <= month <= 12 else None


def date_findings(findings: list[Finding], document_dates: dict[str, str], request_date: date) -> None:
    """Flags that depend on the request date. A finding dated by a cue within `recent_days` of the request
    ("two seizures in 02/2026" for a March request) is current. A treatment told in a document dated long
    before the request is a past, dated treatment (the 2019 pathology's "subtotal resection"), though the
    document's own words say it in the present."""
    cfg = knowledge.pipeline_config()
    for f in findings:
        when_cue = _cue_date(f.dated) if f.dated else None
        if when_cue and (request_date - when_cue).days <= cfg.recent_days:
            f.historical = False
    if cfg.old_document_days is None:
        return
    for f in findings:
        when = document_dates.get(f.document)
        if f.concept in cfg.old_document_historical and when:
            if (request_date - date.fromisoformat(when)).days > cfg.old_document_days:
                f.historical = True
