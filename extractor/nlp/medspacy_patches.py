"""Every reach into medspaCy's private attributes, in one visible place.

Each patch is a measured speed-up of a medspaCy code path (figures in each docstring), guarded by the
medspaCy version or layout it was written against (`MEDSPACY_VERSION`): on any other, the sectionizer
falls back to medspaCy's own path and the matcher patches raise at pipeline build, never mid-case.
`tests/nlp/test_nlp_compiled.py` checks the patched pipeline against the unpatched one.
"""

from bisect import bisect_left, bisect_right

import medspacy
import numpy as np
from medspacy.common.regex_matcher import RegexMatcher
from medspacy.common.util import get_token_for_char
from medspacy.context import ConTextGraph, ConTextModifier
from medspacy.section_detection.section import Section
from spacy.attrs import SENT_START
from spacy.tokens import Doc, Span, Token

from . import regex_starts
from .regex_needs import could_match

MEDSPACY_VERSION = "1.3.1"

TEXT_KEY = "extractor.text_with_ws"
FOLDED_KEY = "extractor.text_folded"


def _medspacy_matcher(component: object) -> object:
    """The MedspacyMatcher inside a TargetMatcher, ConText or Sectionizer (medspaCy 1.3.1 keeps it private)."""
    return (
        getattr(component, "_TargetMatcher__matcher", None)
        or getattr(component, "_ConText__matcher", None)
        or getattr(component, "_Sectionizer__matcher", None)
    )


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


def keep_text(nlp: object) -> None:
    """Keep each doc's text in `doc.user_data` as it is tokenized, for the matchers and the anatomy filter.

    spaCy's tokenizer loses nothing (`doc.text` is the text it was given), but `doc.text` rebuilds the
    string from every token: that rebuild, once per doc, was a sixth of the target matcher's time. Every
    doc of `nlp(...)`, `nlp.pipe(...)` and `nlp.make_doc(...)` is made by `make_doc`; a Doc built some
    other way has no kept text and `_regex_matches` reads `doc.text_with_ws` as before.
    """
    make_doc = nlp.make_doc

    def make_doc_keeping_text(text: str) -> Doc:
        doc = make_doc(text)
        doc.user_data[TEXT_KEY] = text
        return doc

    nlp.make_doc = make_doc_keeping_text


def folded_text(doc: Doc) -> str:
    """The doc's text as `regex_starts.fold` folds it, folded once per doc for the target matcher, the
    sectionizer, ConText and the anatomy filter alike."""
    folded = doc.user_data.get(FOLDED_KEY)
    if folded is None:
        text = doc.user_data.get(TEXT_KEY)
        if text is None:
            text = doc.user_data[TEXT_KEY] = doc.text_with_ws
        folded = doc.user_data[FOLDED_KEY] = regex_starts.fold(text)
    return folded


def _regex_matches(self: object, doc: Doc) -> list[tuple[int, int, int]]:
    """medspaCy 1.3.1's `RegexMatcher.__call__` with the doc's text read once, and no regex run over a
    text that lacks all the words it needs (`regex_needs`), each tried only where a match can start
    (`regex_starts`)."""
    lowered = folded_text(doc)
    text = doc.user_data[TEXT_KEY]
    matches: list[tuple[int, int, int]] = []
    for match_id, patterns in self._patterns.items():
        on_match = self._callbacks[match_id]
        for pattern in patterns:
            if not could_match(pattern, lowered):
                continue
            for m in regex_starts.matches(pattern, text, regex_starts.find(pattern, lowered)):
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


def _span_key(match: tuple[int, int, int]) -> tuple[int, int]:
    return match[1], match[2]


