"""Fax packets: drop the fax machine's header/footer lines and split a packet into its documents.

A fax stamps a transmission line on every page ("FEB-18-2026 10:14 FROM: ... P.002/005"); it is not
part of any document and is dropped. A packet holds several documents, each starting on a new page
(cover sheet, office note, imaging report, pathology, labs, letter); a page whose opening lines type
it as a different kind of document starts a new part. Each part becomes its own `Document`, named
"FILE#N" (N from 1), typed, with page numbers that stay those of the original file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

from pydantic import TypeAdapter

from extractor.config import Settings
from extractor.errors import DocumentError
from extractor.ingest.document import Document, classify
from extractor.knowledge import document_types

from .ocr import Line

_EDGE_LINES = 2
_FAX_WORDS = re.compile(
    r"\bfax\b|\bfrom\s*:|\bto\s*:|\bp(?:age|g)?\.?\s*\d{1,3}\s*(?:/|of)\s*\d{1,3}\b|\b\d{1,2}:\d{2}\b", re.IGNORECASE
)
_HEAD_LINES = 6
# A transmission stamp: a page counter ("P.001/003", "Page 1 of 3") with a time of day on the same line.
_STAMP = re.compile(
    r"(?=.*\b\d{1,2}:\d{2}\b)(?=.*\b(?:p(?:age|g)?\.?\s*\d{1,3}\s*(?:/|of)\s*\d{1,3})\b)", re.IGNORECASE
)
_FUZZY_PAGES = 60
_NOISE = re.compile(r"^[^A-Za-z0-9]+|[^A-Za-z0-9):]+$")


@dataclass
class PageText:
    number: int
    lines: list[Line]
    ocr: bool = False
    confidence: float | None = None
    dropped: list[str] = field(default_factory=list)
    rotation: int = 0  # degrees clockwise the page was turned to read it (orientation.py)
    noise: bool = False  # OCR read it as noise: its text is dropped


@dataclass
class PdfReading:
    """All the PDF reader (pdfium and Tesseract) produced for one file: what the document-text cache keeps.

    Fax headers, the packet split and document types are left to `assemble`, which runs on every load, so a
    knowledge change (a new document type) applies to cached files too; only a reader change re-reads them."""

    pages: list[PageText]
    warnings: list[str] = field(default_factory=list)
    page_sizes: list[tuple[float, float]] = field(default_factory=list)  # per page, PDF points, as pdfium gives
    complete: bool = True  # False when a time limit cut OCR short: such a reading is not cached


READING = TypeAdapter(PdfReading)  # one codec of a reading: the worker's JSON reply and the cache's payload


def _key(text: str) -> str:
    return re.sub(r"[^a-z#]", "", re.sub(r"\d", "#", text.lower()))


def _edges(page: PageText) -> list[int]:
    filled = [i for i, line in enumerate(page.lines) if line.text.strip()]
    return sorted(set(filled[:_EDGE_LINES] + filled[-_EDGE_LINES:]))


def drop_fax_headers(pages: list[PageText]) -> None:
    """Remove transmission header/footer lines: near a page edge, fax-like, repeated on most pages
    (on a one-page fax: a stamp with both a time and a page counter).

    Fax-like means fax words, a page counter or a time of day; a letterhead or a patient line repeated
    on every page is kept. Repetition is judged on the line with its digits masked (the page counter
    changes), and, for OCR'd pages, by similarity (OCR misreads a character here and there).
    """
    need = max(2, (len(pages) + 1) // 2) if len(pages) > 1 else 1
    edges = {p.number: [i for i in _edges(p) if _FAX_WORDS.search(p.lines[i].text)] for p in pages}
    keys = {(p.number, i): _key(p.lines[i].text) for p in pages for i in edges[p.number]}
    exact: dict[str, set[int]] = {}
    for (number, _), key in keys.items():
        exact.setdefault(key, set()).add(number)
    fuzzy = len(pages) <= _FUZZY_PAGES
    for page in pages:
        drop: set[int] = set()
        for i in edges[page.number]:
            key = keys[(page.number, i)]
            if len(key) < 6:
                continue
            if len(pages) == 1 and not _STAMP.search(page.lines[i].text):
                continue  # on a lone page only an unmistakable transmission stamp goes
            seen = set(exact[key])
            if fuzzy and len(seen) < need:
                seen |= {n for (n, _), other in keys.items() if _similar(key, other)}
            if len(seen) >= need:
                drop.add(i)
        page.dropped = [page.lines[i].text for i in sorted(drop)]
        page.lines = [line for i, line in enumerate(page.lines) if i not in drop]


def _similar(a: str, b: str) -> bool:
    match = SequenceMatcher(None, a, b, autojunk=False)
    return match.real_quick_ratio() >= 0.8 and match.quick_ratio() >= 0.8 and match.ratio() >= 0.8


def _opening(page: PageText) -> list[str]:
    lines = [_NOISE.sub("", line.text) for line in page.lines]
    return [line for line in lines if line][:_HEAD_LINES]


def starts_document(page: PageText) -> bool:
    """A title line ("OFFICE VISIT", "MRI BRAIN WITH AND WITHOUT CONTRAST", ...) opens the page."""
    titles = _titles()
    return any(t.fullmatch(line) for line in _opening(page) for t in titles)


@lru_cache(maxsize=1)
def _titles() -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(t) for dtype in document_types().types for t in dtype.titles)


def split_packet(pages: list[PageText]) -> list[list[PageText]]:
    """Group pages into documents: a page that opens with a document title starts a new one."""
    parts: list[list[PageText]] = []
    for page in pages:
        if not parts or starts_document(page):
            parts.append([page])
        else:
            parts[-1].append(page)
    return parts


def noise_warning(pages: list[PageText]) -> str:
    """What the reviewer is told about pages whose OCR reads as noise."""
    listed = ", ".join(f"{p.number} ({p.confidence or 0:.0f}%)" for p in sorted(pages, key=lambda p: p.number))
    return f"page {listed} unreadable (OCR reads as noise): no findings taken from it; check the original"


def assemble(name: str, sha256: str, pages: list[PageText], min_confidence: float) -> list[Document]:
    """Drop fax headers, split the packet, and build one Document per part (empty parts are skipped)."""
    drop_fax_headers(pages)
    parts = [part for part in split_packet(pages) if any(line.text.strip() for p in part for line in p.lines)]
    kept = {p.number for part in parts for p in part}
    docs: list[Document] = []
    for k, part in enumerate(parts, start=1):
        text: list[str] = []
        boxes: list = []
        page_starts: list[int] = []
        for page in part:
            page_starts.append(len(text))
            for line in page.lines:
                text.extend(line.text)
                boxes.extend(line.boxes)
                text.append("\n")
                boxes.append(None)
            text.append("\f")
            boxes.append(None)
        joined = "".join(text)
        doc = Document(
            name=name if len(parts) == 1 else f"{name}#{k}",
            sha256=sha256,
            text=joined,
            page_starts=page_starts,
            boxes=boxes,
            source=name,
            first_page=part[0].number,
        )
        doc.ocr_pages = [p.number for p in part if p.ocr]
        doc.ocr_confidence = {p.number: round(p.confidence, 1) for p in part if p.confidence is not None}
        doc.page_rotation = {p.number: p.rotation for p in part if p.rotation}
        doc.fax_headers = [line for p in part for line in p.dropped]  # their time is when the fax came in
        noise = [p for p in part if p.noise]
        if k == 1:  # noise pages of parts left out (nothing readable in them) are told on the first part
            noise += [p for p in pages if p.noise and p.number not in kept]
        if noise:
            doc.warnings.append(noise_warning(noise))
            doc.noise_pages = sorted(p.number for p in noise)
        low = [
            f"{n} ({c:.0f}%)" for n, c in doc.ocr_confidence.items() if c < min_confidence and n not in doc.noise_pages
        ]
        if low:
            doc.warnings.append(f"low OCR confidence on page {', '.join(low)}: check the original")
        empty = [p.number for p in part if not p.noise and not any(line.text.strip() for line in p.lines)]
        if empty:
            doc.warnings.append(f"no text found on page {', '.join(map(str, empty))}")
        doc.doc_type = classify(joined)
        docs.append(doc)
    return docs


def documents_of(name: str, sha256: str, reading: PdfReading, settings: Settings) -> list[Document]:
    """The documents of a file's reading, fresh or from the cache (no PDF is opened here)."""
    pages, warnings = reading.pages, reading.warnings
    docs = assemble(name, sha256, pages, settings.ocr_min_confidence)
    if not docs:
        noise = [p for p in pages if p.noise]
        if noise:
            raise DocumentError(f"PDF has no text ({noise_warning(noise)})")
        if warnings:
            raise DocumentError(f"PDF has no text ({warnings[0]})")
        if any(p.ocr for p in pages):
            raise DocumentError("PDF has no text (no text layer, and OCR found none)")
        raise DocumentError("PDF has no text")
    docs[0].warnings[:0] = warnings
    for doc in docs:
        doc.page_sizes = [list(size) for size in reading.page_sizes]
    return docs
