"""The medspaCy pipeline: clinical sentences, target rules, sections and ConText, all from models/."""

import logging
import re
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import spacy
from spacy.attrs import ORTH, SENT_START
from spacy.language import Language
from spacy.tokens import Doc, Span, Token
from spacy.util import filter_spans

from . import knowledge

for _noisy in ("PyRuSH", "medspacy", "spacy", "quickumls"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)


def quiet_library_logs() -> None:
    """PyRuSH logs every sentence through loguru at DEBUG: never let note text reach a log."""
    try:
        from loguru import logger

        logger.disable("PyRuSH")
        logger.disable("medspacy")
    except ImportError:
        pass


class ClinicalSentencizer:
    """Rule-based sentence splitter for clinical text, much faster than PyRuSH.

    A sentence starts after a line break (headers, fields and list items keep theirs once wrapped
    lines are rejoined) and after ". ? !" unless the dot closes an abbreviation or an initial.
    Token kinds are worked out once per distinct word and the rules applied with NumPy over the
    doc's arrays: a Python loop over every token cost as much as the whole target matcher.
    """

    NORMAL, NEWLINE, SPACE, DOT, STOP, WORD_STOP = range(6)

    def __init__(self, abbreviations: Iterable[str]):
        self.abbreviations = {a.lower().rstrip(".") for a in abbreviations}
        self._kinds: dict[int, tuple[int, bool]] = {}

    def _kind(self, text: str) -> tuple[int, bool]:
        """(kind, whether a following "." closes this word as an abbreviation or initial)."""
        shields_dot = (len(text) == 1 and text.isupper()) or (
            text.lower().rstrip(".") in self.abbreviations and not text.isupper()
        )
        if text.isspace():
            return (self.NEWLINE if "\n" in text else self.SPACE), False
        if text == ".":
            return self.DOT, shields_dot
        if text in ("?", "!", "...") or (len(text) > 1 and text[-1] in "?!"):
            return self.STOP, shields_dot
        if (
            text.endswith(".")
            and len(text) > 1
            and text[:-1].lower().rstrip(".") not in self.abbreviations
            and not text[0].isdigit()
            and not (len(text) <= 3 and text[0].isupper())
        ):
            return self.WORD_STOP, shields_dot
        return self.NORMAL, shields_dot

    def __call__(self, doc: Doc) -> Doc:
        n = len(doc)
        if not n:
            return doc
        orth = doc.to_array(ORTH)
        uniq, inverse = np.unique(orth, return_inverse=True)
        strings = doc.vocab.strings
        kinds = self._kinds
        table = np.empty((len(uniq), 2), dtype=np.int8)
        for row, key in enumerate(uniq.tolist()):
            found = kinds.get(key)
            if found is None:
                found = kinds[key] = self._kind(strings[key])
            table[row] = found
        kind = table[inverse, 0]
        shields = table[inverse, 1].astype(bool)
        positions = np.arange(n)
        solid = (kind != self.NEWLINE) & (kind != self.SPACE)
        last_solid = np.maximum.accumulate(np.where(solid, positions, -1))
        prev_solid = np.concatenate(([-1], last_solid[:-1]))
        shielded = (prev_solid >= 0) & shields[np.maximum(prev_solid, 0)]
        triggers = (
            (kind == self.NEWLINE)
            | (kind == self.STOP)
            | (kind == self.WORD_STOP)
            | ((kind == self.DOT) & ~shielded)
        )
        solid_at = positions[solid]
        nxt = np.searchsorted(solid_at, positions[triggers], side="right")
        starts = np.full(n, -1, dtype=np.int32)
        starts[solid_at[nxt[nxt < len(solid_at)]]] = 1
        starts[0] = 1
        doc.from_array([SENT_START], starts.reshape(-1, 1).astype("uint64"))
        return doc


@Language.factory("clinical_sentencizer", default_config={"abbreviations": []})
def make_clinical_sentencizer(nlp: Language, name: str, abbreviations: list[str]) -> "ClinicalSentencizer":
    return ClinicalSentencizer(abbreviations)


