"""What a bare word is about: drop target matches whose sentence is about another organ, or a non-mention.

medspaCy has no mechanism for "a mass in the lung is not a brain lesion": a target rule matches words, a
ConText modifier sets flags but cannot remove an entity. This component runs after ConText so that
a check may keep family-flagged mentions (`keep_family`: the flag already says whose they are). Its words
are data (models/anatomy_rules.json):
- `checks`: entity texts (per concept) that need the check; `require: "brain"` keeps a match only when the
  nearest anatomy word (in its sentence, else in the `window_sentences` before it) is a brain word;
  `require: "not_elsewhere"` drops it only when that nearest anatomy word is another organ's.
- `not_mentions`: an entity text with what must come just before or after it to make it no mention at all
  ("MS:" is mental status, "Jackson, MS 39216" an address, "RT arm" the right arm).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc, Span

from extractor import knowledge

from .medspacy_patches import TEXT_KEY


@dataclass(frozen=True)
class Check:
    concepts: frozenset[str]
    text: re.Pattern
    require: str
    keep_family: bool = False


@dataclass(frozen=True)
class NotMention:
    concepts: frozenset[str]
    text: re.Pattern
    before: re.Pattern | None
    after: re.Pattern | None
    keep_family: bool = False


@dataclass(frozen=True)
class AnatomyRules:
    brain: re.Pattern
    elsewhere: re.Pattern
    limbs: re.Pattern | None
    origin: re.Pattern | None
    anchor_concepts: frozenset[str]
    window: int
    checks: tuple[Check, ...]
    not_mentions: tuple[NotMention, ...]


@lru_cache(maxsize=1)
def rules() -> AnatomyRules:
    """The anatomy rules of models/anatomy_rules.json (validated by the knowledge loader), compiled once."""
    data = knowledge.anatomy_rules()

    def rx(p: str | None, flags: int = re.I) -> re.Pattern | None:
        return re.compile(p, flags) if p else None

    return AnatomyRules(
        brain=re.compile(data.brain, re.I),
        elsewhere=re.compile(data.elsewhere, re.I),
        limbs=rx(data.limbs),
        origin=rx(data.origin),
        anchor_concepts=frozenset(data.anchor_concepts),
        window=data.window_sentences,
        checks=tuple(
            Check(frozenset(c.concepts), re.compile(c.text, re.I), c.require, c.keep_family) for c in data.checks
        ),
        not_mentions=tuple(
            NotMention(frozenset(n.concepts), re.compile(n.text), rx(n.before), rx(n.after), n.keep_family)
            for n in data.not_mentions
        ),
    )


def _checked(ent: Span, r: AnatomyRules) -> Check | None:
    return next((c for c in r.checks if ent.label_ in c.concepts and c.text.fullmatch(ent.text)), None)


class _Text:
    """The doc's text, read once (spaCy rebuilds `doc.text` from every token on each access), and its
    anatomy word counts, counted only when an entity needs them."""

    def __init__(self, doc: Doc, r: AnatomyRules):
        self.text = doc.user_data.get(TEXT_KEY) or doc.text
        self.r = r
        self._counts: tuple[int, int] | None = None

    def counts(self) -> tuple[int, int]:
        if self._counts is None:
            self._counts = (len(self.r.brain.findall(self.text)), len(self.r.elsewhere.findall(self.text)))
        return self._counts


def _kind(
    doc: _Text, start: int, end: int, pos: tuple[int, int], anchors: list[tuple[int, int]], r: AnatomyRules, own: bool
) -> str | None:
    """What doc.text[start:end] says the entity at `pos` is about: "brain" (a brain word, or an unambiguous
    concept such as "glioma"), "elsewhere" (another organ; a limb only in the entity's own sentence, since a
    weak arm is no stroke's site), else None.

    In the entity's own sentence (`own`) the nearest word decides, not any: a list of operations or a
    sentence about two organs names both. Where words overlap the longer wins ("left ventricle" is the
    heart's, "frontal sinus" the face's), a tie in distance goes to the brain, and an organ a tumour came
    from ("metastasis from breast") is not where it is. A sentence before the entity is about the brain
    if it names the brain at all: the entity refers back to its topic.
    """
    text = doc.text[start:end]
    words = [(m.start() + start, m.end() + start, "brain") for m in r.brain.finditer(text)]
    words += [(a, b, "brain") for a, b in anchors if start <= a and b <= end]
    other = [m for m in r.elsewhere.finditer(text)]
    if r.limbs and own:
        other += r.limbs.finditer(text)
    if r.origin:
        other = [m for m in other if not r.origin.search(text, max(0, m.start() - 40), m.start())]
    words += [(m.start() + start, m.end() + start, "elsewhere") for m in other]
    if not words:
        return None
    if not own:  # a sentence before the entity: what it is about, wherever in it the words are
        return "brain" if any(w[2] == "brain" for w in words) else "elsewhere"
    kept: list[tuple[int, int, str]] = []
    for w in sorted(words, key=lambda w: w[0] - w[1]):
        if all(w[1] <= k[0] or k[1] <= w[0] for k in kept):
            kept.append(w)
    a, b = pos
    nearest = min(kept, key=lambda w: (max(a - w[1], w[0] - b, 0), w[2] != "brain"))
    return nearest[2]


UNSAID = "unsaid"  # the text names no anatomy at all (a one-line order, a test sentence): nothing to go by


def about(ent: Span, anchors: list[tuple[int, int]], r: AnatomyRules, text: _Text | None = None) -> str | None:
    """ "brain", "elsewhere" or None for one entity: its sentence decides, else the `window` sentences
    before it (nearest first), else the whole text by majority."""
    doc = text or _Text(ent.doc, r)
    own = [(a, b) for a, b in anchors if not (a == ent.start_char and b == ent.end_char)]
    sent = ent.sent
    found = _kind(doc, sent.start_char, sent.end_char, (ent.start_char, ent.end_char), own, r, True)
    if found:
        return found
    start = sent.start
    for _ in range(r.window):
        if start <= 0:
            break
        prev = ent.doc[start - 1].sent
        found = _kind(doc, prev.start_char, prev.end_char, (prev.end_char, prev.end_char), own, r, False)
        if found:
            return found
        start = prev.start
    brain_words, elsewhere = doc.counts()
    brain = brain_words + len(own)
    if brain == elsewhere:
        return None if brain else UNSAID
    return "brain" if brain > elsewhere else "elsewhere"


NOT_MENTION_REACH = 200  # characters read before an entity: a consent's list of risks runs long


def _not_a_mention(ent: Span, r: AnatomyRules, doc_text: str) -> bool:
    for n in r.not_mentions:
        if ent.label_ in n.concepts and n.text.fullmatch(ent.text) and not (n.keep_family and ent._.is_family):
            before = doc_text[max(0, ent.start_char - NOT_MENTION_REACH) : ent.start_char]
            after = doc_text[ent.end_char : ent.end_char + 40]
            if (n.before is None or n.before.search(before)) and (n.after is None or n.after.match(after)):
                return True
    return False


def keep(ent: Span, anchors: list[tuple[int, int]], r: AnatomyRules, text: _Text) -> bool:
    if _not_a_mention(ent, r, text.text):
        return False
    check = _checked(ent, r)
    if check is None or (check.keep_family and ent._.is_family):
        return True
    where = about(ent, anchors, r, text)
    return where in ("brain", UNSAID) if check.require == "brain" else where != "elsewhere"


@Language.component("anatomy_filter")
def anatomy_filter(doc: Doc) -> Doc:
    """Keep only the entities whose sentence is about the brain where the word alone does not say so."""
    ents = doc.ents
    if ents:
        r = rules()
        concepts = set(knowledge.pipeline_config().concepts)  # documentation cues (DOC_*) say nothing of anatomy
        if r.anchor_concepts:
            concepts &= r.anchor_concepts
        anchors = [(e.start_char, e.end_char) for e in ents if e.label_ in concepts and _checked(e, r) is None]
        text = _Text(doc, r)
        kept = [e for e in ents if keep(e, anchors, r, text)]
        if len(kept) != len(ents):
            doc.set_ents(kept)
    return doc