def prune_longest(matches: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """medspaCy 1.3.1's `prune_overlapping_matches` ("longest"), the same result by the same steps, without
    its `list.pop(0)` and a function call per pair (`tests/nlp/test_nlp_compiled.py` compares the two)."""
    while matches:
        ordered = sorted(matches, key=_span_key)
        pruned = []
        n, k = len(ordered), 1
        curr = ordered[0]
        while True:
            if k == n:
                pruned.append(curr)
                break
            nxt = ordered[k]
            k += 1
            a0, a1, b0, b1 = curr[1], curr[2], nxt[1], nxt[2]
            if a0 <= b0 < a1 or a0 < b1 <= a1:  # medspaCy's tuple_overlaps
                pruned.append(nxt if b1 - b0 > a1 - a0 else curr)  # max() keeps the first of equal length
                if k == n:
                    break
                curr = ordered[k]
                k += 1
            else:
                pruned.append(curr)
                curr = nxt
        if len(pruned) == len(matches):
            return pruned
        matches = pruned
    return matches


def _lean_matcher_call(self: object, doc: Doc) -> list[tuple[int, int, int]]:
    """medspaCy 1.3.1's `MedspacyMatcher.__call__` with `prune_longest`."""
    matches = self._MedspacyMatcher__matcher(doc)
    matches += self._MedspacyMatcher__phrase_matcher(doc)
    matches += self._MedspacyMatcher__regex_matcher(doc)
    if self._prune:
        matches = prune_longest(matches)
    return matches


def install_lean_pruning(component: object) -> bool:
    """Swap in `_lean_matcher_call` for a TargetMatcher's or ConText's matcher on the medspaCy version it was
    written against (only this pipeline's matchers: `medspacy.load()` keeps medspaCy's own)."""
    inner = _medspacy_matcher(component)
    if medspacy.__version__ != MEDSPACY_VERSION or inner is None:
        return False
    inner.__class__ = type("LeanPruneMatcher", (type(inner),), {"__call__": _lean_matcher_call})
    return True


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
            _set_section_attributes(self.assertion_attributes_mapping, doc._.sections, doc.ents)
        elif self._input_span_type.lower() == "group":
            _set_section_attributes(self.assertion_attributes_mapping, doc._.sections, doc.spans[self._span_group_name])
    return doc


def _set_section_attributes(mapping: dict, sections: list, spans: object) -> None:
    """medspaCy's `set_assertion_attributes`, each span's section looked up once in the sections just made
    (its `span._.section` walks two extension getters and rebuilds the section list twice per span)."""
    starts = [s.section_span[0] for s in sections]
    for span in spans:
        i = bisect_right(starts, span.start) - 1
        if i < 0 or span.start >= sections[i].section_span[1]:
            continue
        attrs = mapping.get(sections[i].category)
        if attrs is not None:
            for name, value in attrs.items():
                setattr(span._, name, value)


def install_lean_sectionizer(sectionizer: object) -> bool:
    """Swap in `lean_sectionizer_call` on the medspaCy version it was written against; True if swapped."""
    if medspacy.__version__ != LEAN_SECTIONIZER_FOR:
        return False
    sectionizer.__class__ = type("LeanSectionizer", (type(sectionizer),), {"__call__": lean_sectionizer_call})
    return True


LEAN_CONTEXT_FOR = MEDSPACY_VERSION


def _sentence_bounds(doc: Doc) -> list[int]:
    """Token indices that start a sentence (`sent_start == 1`), as spaCy's `Token.sent` reads them."""
    return np.flatnonzero(doc.to_array(SENT_START).astype(np.int64) == 1).tolist()


def _modifier(rule: object, start: int, end: int, bounds: list[int], n: int, max_scope: object) -> ConTextModifier:
    """A ConTextModifier with medspaCy 1.3.1's sentence scope (`__set_scope`), the sentence found by bisection
    instead of `doc[start].sent` walking the tokens."""
    k = bisect_right(bounds, start) - 1
    sent_start = bounds[k] if k >= 0 else 0
    sent_end = bounds[k + 1] if k + 1 < len(bounds) else n
    limit = rule.max_scope
    direction = rule.direction.lower()
    if direction == "forward":
        scope = [end, sent_end]
        if limit is not None and scope[1] - scope[0] > limit:
            scope[1] = end + limit
    elif direction == "backward":
        scope = [sent_start, start]
        if limit is not None and scope[1] - scope[0] > limit:
            scope[0] = start - limit
    else:
        scope = [sent_start, sent_end]
        if limit is not None and start - scope[0] > limit:
            scope[0] = start - limit
        if limit is not None and scope[1] - end > limit:
            scope[1] = end + limit
    return ConTextModifier(rule, start, end, None, scope[0], scope[1], max_scope=max_scope)


def _touching_pairs(modifiers: list[ConTextModifier]) -> list[tuple[int, int]]:
    """The pairs (i < j) whose scopes can ever overlap, in medspaCy's loop order.

    `limit_scope` only moves a scope's ends within the hull of its first scope and its own span, and does
    nothing unless the two scopes overlap: pairs with disjoint hulls are no-ops, skipped.
    """
    lo = [min(m._scope_start, m._start) for m in modifiers]
    hi = [max(m._scope_end, m._end) for m in modifiers]
    pairs: list[tuple[int, int]] = []
    active: list[int] = []
    for k in sorted(range(len(modifiers)), key=lo.__getitem__):
        active = [a for a in active if hi[a] >= lo[k]]
        pairs += [(a, k) if a < k else (k, a) for a in active]
        active.append(k)
    pairs.sort()
    return pairs


def _facts(rule: object) -> tuple:
    """What `ConTextModifier.limit_scope` reads of a modifier's rule, read once."""
    return (
        rule.direction.upper(),
        rule.direction.lower(),
        rule.category,
        rule.category.upper(),
        rule.terminated_by,
        rule.allowed_types,
        rule.excluded_types,
    )


def _limit_scope(a: ConTextModifier, fa: tuple, b: ConTextModifier, fb: tuple) -> None:
    """medspaCy 1.3.1's `a.limit_scope(b)`, line for line, on the rule facts read once (`_facts`)."""
    s0, s1, o0, o1 = a._scope_start, a._scope_end, b._scope_start, b._scope_end
    if not (s0 <= o0 < s1 or s0 < o1 <= s1):  # tuple_overlaps(a.scope_span, b.scope_span)
        return
    a_up, a_low, a_cat, a_cat_up, a_terminated_by, a_allowed, a_excluded = fa
    b_up, _, b_cat, b_cat_up, _, b_allowed, b_excluded = fb
    if a_up == "TERMINATE":
        return
    if b_up != "TERMINATE" and b_cat_up not in a_terminated_by and b_cat_up != a_cat_up:
        return
    if a_cat == b_cat and (a_allowed != b_allowed or a_excluded != b_excluded):
        return
    if a_low in ("forward", "bidirectional") and b._start > a._start:
        a._scope_end = min(a._scope_end, b._start)
    if a_low in ("backward", "bidirectional") and b._end < a._end:
        a._scope_start = max(a._scope_start, b._end)


def lean_context_call(self: object, doc: Doc, targets: str | None = None) -> Doc:
    """medspaCy 1.3.1's `ConText.__call__` without its all-pairs loops.

    medspaCy compares every modifier with every other (`update_scopes`) and with every target
    (`apply_modifiers`) across the whole doc, though a scope never leaves its sentence: that was most of
    ConText's time on long notes. Here each comparison that medspaCy would make and that could change
    anything is made, in medspaCy's order (`limit_scope` restated in `_limit_scope` on facts read once,
    `modifies` medspaCy's own); the rest are skipped.
    """
    if self.max_scope or doc.user_hooks or doc.user_span_hooks or doc.user_token_hooks:
        return type(self).__mro__[1].__call__(self, doc, targets)
    if not targets and self.input_span_type == "ents":
        targets = doc.ents
    elif not targets and self.input_span_type == "group":
        targets = doc.spans[self.span_group_name]
    elif targets:
        targets = getattr(doc._, targets)
    graph = ConTextGraph(prune_on_modifier_overlap=self.prune_on_target_overlap)
    graph.targets = targets
    matcher = self._ConText__matcher
    rule_map, strings = matcher.rule_map, self.nlp.vocab.strings
    matches = matcher(doc)
    bounds = _sentence_bounds(doc) if matches else []
    modifiers = [_modifier(rule_map[strings[i]], s, e, bounds, len(doc), self.max_scope) for i, s, e in matches]
    graph.modifiers = modifiers
    if modifiers:
        facts = [_facts(m.rule) for m in modifiers]
        for i, j in _touching_pairs(modifiers):
            _limit_scope(modifiers[i], facts[i], modifiers[j], facts[j])
            _limit_scope(modifiers[j], facts[j], modifiers[i], facts[i])
    if graph.prune_on_modifier_overlap:
        graph.apply_modifiers()  # rare (not this product's setting): medspaCy's own path
    else:
        _apply_modifiers(graph)
    by_target: dict[int, list[ConTextModifier]] = {}
    index = {id(t): k for k, t in enumerate(targets)}
    for target, modifier in graph.edges:
        by_target.setdefault(index[id(target)], []).append(modifier)
    for k, mods in by_target.items():
        targets[k]._.modifiers += tuple(mods)
    if self.context_attributes_mapping:
        self.set_context_attributes(graph.edges)
    doc._.context_graph = graph
    return doc


def _apply_modifiers(graph: ConTextGraph) -> None:
    """`ConTextGraph.apply_modifiers` asking `modifies` only of targets that touch the modifier's scope
    (`tuple_overlaps` needs a target end inside it); each modifier's targets stay in target order."""
    targets = graph.targets
    starts = [t.start for t in targets]
    ends = [t.end for t in targets]
    ordered = starts == sorted(starts) and ends == sorted(ends)  # doc.ents are; a span group may not be
    for modifier in graph.modifiers:
        lo, hi = modifier._scope_start, modifier._scope_end
        if lo >= hi or modifier.direction in ("TERMINATE", "PSEUDO"):
            continue
        if ordered:
            near = set(range(bisect_left(starts, lo), bisect_left(starts, hi)))
            near.update(range(bisect_right(ends, lo), bisect_right(ends, hi)))
        else:
            near = set(range(len(targets)))
        for k in sorted(near):
            if modifier.modifies(targets[k]):
                modifier.modify(targets[k])
    edges = []
    for modifier in graph.modifiers:
        modifier.reduce_targets()
        edges += [(target, modifier) for target in modifier._targets]
    graph.edges = edges


def install_lean_context(context: object) -> bool:
    """Swap in `lean_context_call` on the medspaCy version it was written against; True if swapped."""
    if medspacy.__version__ != LEAN_CONTEXT_FOR:
        return False
    context.__class__ = type("LeanConText", (type(context),), {"__call__": lean_context_call})
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
TOKEN_PATTERNS = "token_patterns"


def _split_token_patterns(inner: object) -> None:
    """Give rules marked TOKEN_PATTERNS their compiled patterns (`rules.compile_token_pattern`) in spaCy's
    Matcher.

    Every token-pattern rule is removed and added back in its original order, so the Matcher still lists
    matches of equal span in rule order (medspaCy's pruning keeps the first of equal spans). The compiled
    patterns are added unvalidated: spaCy's pattern schema does not know its own FLAG attributes, and
    the patterns as written were validated when medspaCy added them.
    """
    token_matcher = getattr(inner, "_MedspacyMatcher__matcher", None)
    if token_matcher is None:
        raise RuntimeError(f"medspaCy's matcher layout changed (tested on {MEDSPACY_VERSION}): review add_rules")
    validate = token_matcher.validate
    token_matcher.validate = False
    try:
        for rule_id, rule in inner.rule_map.items():
            if not isinstance(rule.pattern, list):
                continue
            on_match, patterns = token_matcher.get(rule_id)
            split = (rule.metadata or {}).get(TOKEN_PATTERNS)
            if split:
                rest = {k: v for k, v in rule.metadata.items() if k != TOKEN_PATTERNS}
                rule.metadata = rest or None
            token_matcher.remove(rule_id)
            token_matcher.add(rule_id, split or patterns, on_match=on_match)
    finally:
        token_matcher.validate = validate


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
    if any((r.metadata or {}).get(TOKEN_PATTERNS) for r in rules):
        _split_token_patterns(inner)
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
