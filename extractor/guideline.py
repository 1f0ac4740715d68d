"""Guideline mapping: findings and documents in, indications, recommendation, checklist and request out.

Generic over the guideline model: a new guideline version is a new file under models/guidelines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from . import knowledge
from .knowledge import ConceptCheck, Guideline
from .schemas import CriterionResult, DocumentationResult, Evidence, Finding, IndicationResult, RequestDetails

FLAG_STRENGTH = {"uncertain": 0.85, "hypothetical": 0.7}
MAX_EVIDENCE_PER_CRITERION = 25


@dataclass
class DocMention:
    """A documentation cue (imaging, labs, reason for no alternative imaging) with its context."""

    label: str
    evidence: Evidence
    sentence: str
    negated: bool
    hypothetical: bool
    family: bool


@dataclass
class DocContext:
    """What the checklist and request details need to know about one readable document."""

    name: str
    doc_type: str
    text: str
    evidence_text: str
    page_of: object


def qualifies(finding: Finding, check: ConceptCheck) -> bool:
    return finding.concept in check.concepts and not any(getattr(finding, flag) for flag in check.exclude)


def strength(finding: Finding) -> float:
    value = 1.0
    for flag, weight in FLAG_STRENGTH.items():
        if getattr(finding, flag):
            value = min(value, weight)
    return value


def evaluate_indications(guideline: Guideline, findings: list[Finding]) -> list[IndicationResult]:
    results = []
    for ind in guideline.indications:
        if ind.not_in_version:
            results.append(
                IndicationResult(
                    id=ind.id,
                    kind=ind.kind,
                    title=ind.title,
                    status="not_found",
                    score=0.0,
                    missing=[ind.not_in_version],
                )
            )
            continue
        criteria: list[CriterionResult] = []
        evidence: dict[int, Finding] = {}
        for criterion in ind.criteria:
            hits = [f for f in findings if any(qualifies(f, check) for check in criterion.any_of)]
            best = max((strength(f) for f in hits), default=0.0)
            criteria.append(
                CriterionResult(id=criterion.id, description=criterion.description, met=bool(hits), strength=best)
            )
            strongest = sorted(hits, key=strength, reverse=True)[:MAX_EVIDENCE_PER_CRITERION]
            evidence.update((id(f), f) for f in strongest)
        met = {c.id for c in criteria if c.met}
        missing = [c.description for c in criteria if not c.met]
        if ind.kind == "experimental":
            status = "present" if met else "not_found"
            score = max((c.strength for c in criteria), default=0.0)
        else:
            status = "not_found"
            for word, rule in (("supported", ind.supported_when), ("partial", ind.partial_when)):
                if rule and len(met) >= rule.min_met and set(rule.required) <= met:
                    status = word
                    break
            score = sum(c.strength for c in criteria) / len(criteria)
        ordered = sorted(evidence.values(), key=lambda f: (f.document, f.start))
        results.append(
            IndicationResult(
                id=ind.id,
                kind=ind.kind,
                title=ind.title,
                status=status,
                score=round(score, 2),
                evidence=ordered,
                missing=missing if status not in ("supported", "present") else [],
                criteria=criteria,
            )
        )
    return results


def recommend(guideline: Guideline, results: list[IndicationResult]) -> str:
    for rule in guideline.recommendation_rules:
        if any(all(getattr(r, k) == v for k, v in rule.when_any.items()) for r in results):
            return rule.recommendation
    return guideline.default_recommendation


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


# --- documentation checklist ----------------------------------------------------------------------

_IMAGING_WORDS = re.compile(
    r"\b(?:PET|perfusion|CT|imaging|MRI|SPECT|biopsy|contrast|gadolinium|scan|DSC|DCE|ASL)\b", re.I
)


def documentation(
    guideline: Guideline,
    docs: list[DocContext],
    mentions: list[DocMention],
    request: RequestDetails,
) -> list[DocumentationResult]:
    fields = knowledge.request_fields()
    req_date = date.fromisoformat(request.request_date)
    results = []
    for item in guideline.documentation:
        evidence: list[Evidence] = []
        if item.method == "named_clinician":
            for d in docs:
                for m in (m for pattern in fields.clinician for m in re.finditer(pattern, d.evidence_text)):
                    evidence.append(
                        Evidence(
                            document=d.name,
                            page=d.page_of(m.start()),
                            start=m.start(),
                            end=m.end(),
                            text=re.sub(r"\s+", " ", m.group("value")),
                        )
                    )
        elif item.method == "recent_office_note":
            earliest = req_date - timedelta(days=guideline.office_note_max_age_days)
            for d in docs:
                if d.doc_type not in ("office_note", "consult_note"):
                    continue
                when = request.document_dates.get(d.name)
                if when is None or earliest <= date.fromisoformat(when) <= req_date + timedelta(days=7):
                    label = (
                        f"{d.doc_type.replace('_', ' ')} dated {when}"
                        if when
                        else f"{d.doc_type.replace('_', ' ')} (undated)"
                    )
                    evidence.append(Evidence(document=d.name, page=d.page_of(0), text=label, kind="document"))
        else:
            for d in docs:
                if d.doc_type in item.document_types:
                    evidence.append(
                        Evidence(
                            document=d.name,
                            page=d.page_of(0),
                            text=f"{d.doc_type.replace('_', ' ')} document",
                            kind="document",
                        )
                    )
            for m in mentions:
                if m.label not in item.labels or m.negated or m.hypothetical or m.family:
                    continue
                if item.method == "alternative_imaging_reason" and not _IMAGING_WORDS.search(m.sentence):
                    continue
                evidence.append(m.evidence)
        results.append(
            DocumentationResult(
                id=item.id, status="present" if evidence else "missing", description=item.text, evidence=evidence[:20]
            )
        )
    return results
