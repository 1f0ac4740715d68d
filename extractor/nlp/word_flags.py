"""spaCy lexeme flags for token-pattern word tests: an `IN` list or a `REGEX` on a word, checked in C.

Public spaCy API only (`Vocab.add_flag`, the FLAG attributes), guarded by the spaCy version the Matcher's
reading of a flag was checked on (`FLAGS_FOR`); `tests/nlp/test_medspacy_patches.py` compares the flagged
patterns with the rules as written.
"""

import re

import spacy
from spacy.attrs import FLAG19, LOWER

FLAGS_FOR = "3.7.5"  # the spaCy whose Matcher reads a lexeme flag as `flag_word_tests` relies on


class WordTest:
    """A lexeme flag's getter: a token pattern's `IN` or `REGEX` test on ORTH or LOWER, as spaCy 3.7.5's
    Matcher makes it (`_SetPredicate`: the word's string in the list; `_RegexPredicate`: `re.search` on it).
    ORTH and LOWER are the lexeme's, so the test's answer is the word's, whatever token it is."""

    def __init__(self, key: tuple, lower: object) -> None:
        self.key = key
        attr, op, value = key
        self._lower = lower if attr == "LOWER" else None
        self._words = frozenset(value) if op == "IN" else None
        self._regex = re.compile(value) if op == "REGEX" else None

    def __call__(self, text: str) -> bool:
        if self._lower is not None:
            text = self._lower(text)
        return text in self._words if self._words is not None else bool(self._regex.search(text))


def _word_flag(vocab: object, key: tuple) -> int | None:
    """The lexeme flag that holds a word test (`WordTest`), added to the vocab on first use; None when
    spaCy's free flags (FLAG19 to FLAG63) are all taken."""
    getters = vocab.lex_attr_getters
    for flag, getter in getters.items():
        if isinstance(getter, WordTest) and getter.key == key:
            return flag
    if key[0] == "LOWER" and LOWER not in getters:
        return None
    free = [f for f in range(FLAG19, 64) if f not in getters]
    return vocab.add_flag(WordTest(key, getters.get(LOWER)), free[0]) if free else None


def flag_word_tests(vocab: object, pattern: list[dict]) -> list[dict] | None:
    """The token pattern with each `{"LOWER"|"ORTH"|"TEXT": {"IN": [...]}}` or `{...: {"REGEX": ...}}` test
    made a lexeme flag (`{"FLAG19": True}`), the same matches: None when there is none, or on a spaCy
    other than the one this was written against.

    spaCy's Matcher checks a plain value or a flag in C, but calls Python for an IN list or a regex, and
    it tries every pattern's first token at every token: ConText's 15 token rules, their first-token
    lists split into 100 patterns (`rules.split_first_token`), cost more than all its phrases and
    regexes. A flag is worked out once per word of the vocabulary (`Vocab.add_flag`), for the words there
    and each new one; each rule is one pattern again.
    """
    if spacy.__version__ != FLAGS_FOR or not isinstance(pattern, list):
        return None
    out, changed = [], False
    for spec in pattern:
        if not isinstance(spec, dict):
            return None
        token: dict = {}
        for name, value in spec.items():
            attr = name.upper() if isinstance(name, str) else None
            attr = "ORTH" if attr == "TEXT" else attr
            key = None
            if attr in ("ORTH", "LOWER") and isinstance(value, dict) and len(value) == 1:
                op, arg = next(iter(value.items()))
                if op == "IN" and isinstance(arg, list) and arg and all(isinstance(w, str) for w in arg):
                    key = (attr, op, tuple(sorted(set(arg))))
                elif op == "REGEX" and isinstance(arg, str):
                    key = (attr, op, arg)
            flag = _word_flag(vocab, key) if key else None
            if flag is not None and f"FLAG{flag}" not in spec and f"FLAG{flag}" not in token:
                token[f"FLAG{flag}"] = True
                changed = True
            else:
                token[name] = value
        out.append(token)
    return out if changed else None
