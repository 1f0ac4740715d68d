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
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise

import numpy as np
from spacy.attrs import IDX, LENGTH, SENT_START
from spacy.language import Language
from spacy.tokens import Doc, Span

from extractor import knowledge

from .medspacy_patches import TEXT_KEY, folded_text
from .regex_needs import could_match
from .regex_starts import find, matches


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
    craniotomy: re.Pattern | None = None
    csf_diversion: re.Pattern | None = None
    by_concept: dict[str, tuple[NotMention, ...]] = field(default_factory=dict)  # not_mentions by label


@lru_cache(maxsize=1)
def rules() -> AnatomyRules:
    """The anatomy rules of models/anatomy_rules.json (validated by the knowledge loader), compiled once."""
    data = knowledge.anatomy_rules()

    def rx(p: str | None, flags: int = re.I) -> re.Pattern | None:
        return re.compile(p, flags) if p else None

    not_mentions = tuple(
        NotMention(frozenset(n.concepts), re.compile(n.text), rx(n.before), rx(n.after), n.keep_family)
        for n in data.not_mentions
    )
    labels = {label for n in not_mentions for label in n.concepts}
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
        not_mentions=not_mentions,
        craniotomy=rx(data.craniotomy),
        csf_diversion=rx(data.csf_diversion),
        by_concept={label: tuple(n for n in not_mentions if label in n.concepts) for label in labels},
    )


def _checked(ent: Span, r: AnatomyRules, label: str | None = None, words: str | None = None) -> Check | None:
    """The check an entity needs; `label` and `words` are its label and text when already read (`Span.text`
    rebuilds the string from its tokens on every access)."""
    label = ent.label_ if label is None else label
    words = ent.text if words is None else words
    return next((c for c in r.checks if label in c.concepts and c.text.fullmatch(words)), None)


class _Text:
    """The doc's text, read once (spaCy rebuilds `doc.text` from every token on each access), its
    anatomy word counts, counted only when an entity needs them, and what each sentence names, searched
    once per sentence however many entities it holds."""

    def __init__(self, doc: Doc, r: AnatomyRules):
        self.text = doc.user_data.get(TEXT_KEY) or doc.text
        self.r = r
        self.doc = doc
        self._counts: tuple[int, int] | None = None
        self._bounds: list[int] | None = None
        self._chars: tuple[list[int], list[int]] | None = None
        self._words: dict[tuple[int, int, bool], tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]] = {}
        self._starts: tuple[list[int] | None, list[int] | None] | None = None

    def folded(self) -> str:
        """The text as `regex_starts.fold` folds it (`folded_text`: once per doc, shared with the matchers);
        a slice of it is the slice folded."""
        return folded_text(self.doc)

    def starts(self) -> tuple[list[int] | None, list[int] | None]:
        """Where in the text a brain word and another organ's word may start (`regex_starts`): the two
        word regexes are tried only there, in every sentence."""
        if self._starts is None:
            lowered = self.folded()
            self._starts = find(self.r.brain, lowered), find(self.r.elsewhere, lowered)
        return self._starts

    def counts(self) -> tuple[int, int]:
        if self._counts is None:
            brain, elsewhere = self.starts()
            self._counts = (
                len(matches(self.r.brain, self.text, brain)),
                len(matches(self.r.elsewhere, self.text, elsewhere)),
            )
        return self._counts

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        """The token range of spaCy's `doc[start:end].sent` (back to a `sent_start == 1` token, forward
        to the next), found by bisection instead of spaCy's walk over Token objects."""
        if self._bounds is None:
            self._bounds = np.flatnonzero(self.doc.to_array(SENT_START).astype(np.int64) == 1).tolist()
        bounds = self._bounds
        k = bisect_right(bounds, start) - 1
        k_end = bisect_left(bounds, end)
        return (bounds[k] if k >= 0 else 0), (bounds[k_end] if k_end < len(bounds) else len(self.doc))

    def char_range(self, start: int, end: int) -> tuple[int, int]:
        """`start_char`, `end_char` of the token range start:end (end > start)."""
        if self._chars is None:
            idx = self.doc.to_array(IDX).astype(np.int64)
            self._chars = idx.tolist(), (idx + self.doc.to_array(LENGTH).astype(np.int64)).tolist()
        return self._chars[0][start], self._chars[1][end - 1]

    def words(self, start: int, end: int, own: bool) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
        """The brain words and the other organs' words of text[start:end] (limbs only in an entity's own
        sentence, a tumour's origin left out), searched once per sentence however many entities it holds."""
        key = (start, end, own)
        found = self._words.get(key)
        if found is None:
            r, text = self.r, self.text[start:end]
            brain_at, elsewhere_at = self.starts()
            other = matches(r.elsewhere, text, elsewhere_at, start)
            if r.limbs and own:
                other += r.limbs.finditer(text)
            if r.origin:
                other = [m for m in other if not r.origin.search(text, max(0, m.start() - 40), m.start())]
            found = self._words[key] = (
                [(m.start() + start, m.end() + start, "brain") for m in matches(r.brain, text, brain_at, start)],
                [(m.start() + start, m.end() + start, "elsewhere") for m in other],
            )
        return found