TARGET_GROUP = "medspacy_targets"
EXACT = "exact_text"


@Language.component("target_spans_to_ents")
def target_spans_to_ents(doc: Doc) -> Doc:
    """Set the target matcher's spans as doc.ents in one assignment.

    medspaCy's own "ents" mode appends one span at a time (`doc.ents += (span,)`), which re-reads every
    token per match; that alone took about a third of the pipeline's time.
    """
    spans = doc.spans.get(TARGET_GROUP, [])
    if spans:
        kept = []
        for span in spans:
            exact = (span._.target_rule.metadata or {}).get(EXACT) if span._.target_rule else None
            if exact is None or span.text in exact:
                kept.append(span)
        doc.set_ents(filter_spans(kept))
        del doc.spans[TARGET_GROUP]
    return doc


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
    from medspacy.common.regex_matcher import RegexMatcher

    regex = getattr(_medspacy_matcher(component), "_MedspacyMatcher__regex_matcher", None)
    if type(regex) is not RegexMatcher:
        raise RuntimeError("medspaCy's matcher layout changed: review read_text_once")
    regex.__class__ = type("TextOnceRegexMatcher", (RegexMatcher,), {"__call__": _regex_matches})


def _regex_matches(self: object, doc: Doc) -> list[tuple[int, int, int]]:
    """medspaCy 1.3.1's `RegexMatcher.__call__` with the doc's text read once."""
    from medspacy.common.util import get_token_for_char

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


LEAN_SECTIONIZER_FOR = "1.3.1"


def _lean_sectionizer_call(self: object, doc: Doc) -> Doc:
    """medspaCy 1.3.1's `Sectionizer.__call__`, without writing the section onto every token.

    That per-token write was most of the sectionizer's time; `Token._.section` is computed on demand
    instead (`_section_of`). Everything else (matching, start/end-line filters, parents, sentence
    boundaries, section spans, assertion attributes) is medspaCy's code path, unchanged.
    """
    from medspacy.section_detection.section import Section

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


def _section_of(token: object) -> object:
    """The medspaCy Section a token lies in, looked up in doc._.sections (sorted, non-overlapping)."""
    from bisect import bisect_right

    sections = token.doc._.sections
    if not sections:
        return None
    i = bisect_right([s.section_span[0] for s in sections], token.i) - 1
    if i >= 0 and token.i < sections[i].section_span[1]:
        return sections[i]
    return None


def _register_extensions() -> None:
    # medspaCy's Sectionizer stores its section on every token of the doc, one extension write per
    # token, which cost more than the rest of the sectionizer; the same attribute is computed on demand.
    Token.set_extension("section", getter=_section_of, setter=lambda token, value: None, force=True)
    for attr in ("is_negated", "is_uncertain", "is_historical", "is_hypothetical", "is_family"):
        if not Span.has_extension(attr):
            Span.set_extension(attr, default=False)


@lru_cache(maxsize=1)
def load() -> Language:
    """The product's medspaCy pipeline; one per process (rules cannot be pickled across processes)."""
    return build()


