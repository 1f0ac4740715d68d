"""The bottom of ingest: a document is text with a map from every character back to its page and box.

It imports nothing of ingest, so every reader (text, PDF, OCR, fax packet) can build one."""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from dataclasses import dataclass, field

from extractor.knowledge import document_types


@dataclass
class Document:
    """One readable document: `text` is the extracted text that finding offsets point into."""

    name: str
    sha256: str
    text: str
    page_starts: list[int] = field(default_factory=lambda: [0])
    boxes: list[tuple[float, float, float, float] | None] | None = None
    ocr_pages: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    doc_type: str = "other"
    source: str | None = None  # the file a split fax-packet part came from
    first_page: int = 1  # page number, in that file, of this document's first page
    ocr_confidence: dict[int, float] = field(default_factory=dict)
    page_rotation: dict[int, int] = field(default_factory=dict)  # page -> degrees turned clockwise to read it
    noise_pages: list[int] = field(default_factory=list)  # OCR'd pages that read as noise (no text kept)
    fax_headers: list[str] = field(default_factory=list)  # transmission header lines taken off its pages
    # [width, height] in PDF points of every page of the file it came from (the case page draws them
    # without opening the PDF); empty for text notes
    page_sizes: list[list[float]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return len(self.page_starts)

    def page_of(self, offset: int) -> int:
        """1-based page, in the original file, of the character at `offset`."""
        return bisect_right(self.page_starts, offset) + self.first_page - 1

    def bbox(self, start: int, end: int) -> list[float] | None:
        """Union of the character boxes of [start, end) on the page of `start`; None for plain text."""
        if self.boxes is None:
            return None
        page = self.page_of(start)
        found = [
            b
            for i in range(start, min(end, len(self.boxes)))
            if (b := self.boxes[i]) is not None and self.page_of(i) == page
        ]
        if not found:
            return None
        return [
            round(min(b[0] for b in found), 1),
            round(min(b[1] for b in found), 1),
            round(max(b[2] for b in found), 1),
            round(max(b[3] for b in found), 1),
        ]


@dataclass
class FailedDocument:
    name: str
    sha256: str | None
    error: str


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def classify(text: str) -> str:
    """Type a document by weighted keyword patterns from models/document_types.json; on a tie, the type
    whose title opens the document wins ("NEW PATIENT CONSULTATION" over a consult's lab values)."""
    head = text[:4000]
    best, best_score, best_titled = "other", 0, False
    opening = [line.strip(" \t.,;:|_~'\"\u2018\u2019\u201c\u201d-") for line in head.splitlines() if line.strip()][:6]
    for dtype in document_types().types:
        score = sum(w for pattern, w in dtype.patterns if re.search(pattern, head, re.IGNORECASE))
        if score < dtype.min_score or score < best_score:
            continue
        titled = any(re.fullmatch(t, line) for t in dtype.titles for line in opening)
        if score > best_score or (titled and not best_titled):
            best, best_score, best_titled = dtype.id, score, titled
    return best