def _kind(
    doc: _Text, start: int, end: int, pos: tuple[int, int], anchors: list[tuple[int, int]], own: bool
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
    brain, elsewhere = doc.words(start, end, own)
    words = [*brain, *((a, b, "brain") for a, b in anchors if start <= a and b <= end), *elsewhere]
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


CONTEXT_KEY = "extractor.text_before"  # the text before a chunk (extract.py), read when a window reaches its start
CONTEXT_CHARS = 600

UNSAID = "unsaid"  # the text names no anatomy at all (a one-line order, a test sentence): nothing to go by


_SENTENCE_END = re.compile(r"[.!?]\s+|\n\s*\n")


def _before_chunk(before: str | None, r: AnatomyRules) -> str | None:
    """What the text just before a chunk is about, read as the window reads sentences before an entity:
    the last sentence naming any anatomy decides, "brain" if it names the brain at all ("a malignant brain
    tumor, adenocarcinoma compatible with breast cancer" is about the brain)."""
    if not before:
        return None
    cuts = [0, *(m.end() for m in _SENTENCE_END.finditer(before)), len(before)]
    for a, b in reversed(list(pairwise(cuts))):
        sentence = before[a:b]
        if r.brain.search(sentence):
            return "brain"
        if r.elsewhere.search(sentence):
            return "elsewhere"
    return None


def near(
    ent: Span, anchors: list[tuple[int, int]], r: AnatomyRules, doc: _Text, carried: Sequence[tuple[int, int]] = ()
) -> str | None:
    """ "brain", "elsewhere" or None from the entity's own sentence, else the `window` sentences before it
    (nearest first). `carried` are earlier bare words judged the brain's this way: "the tumor" two sentences
    on refers back to them, but they are no anatomy word in the entity's own sentence."""
    own = [(a, b) for a, b in anchors if not (a == ent.start_char and b == ent.end_char)]
    start, end = doc.sentence(ent.start, ent.end)
    found = _kind(doc, *doc.char_range(start, end), (ent.start_char, ent.end_char), own, True)
    if found:
        return found
    before = [*own, *carried]
    for _ in range(r.window):
        if start <= 0:
            return _before_chunk(ent.doc.user_data.get(CONTEXT_KEY), r)
        start, end = doc.sentence(start - 1, start)
        first, last = doc.char_range(start, end)
        found = _kind(doc, first, last, (last, last), before, False)
        if found:
            return found
    return None


def about(
    ent: Span,
    anchors: list[tuple[int, int]],
    r: AnatomyRules,
    text: _Text | None = None,
    carried: Sequence[tuple[int, int]] = (),
) -> str | None:
    """ "brain", "elsewhere" or None for one entity: its sentence decides, else the `window` sentences
    before it (nearest first), else the whole text by majority."""
    doc = text or _Text(ent.doc, r)
    found = near(ent, anchors, r, doc, carried)
    if found:
        return found
    own = [(a, b) for a, b in anchors if not (a == ent.start_char and b == ent.end_char)]
    brain_words, elsewhere = doc.counts()
    brain = brain_words + len(own)
    if brain == elsewhere:
        return None if brain else UNSAID
    return "brain" if brain > elsewhere else "elsewhere"


def of_craniotomy(ent: Span, r: AnatomyRules, text: str) -> bool:
    """Whether a "burr hole" is a craniotomy's (brain surgery) rather than a shunt's, drain's or electrode's
    (CSF diversion, not PRIOR_SURGERY): the nearest word of either kind in the text decides, else the last
    one in the text before the chunk; none at all, and the burr hole is no finding."""
    if r.craniotomy is None or r.csf_diversion is None:
        return True
    a, b = ent.start_char, ent.end_char
    kinds = ((True, r.craniotomy), (False, r.csf_diversion))
    near = [(max(a - m.end(), m.start() - b, 0), kind) for kind, rx in kinds for m in rx.finditer(text)]
    if near:
        return min(near, key=lambda n: (n[0], not n[1]))[1]
    before = ent.doc.user_data.get(CONTEXT_KEY) or ""
    last = [(m.end(), kind) for kind, rx in kinds for m in rx.finditer(before)]
    return max(last)[1] if last else False


NOT_MENTION_REACH = 200  # characters read before an entity: a consent's list of risks runs long
NOT_MENTION_AFTER = 100  # characters read after it: "SRS for a lung cancer metastasis in the right frontal lobe"


def _not_a_mention(
    ent: Span,
    r: AnatomyRules,
    doc_text: str,
    label: str | None = None,
    words: str | None = None,
    folded: str | None = None,
) -> bool:
    """Whether the words before or after the entity make it no mention (`not_mentions`); `folded` is the
    doc's text folded (`_Text.folded`), when read: a `before` regex whose needed words (`regex_needs`)
    are not in the reach before the entity is not run."""
    label = ent.label_ if label is None else label
    words = ent.text if words is None else words
    for n in r.by_concept.get(label, ()):
        if n.text.fullmatch(words) and not (n.keep_family and ent._.is_family):
            start = max(0, ent.start_char - NOT_MENTION_REACH)
            reach = folded[start : ent.start_char] if folded is not None else None
            if n.before is not None and not could_match(n.before, reach):
                continue
            before = doc_text[start : ent.start_char]
            after = doc_text[ent.end_char : ent.end_char + NOT_MENTION_AFTER]
            if (n.before is None or n.before.search(before)) and (n.after is None or n.after.match(after)):
                return True
    return False


_UNREAD = object()


def keep(
    ent: Span,
    anchors: list[tuple[int, int]],
    r: AnatomyRules,
    text: _Text,
    label: str | None = None,
    words: str | None = None,
    check: object = _UNREAD,
    carried: Sequence[tuple[int, int]] = (),
    unsaid: bool | None = None,
) -> bool:
    if _not_a_mention(ent, r, text.text, label, words) if unsaid is None else unsaid:
        return False
    if check is _UNREAD:
        check = _checked(ent, r, label, words)
    if check is None or (check.keep_family and ent._.is_family):
        return True
    if check.require == "craniotomy":
        return of_craniotomy(ent, r, text.text)
    where = about(ent, anchors, r, text, carried)
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
        text = _Text(doc, r)
        labels = [e.label_ for e in ents]
        words = [text.text[e.start_char : e.end_char] for e in ents]  # == e.text, read once
        checks = [_checked(e, r, lab, w) for e, lab, w in zip(ents, labels, words, strict=True)]
        # a not-mention ("spinal cord astrocytoma") anchors nothing: the resection of it is no brain surgery
        folded = text.folded()
        unsaid = [
            _not_a_mention(e, r, text.text, lab, w, folded) for e, lab, w in zip(ents, labels, words, strict=True)
        ]
        anchors = [
            (e.start_char, e.end_char)
            for e, lab, c, u in zip(ents, labels, checks, unsaid, strict=True)
            if lab in concepts and c is None and not u
        ]
        kept, carried = [], []
        for e, lab, w, c, u in zip(ents, labels, words, checks, unsaid, strict=True):
            if keep(e, anchors, r, text, lab, w, c, carried, u):
                kept.append(e)
                # "the tumor" its sentences place in the brain is what the next sentences' "the tumor" means
                if c is not None and lab in concepts and c.require == "brain":
                    if near(e, anchors, r, text, carried) == "brain":
                        carried.append((e.start_char, e.end_char))
        if len(kept) != len(ents):
            doc.set_ents(kept)
    return doc