def build(compiled: bool = True) -> Language:
    """Build the pipeline. `compiled=False` keeps the rules exactly as written in models/ and medspaCy's
    own sectionizer: the slow reference the compiled pipeline is tested against."""
    import medspacy  # registers the medspaCy factories

    quiet_library_logs()
    from medspacy.context import ConTextRule
    from medspacy.custom_tokenizer import create_medspacy_tokenizer
    from medspacy.target_matcher import TargetRule

    cfg = knowledge.pipeline_config()
    _register_extensions()
    nlp = spacy.blank("en")
    nlp.tokenizer = create_medspacy_tokenizer(nlp)
    if compiled:
        # spaCy stops caching a doc's words once a special case is hit, and " ", "\n", "\t" are
        # special cases: after a doc's first line break every word went through the affix regexes
        # again. Whitespace tokenizes the same without them.
        nlp.tokenizer.rules = {k: v for k, v in nlp.tokenizer.rules.items() if k.strip()}
    nlp.max_length = 10**9
    nlp.add_pipe("clinical_sentencizer", config={"abbreviations": cfg.sentence_abbreviations})
    matcher = nlp.add_pipe("medspacy_target_matcher", config={"result_type": "group", "span_group_name": TARGET_GROUP})
    read_text_once(matcher)
    nlp.add_pipe("target_spans_to_ents")
    from . import nlp_anatomy  # noqa: F401  registers "anatomy_filter"

    nlp.add_pipe("anatomy_filter")
    for name in ("target_rules.json", "documentation_rules.json"):
        rules = TargetRule.from_json(str(knowledge.rule_file(name)))
        add_rules(matcher, literal_target_rules(nlp, rules) if compiled else rules)
    sectionizer = nlp.add_pipe(
        "medspacy_sectionizer",
        config={"rules": str(knowledge.rule_file("section_rules.json")), "span_attrs": cfg.section_attributes},
    )
    if compiled and medspacy.__version__ == LEAN_SECTIONIZER_FOR:
        sectionizer.__class__ = type("LeanSectionizer", (type(sectionizer),), {"__call__": _lean_sectionizer_call})
    context_config: dict = {"rules": None}
    if cfg.context_max_scope:
        context_config["max_scope"] = cfg.context_max_scope
    context = nlp.add_pipe("medspacy_context", config=context_config)
    read_text_once(context)
    context_rules = ConTextRule.from_json(str(knowledge.rule_file("context_rules.json")))
    add_rules(context, phrase_rules(nlp, context_rules) if compiled else context_rules)
    # Passed through spaCy's config, medspaCy's terminating_types lists become one-shot iterators;
    # apply them to the rules directly.
    for rule in context.rules:
        rule.terminated_by.update(t.upper() for t in cfg.context_terminating_types.get(rule.category.upper(), []))
    return nlp


MAX_EXPANSIONS = 20000
MAX_REPEATS = 2


def _alternatives(spec: dict) -> list[tuple[str, ...]] | None:
    """Token spec -> the word sequences it accepts at its place (() = absent), or None if not a plain word list.

    Whitespace tokens with `OP: *` accept nothing here: rejoined text has no whitespace tokens inside a phrase.
    A value with a space never equals one token, so it is dropped. `*` and `+` repeat up to MAX_REPEATS words.
    """
    from itertools import product

    keys = set(spec) - {"OP"}
    op = spec.get("OP")
    if op not in (None, "?", "*", "+") or len(keys) != 1:
        return None
    key = keys.pop()
    value = spec[key]
    if key in ("IS_SPACE", "LIKE_NUM") and value is True and op in ("*", "?"):
        return [()]
    if key == "TEXT" and isinstance(value, dict) and set(value) == {"REGEX"} and op is None:
        import re

        try:
            expanded = _expand(list(re._parser.parse(value["REGEX"].strip("^$"))), digits=True)
        except re.error:
            return None
        if expanded is None or len(expanded[0]) > 5000 or any(c.isalpha() for w in expanded[0] for c in w):
            return None
        return [(w,) for w in sorted(expanded[0])]
    if key == "LOWER":
        if isinstance(value, str):
            words = [value]
        elif isinstance(value, dict) and set(value) == {"IN"}:
            words = value["IN"]
        else:
            return None
    elif key == "ORTH" and isinstance(value, str) and not any(c.isalpha() for c in value):
        words = [value]
    elif key == "ORTH" and isinstance(value, dict) and set(value) == {"IN"}:
        words = value["IN"]
        if any(not isinstance(w, str) or any(c.isalpha() for c in w) for w in words):
            return None
    else:
        return None
    if any(not isinstance(w, str) or not w for w in words):
        return None
    words = [w for w in words if not any(c.isspace() for c in w)]
    lo, hi = {None: (1, 1), "?": (0, 1), "*": (0, MAX_REPEATS), "+": (1, MAX_REPEATS)}[op]
    out: list[tuple[str, ...]] = []
    for n in range(lo, hi + 1):
        out += [tuple(c) for c in product(words, repeat=n)]
    return out


