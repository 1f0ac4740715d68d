"""Every reach into medspaCy's private attributes, in one visible place.

Each patch is a measured speed-up of a medspaCy code path (figures in each docstring), guarded by the
medspaCy version or layout it was written against (`MEDSPACY_VERSION`): on any other, the sectionizer
falls back to medspaCy's own path and the matcher patches raise at pipeline build, never mid-case.
`tests/nlp/test_nlp_compiled.py` checks the patched pipeline against the unpatched one.
"""

from bisect import bisect_right

import medspacy
from medspacy.common.regex_matcher import RegexMatcher
from medspacy.common.util import get_token_for_char
from medspacy.section_detection.section import Section
from spacy.tokens import Doc, Span, Token

MEDSPACY_VERSION = "1.3.1"

TEXT_KEY = "extractor.text_with_ws"


def _medspacy_matcher(component: object) -> object:
    """The MedspacyMatcher inside a TargetMatcher or ConText (medspaCy 1.3.1 keeps it private)."""
    return getattr(component, "_TargetMatcher__matcher", None) or getattr(component, "_ConText__matcher", None)


def read_text_once(component: object) -> None:
    """Make a component's medspaCy RegexMatcher read `doc.text_with_ws` once per doc, not once per rule.

    spaCy rebuilds that string from every token on each access; with ~50 regex rules that rebuild was
    three quarters of the target matcher's time. The text is kept in `doc.user_data` for the target
    matcher and ConText to share (tokens never change after the tokenizer). Same patterns, same
    matches, same order.
    """
    regex = getattr(_medspacy_matcher(component), "_MedspacyMatcher__regex_matcher", None)
    if type(regex) is not RegexMatcher:
        raise RuntimeError("medspaCy's matcher layout changed: review read_text_once")
    regex.__class__ = type("TextOnceRegexMatcher", (RegexMatcher,), {"__call__": _regex_matches})


def _regex_matches(self: object, doc: Doc) -> list[tuple[int, int, int]]:
    """medspaCy 1.3.1's `RegexMatcher.__call__` with the doc's text read once."""
    text = doc.user_data.get(TEXT_KEY)
    if text is None:
        text = doc.user_data[TEXT_KEY] = doc.text_with_ws
    matches: list[tuple[int, int, int]] = []
    for match_id, patterns in self._patterns.items():
        on_match = self._callbacks[match_id]
        for pattern in patterns:
            for m in pattern.finditer(text):
                span = doc.char_span(m.start(), m.end())
                if span is None:
                    start = get_token_for_char(doc, m.start(), resolve=self.resolve_start)
                    end = get_token_for_char(doc, m.end(), resolve=self.resolve_end)
                    span = doc[start.i : len(doc) if end is None else end.i]
                if len(span):
                    matches.append((match_id, span.start, span.end))
                if on_match is not None:
                    on_match(self, doc, len(matches) - 1, matches)
    return matches


LEAN_SECTIONIZER_FOR = MEDSPACY_VERSION


def lean_sectionizer_call(self: object, doc: Doc) -> Doc:
    """medspaCy 1.3.1's `Sectionizer.__call__`, without writing the section onto every token.

    That per-token write was most of the sectionizer's time; `Token._.section` is computed on demand
    instead (`_section_of`). Everything else (matching, start/end-line filters, parents, sentence
    boundaries, section spans, assertion attributes) is medspaCy's code path, unchanged.
    """
    matcher = self._Sectionizer__matcher
    matches = matcher(doc)
    if self.require_start_line:
        matches = self.filter_start_lines(doc, matches)
    if self.require_end_line:
        matches = self.filter_end_lines(doc, matches)
    if self._parent_sections:
        matches = self.set_parent_sections(matches)
    doc._.sections = []
    if not matches:
        doc._.sections.append(Section(None, 0, 0, 0, len(doc)))
        return doc
    sections: list = []
    if matches[0][1] != 0:
        sections.append(Section(None, 0, 0, 0, matches[0][1]))
    for i, match in enumerate(matches):
        parent = None
        if len(match) == 4:
            match_id, start, end, parent_idx = match
            if parent_idx is not None:
                parent = sections[parent_idx]
        else:
            match_id, start, end = match
        if self._apply_sentence_boundary:
            doc[start].sent_start = True
            if end < len(doc):
                doc[end].sent_start = True
        rule = matcher.rule_map[self.nlp.vocab.strings[match_id]]
        limit = len(doc) if i == len(matches) - 1 else matches[i + 1][1]
        if self.max_section_length is None and rule.max_scope is None:
            scope_end = limit
        else:
            scope = rule.max_scope if rule.max_scope is not None else self.max_section_length
            scope_end = min(end + scope, limit)
        sections.append(Section(rule.category, start, end, end, scope_end, parent, rule))
    doc._.sections.extend(sections)
    if self.assertion_attributes_mapping:
        if self._input_span_type.lower() == "ents":
            self.set_assertion_attributes(doc.ents)
        elif self._input_span_type.lower() == "group":
            self.set_assertion_attributes(doc.spans[self._span_group_name])
    return doc


