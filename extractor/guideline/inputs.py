"""What the guideline step reads besides findings: per-document context and non-concept mentions."""

from __future__ import annotations

from dataclasses import dataclass

from extractor.schemas import Evidence

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
