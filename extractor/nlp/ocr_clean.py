"""Fax speckle that OCR reads as punctuation, removed before the NLP reads an OCR'd document.

A speck of fax noise beside a word is read as ".", ",", ":", "'" or "|": ".No mass or enhancing lesion"
is no negation to ConText ("No" is not a token of its own), "recurrent tumor;. radiation necrosis ... 12
months ago" splits the sentence that made the finding historical, "If a new. enhancing lesion" loses its
hypothetical cue, "CPT.76390" hides the code's word boundary. Only patterns a typed note does not use are
changed, and every change is one character for one (a speck becomes a space, a misread abbreviation its
same-length original), so offsets into the extracted text stay valid without a map. Abbreviations OCR
misreads ("sip" for "s/p") are data: `misreads` in models/ocr_vocabulary.json.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from extractor.ingest.orientation import dictionary_words
from extractor.knowledge import guidelines, ocr_confusable, ocr_misreads

_SPECK = "[.,'`\u2018\u2019\u201c\u201d|\u00b0\u00a9_]"  # not ":" or ";": "Name : Robert Hale" is a typed field
_QUOTE = "['`\u2018\u2019\u201c\u201d|\u00b0\u00a9_]"  # not "." or ",": ".5 cm" is a number
_PATTERNS = (
    # a speck standing alone between spaces or at a line end: "HEMATOLOGY .", "(60 |", "81% ° H"
    re.compile(rf"(?<=[ \t]){_SPECK}+(?=[ \t]*(?:\n|$)|[ \t])"),
    # a speck glued to the start of a word: ".No mass", "'spectroscopy", "'2. No new"
    re.compile(rf"(?:(?<=[ \t])|(?<=^))(?:{_SPECK}+(?=[A-Za-z])|{_QUOTE}+(?=\d))", re.MULTILINE),
    # a second mark after punctuation: "tumor;. radiation", "DOB:.02/17/1966", "evaluation. :"
    re.compile(r"(?<=[;:,])[.,:;]+|(?<=[.;:,] )[.,:;]+(?=\s|$)"),
    # a period inside a phrase: "recurrent.tumor", "CPT.76390", "If a new. enhancing", "No. hemorrhage"
    re.compile(r"(?<=[a-z]{2})\.(?=[a-z]{2})|(?<=[A-Za-z]{2})\.(?=\d)|(?<=[A-Za-z]{2})\.(?=[ \t]*\n?[ \t]*[a-z])"),
    # after a word that never ends a sentence: "No prior hx of.MS"
    re.compile(
        r"(?:(?<=\b[Oo]f)|(?<=\b[Tt]o)|(?<=\b[Ii]n)|(?<=\b[Oo]r)|(?<=\b[Nn]o)|(?<=\bfor)|(?<=\band))\.(?=[A-Za-z])"
    ),
    # an underscore glued between words: "2.3 cm_right frontal"
    re.compile(r"(?<=[A-Za-z0-9])_(?=[A-Za-z])"),
    # a speck glued to the end of a word or number: "available at our\u201d", "Member ID: NIA4418821\u00b0"
    re.compile("(?<=[A-Za-z0-9])[\u201c\u201d\u00b0\u00a9|](?=[ \t]*(?:\n|$)|[ \t])", re.MULTILINE),
    # a stray colon or asterisk at a line end after a heading or spaces: "FINDINGS:     :", "mellitus   :", "No *"
    re.compile(r"(?:(?<=:)[ \t]+:|(?<=\w)[ \t]{3,}:|(?<=\w)[ \t]+\*)(?=[ \t]*(?:\n|$))", re.MULTILINE),
)
# a letter with a diacritic inside an English word: a speck over "e" ("d\u00e9nies seizures")
_ACCENTED = re.compile(r"\b[A-Za-z]*[\u00c0-\u00ff][A-Za-z\u00c0-\u00ff]*\b")


def clean_ocr(text: str) -> str:
    """`text` with OCR specks turned to spaces and misread abbreviations restored, length unchanged."""
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: " " * len(m.group()), text)
    text = _ACCENTED.sub(_fold, text)
    codes, pairs = _codes()
    if codes:
        source = text
        text = _CODE_TOKEN.sub(
            lambda m: _code(m.group(), codes, pairs, source[max(0, m.start() - 40) : m.start()]), text
        )
    table = _misreads()
    if table:
        text = _misread_pattern(tuple(sorted(table))).sub(lambda m: _restore(m.group(), table), text)
    return text


_CODE_TOKEN = re.compile(r"(?<![\w/.-])[0-9A-Z]{5}(?![\w/-])")


def _code(token: str, codes: frozenset[str], pairs: dict[str, str], before: str) -> str:
    """A guideline's CPT code misread at one confusable character ("06987" for "0698T") where a code is
    being given ("CPT" or another code just before): a zip code or an ID elsewhere is left alone."""
    if token in codes or sum(ch.isdigit() for ch in token) < 3:
        return token
    if "cpt" not in before.lower() and not any(c in before for c in codes):
        return token
    near = [c for c in codes if sum(a != b for a, b in zip(token, c, strict=True)) == 1]
    near = [c for c in near if all(a == b or pairs.get(a) == b for a, b in zip(token, c, strict=True))]
    return near[0] if len(near) == 1 else token


@lru_cache(maxsize=1)
def _codes() -> tuple[frozenset[str], dict[str, str]]:
    return frozenset(c for g in guidelines() for c in g.cpt_codes), ocr_confusable()


def _fold(m: re.Match[str]) -> str:
    """The word without its diacritics when that is a dictionary word ("d\u00e9nies"); a name keeps them."""
    word = m.group()
    folded = "".join(unicodedata.normalize("NFD", ch)[0] for ch in word)
    if len(folded) == len(word) and folded.isascii() and folded.lower() in _dictionary():
        return folded
    return word


@lru_cache(maxsize=1)
def _dictionary() -> frozenset[str]:
    words = dictionary_words()
    return words | {w + "s" for w in words}


def _restore(word: str, table: dict[str, str]) -> str:
    fixed = table[word.lower()]
    return fixed.upper() if word.isupper() else fixed


@lru_cache(maxsize=4)
def _misread_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    """A misread as a whole word, not before "of" ("a sip of water" is a sip)."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![\w/])(?:{alternatives})(?![\w/])(?!\s+of\b)", re.IGNORECASE)


@lru_cache(maxsize=1)
def _misreads() -> dict[str, str]:
    return ocr_misreads()
