"""The request's details (dates, patient, ordering clinician, codes) read from the documents."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime

from extractor import knowledge
from extractor.schemas import RequestDetails

from .inputs import DocContext

FLAG_STRENGTH = {"uncertain": 0.85, "hypothetical": 0.7}
MAX_EVIDENCE_PER_CRITERION = 25


# --- dates and request details --------------------------------------------------------------------

_MONTHS = {
    m: i
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}


def parse_date(value: str) -> date | None:
    value = value.strip().rstrip(".,")
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value)
    try:
        if m:
            return date(int(m[1]), int(m[2]), int(m[3]))
        m = re.fullmatch(r"(\d{1,2})[/-](\d{1,2})[/-](\d{2}|\d{4})", value)
        if m:
            year = int(m[3])
            if year < 100:
                year += 2000 if year <= (datetime.now().year % 100) else 1900
            return date(year, int(m[1]), int(m[2]))
        m = re.fullmatch(r"([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})", value)
        if m and m[1][:3].lower() in _MONTHS:
            return date(int(m[3]), _MONTHS[m[1][:3].lower()], int(m[2]))
    except ValueError:
        return None
    return None


def _first(patterns: Iterable[str], texts: Iterable[str]) -> str | None:
    for text in texts:
        for pattern in patterns:
            m = re.search(pattern, text)
            if m:
                return m.group("value").strip()
    return None


def _person(name: str) -> str:
    name = re.sub(r"\s+", " ", name).strip()
    if "," in name and not re.search(r",\s*(?:M\.?D|D\.?O|NP|PA|APRN|FNP|DNP|PhD|MBBS)", name):
        last, first = name.split(",", 1)
        return f"{first.strip()} {last.strip()}"
    return name


def request_details(
    docs: list[DocContext], given: date | None, today: date, labels: Iterable[str] = ()
) -> RequestDetails:
    """The request's details as the documents give them (the clock's urgency and receipt: `receipt.py`)."""
    fields = knowledge.request_fields()
    texts = [d.evidence_text for d in docs]
    if given:
        req_date, source = given, "given"
    else:
        found = _first(fields.request_date, texts)
        parsed = parse_date(found) if found else None
        req_date, source = (parsed, "documents") if parsed else (today, "today")
    cpt = []
    for text in texts:
        for pattern in fields.cpt_codes:
            for m in re.finditer(pattern, text):
                if m.group("value") not in cpt:
                    cpt.append(m.group("value"))
    name = _first(fields.patient_name, texts)
    dob_raw = _first(fields.date_of_birth, texts)
    dob = parse_date(dob_raw) if dob_raw else None
    clinicians: list[str] = []
    for text in texts:
        for pattern in fields.clinician:
            for m in re.finditer(pattern, text):
                value = re.sub(r"\s+", " ", m.group("value")).strip()
                if value not in clinicians:
                    clinicians.append(value)
    ordering = _first(fields.ordering_clinician, texts)
    if ordering is None:
        ordering = next((c for c in clinicians if "," in c), None)
    dates = {}
    for d in docs:
        found = _first(fields.document_date, [d.evidence_text])
        parsed = parse_date(found) if found else None
        if parsed:
            dates[d.name] = parsed.isoformat()
    return RequestDetails(
        cpt_codes=sorted(cpt),
        patient_name=_person(name) if name else None,
        date_of_birth=dob.isoformat() if dob else dob_raw,
        member_id=_first(fields.member_id, texts),
        ordering_clinician=re.sub(r"\s+", " ", ordering).strip() if ordering else None,
        clinicians=clinicians,
        request_date=req_date.isoformat(),
        request_date_source=source,
        document_dates=dates,
    )
