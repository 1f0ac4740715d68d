"""The per-document run: extracted text in, mentions with context flags and section out.

Offsets in the result point into the text given, whatever normalisation the pipeline read."""

import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from spacy.language import Language
from spacy.tokens import Doc, Span

from extractor import knowledge

from .anatomy import CONTEXT_CHARS, CONTEXT_KEY
from .normalize import normalize
from .pipeline import load


@dataclass(slots=True)
class Mention:
    """A matched concept in NLP text coordinates."""

    label: str
    text: str
    start: int
    end: int
    sentence: str
    section: str | None
    negated: bool
    historical: bool
    hypothetical: bool
    family: bool
    uncertain: bool
    dated: str | None = None


def _dated(ent: Span) -> str | None:
    """The date cue ("in 02/2026") when date cues alone make the entity historical: how old the date
    is decides later, against the request date."""
    if not ent._.is_historical:
        return None
    cues = [m for m in ent._.modifiers if m.category == "HISTORICAL"]
    if cues and all((m.rule.metadata or {}).get("dated") for m in cues):
        return ent.doc[cues[0].modifier_span[0] : cues[0].modifier_span[1]].text
    return None


def _mention(ent: Span, offset: int, section: str | None, section_historical: bool = False) -> Mention:
    sent = ent.sent
    return Mention(
        label=ent.label_,
        text=ent.text,
        start=ent.start_char + offset,
        end=ent.end_char + offset,
        sentence=re.sub(r"\s+", " ", sent.text).strip()[:600],
        section=section,
        negated=ent._.is_negated,
        historical=ent._.is_historical,
        hypothetical=ent._.is_hypothetical,
        family=ent._.is_family,
        uncertain=ent._.is_uncertain,
        dated=None if section_historical else _dated(ent),
    )


def chunks(text: str, size: int) -> Iterator[tuple[int, str]]:
    """Split text at paragraph (else line, else space) boundaries into pieces of at most `size` chars."""
    start = 0
    while start < len(text):
        end = min(start + size, len(text))
        if end < len(text):
            for sep in ("\n\n", "\n", ". ", " "):
                cut = text.rfind(sep, start + size // 2, end)
                if cut != -1:
                    end = cut + len(sep)
                    break
        yield start, text[start:end]
        start = end


def _with_context(nlp: Language, text: str, pieces: list[tuple[int, str]]) -> Iterator[Doc]:
    """Each chunk as a Doc that carries the text just before it, so that a bare word in a chunk's first
    sentences is judged by the anatomy of the sentences before it, not by the chunk's other words."""
    for offset, piece in pieces:
        doc = nlp.make_doc(piece)
        doc.user_data[CONTEXT_KEY] = text[max(0, offset - CONTEXT_CHARS) : offset]
        yield doc


@dataclass
class Extraction:
    mentions: list[Mention]
    sections: list[tuple[int, int, str]]


def extract(text: str, nlp: Language | None = None) -> Extraction:
    """Run the pipeline over a whole document, however long, in chunks that carry the section over.

    Offsets in the result are offsets into `text`.
    """
    nlp = nlp or load()
    text, src = normalize(text)
    sections: list[tuple[int, int, str]] = []
    cfg = knowledge.pipeline_config()
    section_attrs = cfg.section_attributes
    mentions: list[Mention] = []
    last_section: str | None = None
    pieces = list(chunks(text, cfg.chunk_chars))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for (offset, _), doc in zip(pieces, nlp.pipe(_with_context(nlp, text, pieces)), strict=True):
            for ent in doc.ents:
                section = ent._.section_category
                if section is None and last_section is not None:
                    section = last_section
                    for attr, value in section_attrs.get(section, {}).items():
                        setattr(ent._, attr, value)
                in_history = bool(section_attrs.get(section or "", {}).get("is_historical"))
                mentions.append(_mention(ent, offset, section, in_history))
            for sec in doc._.sections:
                if sec.category:
                    span = doc[sec.section_span[0] : sec.section_span[1]]
                    sections.append((span.start_char + offset, span.end_char + offset, sec.category))
            if doc._.sections:
                last_section = doc._.sections[-1].category
    for m in mentions:
        m.start, m.end = src[m.start], src[m.end - 1] + 1
    sections = [(src[a], src[b - 1] + 1 if b > a else src[a], cat) for a, b, cat in sections]
    return Extraction(mentions, sections)