def install_lean_sectionizer(sectionizer: object) -> bool:
    """Swap in `lean_sectionizer_call` on the medspaCy version it was written against; True if swapped."""
    if medspacy.__version__ != LEAN_SECTIONIZER_FOR:
        return False
    sectionizer.__class__ = type("LeanSectionizer", (type(sectionizer),), {"__call__": lean_sectionizer_call})
    return True


def _section_of(token: object) -> object:
    """The medspaCy Section a token lies in, looked up in doc._.sections (sorted, non-overlapping)."""
    sections = token.doc._.sections
    if not sections:
        return None
    i = bisect_right([s.section_span[0] for s in sections], token.i) - 1
    if i >= 0 and token.i < sections[i].section_span[1]:
        return sections[i]
    return None


def register_extensions() -> None:
    # medspaCy's Sectionizer stores its section on every token of the doc, one extension write per
    # token, which cost more than the rest of the sectionizer; the same attribute is computed on demand.
    Token.set_extension("section", getter=_section_of, setter=lambda token, value: None, force=True)
    for attr in ("is_negated", "is_uncertain", "is_historical", "is_hypothetical", "is_family"):
        if not Span.has_extension(attr):
            Span.set_extension(attr, default=False)


PHRASES = "phrases"
WORDS = "one_token_per_word"


def add_rules(component: object, rules: list) -> None:
    """Add rules to a medspaCy TargetMatcher or ConText, with all the phrases of compiled rules.

    A compiled rule carries its phrases in metadata: medspaCy matches a rule's literal, and the other
    phrases go to its PhraseMatcher under the same rule id, so one rule object serves thousands of
    phrases (a rule object per phrase cost about 50 MB). Phrases marked WORDS are one token per
    space-separated word, as the token pattern they come from was; medspaCy would build them with the
    tokenizer, so the matcher's tokenizer is swapped while they are added.
    """
    inner = _medspacy_matcher(component)
    phrase_matcher = getattr(inner, "_MedspacyMatcher__phrase_matcher", None)
    if phrase_matcher is None or not hasattr(inner, "nlp"):
        raise RuntimeError(f"medspaCy's matcher layout changed (tested on {MEDSPACY_VERSION}): review add_rules")
    tokenizer = inner.nlp
    by_words = lambda text: Doc(tokenizer.vocab, words=text.split(" "))  # noqa: E731
    component.add([r for r in rules if not (r.metadata or {}).get(PHRASES)])
    for rule in rules:
        phrases = (rule.metadata or {}).get(PHRASES)
        if not phrases:
            continue
        make = by_words if rule.metadata.get(WORDS) else tokenizer
        inner.nlp = make
        try:
            component.add([rule])
        finally:
            inner.nlp = tokenizer
        docs = [make(p) for p in phrases if p != rule.literal]
        if docs:
            phrase_matcher.add(rule._rule_id, docs, on_match=rule.on_match)
        rule.metadata = {k: v for k, v in rule.metadata.items() if k != PHRASES} | {"phrase_count": len(phrases)}
