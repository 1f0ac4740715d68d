"""Files in, documents out: text with a map from every character back to its page (and, for PDFs, its box)."""

from __future__ import annotations

import hashlib
import re
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

from .errors import DocumentError
from .knowledge import document_types

TEXT_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
_CONTROL = set(range(0, 32)) - {9, 10, 12, 13}


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


def decode_text(data: bytes) -> str:
    """Decode a text note; refuse binary content rather than guess."""
    if not data.strip():
        raise DocumentError("file is empty")
    sample = data[:8192]
    if b"\x00" in sample and not (sample.startswith(b"\xff\xfe") or sample.startswith(b"\xfe\xff")):
        raise DocumentError("binary file, not text or PDF")
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        for encoding in TEXT_ENCODINGS:
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    controls = sum(1 for ch in text[:8192] if ord(ch) in _CONTROL)
    if controls > max(8, len(text[:8192]) // 50):
        raise DocumentError("binary file, not text or PDF")
    if not text.strip():
        raise DocumentError("file has no text")
    return text


def read_text_document(name: str, data: bytes) -> Document:
    text = decode_text(data)
    page_starts = [0] + [m.end() for m in re.finditer("\f", text)]
    doc = Document(name=name, sha256=sha256_bytes(data), text=text, page_starts=page_starts)
    doc.doc_type = classify(text)
    return doc


def read_file(path: Path) -> list[Document]:
    """One file in, its documents out: a fax packet PDF may hold several documents."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise DocumentError("is a directory") from None
    except FileNotFoundError:
        raise DocumentError("no such file") from None
    except PermissionError:
        raise DocumentError("permission denied") from None
    except OSError as exc:
        raise DocumentError(f"cannot read ({exc.strerror or 'I/O error'})") from None
    if not data:
        raise DocumentError("file is empty")
    if data.lstrip()[:5] == b"%PDF-" or (b"%PDF-" in data[:1024] and path.suffix.lower() == ".pdf"):
        from .sandbox import read_pdf

        return read_pdf(path.name, data)
    if path.suffix.lower() == ".pdf":
        raise DocumentError("not a PDF (no %PDF- header)")
    return [read_text_document(path.name, data)]


def classify(text: str) -> str:
    """Type a document by weighted keyword patterns from models/document_types.json."""
    head = text[:4000]
    best, best_score = "other", 0
    for dtype in document_types().types:
        score = sum(w for pattern, w in dtype.patterns if re.search(pattern, head, re.IGNORECASE))
        if score >= dtype.min_score and score > best_score:
            best, best_score = dtype.id, score
    return best


# --- rejoining hard-wrapped lines -------------------------------------------------------------

_FIELD_OR_ITEM = re.compile(
    r"^\s*(?:[-*\u2022\u00b7>]\s|\d{1,2}[.)]\s|[A-Za-z][A-Za-z0-9 /&()'#.-]{0,38}:(?:\s|$)|[A-Z][A-Z0-9 /&(),'-]{2,}$)"
)
_HEADER_LINE = re.compile(r"^\s*(?:[A-Z][A-Z0-9 /&(),'-]{2,}|[A-Za-z][A-Za-z0-9 /&()'-]{0,40}:)\s*$")
_KEEP_HYPHEN = {
    "low",
    "high",
    "non",
    "post",
    "pre",
    "self",
    "well",
    "ring",
    "rim",
    "left",
    "right",
    "multi",
    "anti",
    "co",
    "t1",
    "t2",
    "x",
    "follow",
    "long",
    "short",
    "first",
    "second",
    "third",
    "half",
    "para",
    "intra",
    "extra",
    "sub",
    "inter",
    "peri",
    "semi",
    "treatment",
    "therapy",
    "radiation",
    "chemo",
    "space",
    "gross",
}


def rejoin(text: str) -> tuple[str, array]:
    """Join lines broken by a fixed-width wrap back into paragraphs.

    Returns the joined text and, for every character of it, its offset in `text`, so findings can
    still point at the extracted text (and its pages and boxes). Headers, fields ("DOB: ...") and
    list items keep their line breaks; a word hyphen-broken at a line end is made whole again.
    """
    lines = text.split("\n")
    lengths = sorted(len(line.rstrip()) for line in lines if line.strip())
    width = lengths[int(len(lengths) * 0.9)] if lengths else 0
    wrapped = 40 <= width <= 140

    out: list[str] = []
    src = array("i")
    pos = 0
    for i, line in enumerate(lines):
        body = line[:-1] if line.endswith("\r") else line
        join = "end" if i == len(lines) - 1 else _should_join(body, lines[i + 1].rstrip("\r"), width, wrapped)
        if join in ("hyphen", "glue"):
            body = body.rstrip()
            if join == "hyphen":
                body = body[:-1]
        out.append(body)
        src.extend(range(pos, pos + len(body)))
        pos += len(line) + 1
        if join == "space":
            out.append(" ")
            src.append(pos - 1)
        elif join == "newline":
            out.append("\n")
            src.append(pos - 1)
    return "".join(out), src


def _should_join(line: str, nxt: str, width: int, wrapped: bool) -> str:
    stripped, following = line.rstrip(), nxt.strip()
    if not stripped.strip() or not following or "\f" in line or "\f" in nxt:
        return "newline"
    if _HEADER_LINE.match(stripped) or _FIELD_OR_ITEM.match(nxt):
        return "newline"
    starts_lower = following[0].islower()
    if stripped.endswith("-") and len(stripped) > 1 and stripped[-2].isalpha() and starts_lower:
        word = re.search(r"([A-Za-z0-9]+)-$", stripped)
        if word and word.group(1).lower() not in _KEEP_HYPHEN:
            return "hyphen"
        return "glue"
    if starts_lower:
        return "space"
    if not wrapped:
        return "newline"
    long_line = len(stripped) >= 0.6 * width
    if long_line and not stripped.endswith(":"):
        return "space"
    return "newline"
