"""The rule compiler: medspaCy rules as written in models/ -> the same matches, faster.

Token-pattern and regex rules whose words are a finite list become phrase lists (one PhraseMatcher
entry per phrase under the rule's id), so the matcher does one lookup instead of a pattern per rule."""

import re
from functools import cache

from spacy.language import Language
from spacy.tokens import Doc

from .medspacy_patches import PHRASES, TOKEN_PATTERNS, WORDS
from .word_flags import flag_word_tests

EXACT = "exact_text"


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
            split = compile_token_pattern(nlp, rule.pattern)
            if split:
                rule.metadata = {**(rule.metadata or {}), TOKEN_PATTERNS: split}
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


def compile_token_pattern(nlp: Language, pattern: object) -> list[list[dict]] | None:
    """A token pattern's faster equivalent patterns for spaCy's Matcher, None to keep it as written: its
    word lists and regexes as lexeme flags (`word_flags.flag_word_tests`), else a first-token
    list split into one pattern per word (`split_first_token`)."""
    if not isinstance(pattern, list):
        return None
    flagged = flag_word_tests(nlp.vocab, pattern)
    compiled = flagged or pattern
    return split_first_token(compiled) or ([compiled] if flagged else None)


def split_first_token(pattern: list[dict]) -> list[list[dict]] | None:
    """`[{"ORTH": {"IN": [a, b]}}, ...rest]` -> `[[{"ORTH": a}, ...rest], [{"ORTH": b}, ...rest]]`: the same matches.

    spaCy's Matcher checks a plain value in C, but an IN list (or a regex) by a Python call, at every
    token for a pattern's first token: three such patterns cost as much as all of ConText's phrases.
    Split this way, the rest of the pattern is only checked where the first word is there.
    None when the first token is not a bare IN list of words (an OP would make the split patterns
    match the same empty start twice).
    """
    first = pattern[0] if pattern else None
    if not isinstance(first, dict) or "OP" in first:
        return None
    lists = [k for k, v in first.items() if isinstance(v, dict)]
    if len(lists) != 1 or lists[0] not in ("ORTH", "TEXT", "LOWER", "SHAPE") or set(first[lists[0]]) != {"IN"}:
        return None
    key = lists[0]
    plain = {k: v for k, v in first.items() if k != key}  # IS_SENT_START and such: checked in C as before
    words = first[key]["IN"]
    if not isinstance(words, list) or not words or not all(isinstance(w, str) for w in words):
        return None
    return [[{key: w, **plain}, *pattern[1:]] for w in dict.fromkeys(words)]


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