def phrase_rules(nlp: Language, rules: list) -> list:
    """Turn ConText token patterns that are only word lists into phrase literals.

    The same matches, but through spaCy's PhraseMatcher instead of its Matcher, whose per-token
    predicate checks cost most of ConText's time. Each phrase is one token per word
    (`add_rules`), as the token pattern was: "CANNOT" is one token where "cannot" is split in
    two. Patterns that need more (regexes, case) are left as they are. Ties keep medspaCy's order:
    token-pattern matches come before literal ones and win a tie of equal length, so a literal rule
    whose phrase a pattern rule also yields is dropped (it could never win), and a phrase several
    pattern rules yield goes to the one spaCy's Matcher would have kept (`_tie_winner`).
    """
    from itertools import product

    from medspacy.context import ConTextRule

    def norm(phrase: str) -> str:
        return " ".join(t.lower_ for t in nlp.tokenizer(phrase))

    @cache
    def single_token(word: str) -> bool:
        """Whether some casing of the word stays one token; else a pattern token could never match it."""
        return any(len(nlp.tokenizer(w)) == 1 for w in (word, word.upper(), word.title()))

    expanded: dict[int, list[str]] = {}
    claimants: dict[str, list[int]] = {}
    for i, rule in enumerate(rules):
        options = [_alternatives(s) for s in rule.pattern] if isinstance(rule.pattern, list) else [None]
        if any(o is None for o in options) or _count(options) > MAX_EXPANSIONS:
            continue
        phrases = {" ".join(w for part in combo for w in part) for combo in product(*options)} - {""}
        expanded[i] = sorted(p for p in phrases if all(map(single_token, p.split(" "))))
        for phrase in expanded[i]:
            claimants.setdefault(phrase.lower(), []).append(i)
    claimed = {p: ids[0] if len(ids) == 1 else _tie_winner(nlp, rules, ids, p) for p, ids in claimants.items()}
    out = []
    for i, rule in enumerate(rules):
        if i not in expanded:
            if rule.pattern is None and norm(rule.literal) in claimed:
                continue
            out.append(rule)
            continue
        mine = [p for p in expanded[i] if claimed[p.lower()] == i]
        if not mine:
            continue
        out.append(
            ConTextRule(
                literal=mine[0],
                category=rule.category,
                direction=rule.direction,
                allowed_types=rule.allowed_types,
                excluded_types=rule.excluded_types,
                max_scope=rule.max_scope,
                max_targets=rule.max_targets,
                terminated_by=set(rule.terminated_by),
                metadata={**(rule.metadata or {}), "rule": rule.literal, PHRASES: mine, WORDS: True},
            )
        )
    return out


WORDS = "one_token_per_word"


def _tie_winner(nlp: Language, rules: list, ids: list[int], phrase: str) -> int:
    """Which of several token-pattern rules medspaCy keeps for the same words: ask spaCy's Matcher."""
    from medspacy.common.util import prune_overlapping_matches
    from spacy.matcher import Matcher

    matcher = Matcher(nlp.vocab)
    for i in ids:
        matcher.add(f"rule_{i}", [rules[i].pattern])
    doc = Doc(nlp.vocab, words=phrase.split(" "))
    whole = [m for m in matcher(doc) if m[1] == 0 and m[2] == len(doc)]
    if not whole:
        return ids[0]
    return int(nlp.vocab.strings[prune_overlapping_matches(whole)[0][0]].split("_")[1])


PHRASES = "phrases"


