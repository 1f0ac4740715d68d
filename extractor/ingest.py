"""Files in, documents out: text with a map from every character back to its page (and, for PDFs, its box)."""

from __future__ import annotations

import hashlib
import re
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
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
    page_rotation: dict[int, int] = field(default_factory=dict)  # page -> degrees turned clockwise to read it
    noise_pages: list[int] = field(default_factory=list)  # OCR'd pages that read as noise (no text kept)

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


# --- rejoining hard-wrapped lines -------------------------------------------------------------

_FIELD_OR_ITEM = re.compile(
    r"^\s*(?:[-*\u2022\u00b7>]\s|\d{1,2}[.)]\s|[A-Za-z](?:(?!\.\s)[A-Za-z0-9 /&()'#.-]){0,38}:(?:\s|$)"
    r"|[A-Z][A-Z0-9 /&(),'-]{2,}$)"
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


# --- repairing OCR damage ---------------------------------------------------------------------

_TOKEN = re.compile(r"[A-Za-z0-9|]+")
_LETTER_FOR = {"0": "oO", "1": "liI", "|": "lI", "5": "sS", "8": "B"}
_DIGIT_FOR = {"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"}
_NUMBER_LIKE = re.compile(r"[0-9OolI|]*[0-9][0-9OolI|]*")
# Short words that are words in their own right: two of them side by side are never joined.
_COMMON = frozenset(
    "a an and as at be by for from he her his in is it me my no nor not of on or our she so than that the their "
    "them then there they this to up us was we were who with you re de pre post non".split()
)


def _known(word: str, vocabulary: frozenset[str]) -> bool:
    w = word.lower()
    return w in vocabulary or (w.endswith("s") and w[:-1] in vocabulary)


def _swap_letters(token: str, vocabulary: frozenset[str]) -> str | None:
    """'gl1oma' -> 'glioma', 'rad|ation' -> 'radiation': a confusable digit inside a known word."""
    spots = [i for i, ch in enumerate(token) if ch in _LETTER_FOR]
    letters = sum(ch.isalpha() for ch in token)
    if not spots or len(spots) > 3 or letters < 3 or letters <= len(spots):
        return None
    alpha = [ch for ch in token if ch.isalpha()]
    candidates = [""]
    for ch in token:
        options = _LETTER_FOR.get(ch, ch)
        candidates = [c + o for c in candidates for o in options]
    for candidate in candidates:
        if _known(candidate, vocabulary):
            if all(ch.isupper() for ch in alpha):
                return candidate.upper()
            return candidate.capitalize() if token[0].isupper() else candidate.lower()
    return None


def _swap_digits(token: str) -> str | None:
    """'6O' -> '60', '2O24' -> '2024', 'l1/2O25' pieces: letters O/l/I standing among digits."""
    if token.isdigit() or not _NUMBER_LIKE.fullmatch(token):
        return None
    if sum(ch.isdigit() for ch in token) < max(1, len(token) // 2):
        return None
    return "".join(_DIGIT_FOR.get(ch, ch) for ch in token)


# "ring- and nodular-enhancing", "lesion- no edema": a hyphen before these words is no broken compound
_NOT_GLUED = _COMMON | {"versus", "vs", "without", "but", "nor"}
_SEAM = re.compile(r"[A-Za-z][0-9|]|[0-9|][A-Za-z]")
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789|")
_SPLIT = re.compile(r"([A-Za-z]{2,})( - |- | |-)(?=([A-Za-z]{2,}))")


def repair_ocr(
    text: str, vocabulary: tuple[frozenset[str], frozenset[str]] | None = None
) -> tuple[str, array | None]:
    """Undo common OCR damage where the result is a known word; keep a map back to `text`.

    - a digit misread inside a word ("gl1oma", "rad1ation", "necros1s") or a letter inside a number
      ("6O Gy", "2O24");
    - a clinical word split by a stray space or an in-line hyphen ("gliob lastoma", "radia- tion",
      "necro-sis") when the pieces are not both words themselves.
    Unknown strings stay as they are: nothing is invented. `vocabulary` is (words to join into, words to
    repair into), by default `knowledge.ocr_vocabulary()`. Returns the repaired text and, for each of
    its characters, the offset of its source character in `text` (as `rejoin` does), or None when no
    character moved (swaps keep lengths).
    """
    if vocabulary is None:
        from .knowledge import ocr_vocabulary

        vocabulary = ocr_vocabulary()
    curated, known = vocabulary
    pieces: list[str] = []
    last = 0
    for m in _SEAM.finditer(text):
        start, end = m.start(), m.end()
        if start < last:
            continue
        while start > 0 and text[start - 1] in _TOKEN_CHARS:
            start -= 1
        while end < len(text) and text[end] in _TOKEN_CHARS:
            end += 1
        if start < last:
            continue
        token = text[start:end]
        fixed = _swap_digits(token) or _swap_letters(token, known)
        if fixed is not None and len(fixed) == len(token) and fixed != token:
            pieces += [text[last:start], fixed]
            last = end
    swapped = "".join(pieces) + text[last:] if pieces else text

    drops: list[tuple[int, int]] = []
    prefixes = _prefixes(curated)
    resume = 0
    for m in _SPLIT.finditer(swapped):
        if m.start() < resume:
            continue
        gap, second = m.group(2), m.group(3)
        if _joins(swapped, m, curated, known, prefixes):
            drops.append((m.end(1), m.end()))
            resume = m.end() + len(second)
        elif gap == "- " and second[0].islower() and second.lower() not in _NOT_GLUED:
            drops.append((m.end(1) + 1, m.end()))  # "ring- enhancing": OCR's space after a hyphen
            resume = m.end()
    if not drops:
        return swapped, None
    out = array("i")
    parts: list[str] = []
    last = 0
    for a, b in drops:
        out.extend(range(last, a))
        parts.append(swapped[last:a])
        last = b
    out.extend(range(last, len(swapped)))
    parts.append(swapped[last:])
    return "".join(parts), out


def _joins(text: str, m: re.Match[str], curated: frozenset[str], known: frozenset[str], prefixes) -> bool:
    """Pieces of one curated word split by OCR ("gliob lastoma", "radia- tion"), not two words."""
    first, gap, second = m.group(1), m.group(2), m.group(3)
    if first.lower() not in prefixes or not _known((first + second).lower(), curated):
        return False
    after = m.end() + len(second)
    if text[m.start() - 1 : m.start()] == "/" or text[after : after + 1] == "/":
        return False  # "s/p", "w/o": abbreviations, not pieces of a word
    words = [_known(p, known) or p.lower() in _COMMON for p in (first, second)]
    return not (all(words) or ("-" in gap and any(words)))


@lru_cache(maxsize=4)
def _prefixes(words: frozenset[str]) -> frozenset[str]:
    return frozenset(w[:i] for w in words for i in range(2, len(w)))
