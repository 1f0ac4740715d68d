"""Every offset map in one place: the text the pipeline reads differs from the extracted text
(rejoined lines, repaired OCR, collapsed spaces); each step keeps a map back so a finding still points
into the extracted text and, through it, at its page and box."""

from __future__ import annotations

import re
from array import array
from functools import lru_cache

from extractor.knowledge import ocr_vocabulary

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
_SPACE_RUN = re.compile(r"[ \t\u00a0]{2,}|[\t\u00a0]")


def collapse_spaces(text: str) -> tuple[str, list[int] | None]:
    """Runs of spaces and tabs inside a line become one space, with a map back to `text` offsets.

    Table-like and OCR'd text pads words with spaces; a spaCy whitespace token between two words of a
    phrase would keep the phrase matcher from seeing "metastatic  disease". Line breaks are kept: they
    are sentence boundaries here. The map is None when nothing changed.
    """
    if not _SPACE_RUN.search(text):
        return text, None
    out: list[str] = []
    src: list[int] = []
    pos = 0
    for m in _SPACE_RUN.finditer(text):
        out.append(text[pos : m.start()])
        src.extend(range(pos, m.start()))
        out.append(" ")
        src.append(m.start())
        pos = m.end()
    out.append(text[pos:])
    src.extend(range(pos, len(text)))
    src.append(len(text))
    return "".join(out), src


def normalize(text: str) -> tuple[str, array]:
    """The text the pipeline reads (lines rejoined, OCR damage repaired, space runs collapsed) and, for
    each of its characters, the offset in `text` of the character it came from.

    The map has one more entry than the text (the end), so a span [a, b) maps back to
    [map[a], map[b - 1] + 1).
    """
    joined, src = rejoin(text)
    repaired, back = repair_ocr(joined)
    if back is not None:
        src = array("i", (src[k] for k in back))
    collapsed, spaces = collapse_spaces(repaired)
    if spaces is not None:
        src = array("i", (src[k] if k < len(src) else len(text) for k in spaces[:-1]))
    src.append(len(text))
    return collapsed, src
