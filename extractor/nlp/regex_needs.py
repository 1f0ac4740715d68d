"""What a regex cannot match without: words to look for before running it.

medspaCy runs every regex rule over every doc, and Python's `re` tries a pattern that starts with `\\b` at
every character. Most rules' words are absent from most notes; a substring test on the lowered text
is far cheaper than the regex, and a regex whose needed words are all absent cannot match.
"""

from __future__ import annotations

import re
from functools import lru_cache

from extractor.nlp import re_parser
from extractor.nlp.re_parser import constants as c

_REPEATS = re_parser.REPEATS


@lru_cache(maxsize=4096)
def needed(pattern: str, flags: int) -> frozenset[str] | None:
    """Lower-case strings one of which every match contains, or None when none are known.

    Only plain ASCII literals count (case-insensitive matching relates a few non-ASCII letters to ASCII
    ones, "ſ" to "s"), so the test holds on the text folded by `regex_starts.fold`, which folds those."""
    tree = re_parser.parse(pattern, flags)
    if tree is None:
        return None
    found = _sequence(list(tree))
    return frozenset(found) if found else None


def _score(words: set[str]) -> int:
    return min(len(w) for w in words)


def _sequence(items: list) -> set[str] | None:
    """The best-known needed set of a sequence: its longest literal run, or the best of its parts."""
    best: set[str] | None = None
    run = ""

    def consider(words: set[str] | None) -> None:
        nonlocal best
        if words and (best is None or _score(words) > _score(best)):
            best = words

    for op, arg in items:
        if op is c.LITERAL and arg < 128:
            run += chr(arg).lower()
            continue
        consider({run} if run else None)
        run = ""
        if op is c.SUBPATTERN:
            consider(_sequence(list(arg[3])))
        elif op is c.BRANCH:
            options = [_sequence(list(alt)) for alt in arg[1]]
            if all(options):
                consider(set().union(*options))  # type: ignore[arg-type]
        elif op in _REPEATS and arg[0] >= 1:
            consider(_sequence(list(arg[2])))
        # classes, assertions, anything else: nothing known to be needed
    consider({run} if run else None)
    return best


def could_match(pattern: re.Pattern, lowered: str | None) -> bool:
    """False only when `pattern` cannot match the text whose `regex_starts.fold` is `lowered` (None: not read)."""
    if lowered is None:
        return True
    words = needed(pattern.pattern, pattern.flags)
    return words is None or any(w in lowered for w in words)