def add_rules(component: object, rules: list) -> None:
    """Add rules to a medspaCy TargetMatcher or ConText, with all the phrases of compiled rules.

    A compiled rule carries its phrases in metadata: medspaCy matches a rule's literal, and the other
    phrases go to its PhraseMatcher under the same rule id, so one rule object serves thousands of
    phrases (a rule object per phrase cost about 50 MB). Phrases marked WORDS are one token per
    space-separated word, as the token pattern they come from was; medspaCy would build them with the
    tokenizer, so the matcher's tokenizer is swapped while they are added.
    """
    inner = _medspacy_matcher(component)
    phrase_matcher = inner._MedspacyMatcher__phrase_matcher
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


def _count(options: list) -> int:
    n = 1
    for o in options:
        n *= len(o)
    return n


MAX_PHRASES = 5000


def _split_alternatives(pattern: str) -> list[str]:
    """Split a regex at its top-level `|`."""
    parts, depth, in_class, escaped, start = [], 0, False, False, 0
    for i, ch in enumerate(pattern):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    return parts


def _distribute(alternatives: list[str]) -> list[str]:
    r"""`\b(?:a|b|c)\b` -> `\b(?:a)\b`, `\b(?:b)\b`, `\b(?:c)\b`, so the finite ones can become phrases."""
    out = []
    for alt in alternatives:
        if alt.startswith(r"\b(?:") and alt.endswith(r")\b"):
            inner = _split_alternatives(alt[len(r"\b(?:") : -len(r")\b")])
            if len(inner) > 1 and all(_balanced(x) for x in inner):
                out += [rf"\b(?:{x})\b" for x in inner]
                continue
        out.append(alt)
    return out


def _balanced(pattern: str) -> bool:
    import re

    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def _expand(items: list, case_sensitive: bool = False, digits: bool = False) -> tuple[set[str], bool] | None:
    """Every string a finite regex (parsed by `re._parser`) matches, `\\s+` read as one space.

    Returns the strings and whether any part was case-sensitive, or None for what has no small finite
    expansion (digits, unbounded repeats, lookarounds, negations).
    """
    from re import _constants as c

    out: set[str] = {""}
    sensitive = case_sensitive
    for op, arg in items:
        if op is c.LITERAL:
            options = {chr(arg) if case_sensitive else chr(arg).lower()}
        elif op is c.AT and arg is c.AT_BOUNDARY:
            continue
        elif op is c.IN:
            options = set()
            for sub_op, sub_arg in arg:
                if sub_op is c.LITERAL:
                    options.add(chr(sub_arg) if case_sensitive else chr(sub_arg).lower())
                elif sub_op is c.CATEGORY and sub_arg is c.CATEGORY_SPACE:
                    options.add(" ")
                elif sub_op is c.CATEGORY and sub_arg is c.CATEGORY_DIGIT and digits:
                    options.update("0123456789")
                elif sub_op is c.RANGE and digits and chr(sub_arg[0]).isdigit() and chr(sub_arg[1]).isdigit():
                    options.update(chr(x) for x in range(sub_arg[0], sub_arg[1] + 1))
                else:
                    return None
        elif op is c.BRANCH:
            options = set()
            for alt in arg[1]:
                sub = _expand(list(alt), case_sensitive, digits)
                if sub is None:
                    return None
                options |= sub[0]
                sensitive |= sub[1]
        elif op is c.SUBPATTERN:
            _group, add_flags, del_flags, sub_items = arg
            flag_cs = case_sensitive
            if del_flags & 2:
                flag_cs = True
            if add_flags & 2:
                flag_cs = False
            sub = _expand(list(sub_items), flag_cs, digits)
            if sub is None:
                return None
            options, sub_cs = sub
            sensitive |= sub_cs
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
            lo, hi, sub_items = arg
            sub = _expand(list(sub_items), case_sensitive, digits)
            if sub is None:
                return None
            if sub[0] == {" "}:
                options = {" "} if lo else {"", " "}
            elif hi <= 3:
                options = set()
                for n in range(lo, hi + 1):
                    reps = {""}
                    for _ in range(n):
                        reps = {a + b for a in reps for b in sub[0]}
                    options |= reps
                sensitive |= sub[1]
            else:
                return None
        else:
            return None
        out = {a + b for a in out for b in options}
        if len(out) > MAX_PHRASES:
            return None
    return out, sensitive


