"""The documentation checklist: what a complete request carries, found or missing."""

from __future__ import annotations

import re
from datetime import date, timedelta

from extractor import knowledge
from extractor.knowledge import Guideline
from extractor.schemas import DocumentationResult, Evidence, RequestDetails

from .inputs import DocContext, DocMention

FLAG_STRENGTH = {"uncertain": 0.85, "hypothetical": 0.7}
MAX_EVIDENCE_PER_CRITERION = 25


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
            # an ordered or negated study ("I have ordered an MRI of the brain") makes no document an imaging report
            labelled_docs = {
                m.evidence.document
                for m in mentions
                if m.label in item.labels and not (m.negated or m.hypothetical or m.family)
            }
            for d in docs:
                if d.doc_type in item.document_types and (not item.document_needs_label or d.name in labelled_docs):
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