def literal_target_rules(nlp: Language, rules: list) -> list:
    """Turn the finite parts of regex TargetRules into phrase literals for spaCy's PhraseMatcher.

    Rules stay readable regexes in models/; at load time each top-level alternative with a small finite
    expansion becomes phrases matched on LOWER. Case-sensitive single words (GBM, XRT, MS) become phrases
    marked exact, whose wrong-case matches ("ms", "rt") `target_spans_to_ents` drops: spaCy's Matcher
    costs a pass per token per pattern. What cannot be expanded (digits, open repeats, lookaheads) stays
    a regex. Python's `re` tries every regex at every character; the PhraseMatcher does one hash lookup
    per token for all phrases at once.
    """
    import re

    from medspacy.target_matcher import TargetRule

    out = []
    for rule in rules:
        if not isinstance(rule.pattern, str):
            out.append(rule)
            continue
        keep: list[str] = []
        phrases: set[str] = set()
        words: set[str] = set()
        for alt in _distribute(_split_alternatives(rule.pattern)):
            try:
                expanded = _expand(list(re._parser.parse(alt, re.IGNORECASE)))
            except re.error:
                expanded = None
            if expanded is None:
                keep.append(alt)
                continue
            strings = {" ".join(x.split()) for x in expanded[0]} - {""}
            if any(ch.isdigit() for x in strings for ch in x):
                keep.append(alt)  # "+0698T" and "0698T" tokenize differently; a regex finds both
            elif expanded[1]:
                if all(len(nlp.tokenizer(w)) == 1 for w in strings):
                    words |= strings
                else:
                    keep.append(alt)
            else:
                phrases |= strings
        meta = {**(rule.metadata or {}), "rule": rule.literal}
        for found, exact in ((phrases, False), (words, True)):
            if found:
                ordered = sorted(found)
                extra = {PHRASES: ordered, EXACT: ordered} if exact else {PHRASES: ordered}
                out.append(
                    TargetRule(ordered[0], rule.category, attributes=rule.attributes, metadata=meta | extra)
                )
        if keep:
            out.append(
                TargetRule(
                    literal=rule.literal,
                    category=rule.category,
                    pattern="|".join(keep),
                    attributes=rule.attributes,
                    metadata=meta,
                )
            )
    return out


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


def _mention(ent: Span, offset: int, section: str | None) -> Mention:
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


@dataclass
class Extraction:
    mentions: list[Mention]
    sections: list[tuple[int, int, str]]


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


def extract(text: str, nlp: Language | None = None) -> Extraction:
    """Run the pipeline over a whole document, however long, in chunks that carry the section over.

    Offsets in the result are offsets into `text`.
    """
    nlp = nlp or load()
    text, src = collapse_spaces(text)
    sections: list[tuple[int, int, str]] = []
    cfg = knowledge.pipeline_config()
    section_attrs = cfg.section_attributes
    mentions: list[Mention] = []
    last_section: str | None = None
    pieces = list(chunks(text, cfg.chunk_chars))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for (offset, _), doc in zip(pieces, nlp.pipe(piece for _, piece in pieces), strict=True):
            for ent in doc.ents:
                section = ent._.section_category
                if section is None and last_section is not None:
                    section = last_section
                    for attr, value in section_attrs.get(section, {}).items():
                        setattr(ent._, attr, value)
                mentions.append(_mention(ent, offset, section))
            for sec in doc._.sections:
                if sec.category:
                    span = doc[sec.section_span[0] : sec.section_span[1]]
                    sections.append((span.start_char + offset, span.end_char + offset, sec.category))
            if doc._.sections:
                last_section = doc._.sections[-1].category
    if src is not None:
        for m in mentions:
            m.start, m.end = src[m.start], src[m.end - 1] + 1
        sections = [(src[a], src[b - 1] + 1 if b > a else src[a], cat) for a, b, cat in sections]
    return Extraction(mentions, sections)
