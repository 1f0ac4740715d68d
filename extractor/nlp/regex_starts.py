"""Where a regex can start: try it only there, not at every character.

Python's `re` has no fast scan for a case-insensitive pattern that opens with `\\b(?:...|...)`: it
enters the pattern at every character and tries each alternative in turn at every word boundary. The
anatomy words are such an alternation of some 150 terms, run over each sentence. A match must begin
with one of a few known lower-case strings (its possible first characters, read from the pattern);
`str.find` finds those on the lowered text at C speed, and `pattern.match` at just those positions
gives what `pattern.finditer` gives (the same leftmost, non-overlapping matches: a match at a
position does not depend on where the search began, and every match starts at a found position).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from functools import lru_cache

from extractor.nlp import re_parser
from extractor.nlp.re_parser import constants as c

_REPEATS = re_parser.REPEATS
_ZERO_WIDTH = (c.AT, c.ASSERT, c.ASSERT_NOT)
_MAX_STARTS = 400  # more possible starts than this: the plain regex scan is as cheap
_MAX_CLASS = 12  # a character class of more characters than this ends a start string
MIN_START = 2  # a start string shorter than this would be found almost everywhere


class _TooMany(Exception):
    pass


def _class_chars(items: list) -> list[str] | None:
    """The lower-cased ASCII characters of a small `[...]` class or `\\d`, None for anything else."""
    chars: set[str] = set()
    for op, arg in items:
        if op is c.LITERAL and arg < 128:
            chars.add(chr(arg).lower())
        elif op is c.RANGE and arg[1] < 128 and arg[1] - arg[0] < _MAX_CLASS:
            chars.update(chr(x).lower() for x in range(arg[0], arg[1] + 1))
        elif op is c.CATEGORY and arg is c.CATEGORY_DIGIT:  # on folded text (`fold`), \d is 0-9
            chars.update("0123456789")
        else:
            return None
    return sorted(chars) if len(chars) <= _MAX_CLASS else None


def _extend(items: list, open_: set[str], k: int, closed: set[str]) -> set[str]:
    """Extend the open start strings (shorter than k, what follows them still to read) over `items`;
    a string whose next character is unknown is moved to `closed` as it is (a start it must have)."""
    for op, arg in items:
        if not open_:
            break
        if op in _ZERO_WIDTH:
            continue  # a lookaround or boundary only narrows where a match starts
        if op is c.LITERAL and arg < 128:
            nxt = {s + chr(arg).lower() for s in open_}
        elif op is c.IN and (chars := _class_chars(list(arg))) is not None:
            nxt = {s + ch for s in open_ for ch in chars}
        elif op is c.SUBPATTERN:
            nxt = _extend(list(arg[3]), open_, k, closed)
        elif op is c.BRANCH:
            nxt = set().union(*(_extend(list(alt), set(open_), k, closed) for alt in arg[1]))
        elif op in _REPEATS and arg[1] == 1:  # x? or x{1}
            once = _extend(list(arg[2]), set(open_), k, closed)
            nxt = once | open_ if arg[0] == 0 else once
        elif op in _REPEATS and arg[0] >= 1:  # x+ or x{2,}: the first copy, then anything
            closed |= _extend(list(arg[2]), set(open_), k, closed)
            nxt = set()
        else:  # any character, a category, a backreference, x*: unknown from here
            closed |= open_
            nxt = set()
        done = {s for s in nxt if len(s) >= k}
        closed |= done
        open_ = nxt - done
        if len(open_) + len(closed) > _MAX_STARTS:
            raise _TooMany
    return open_


@lru_cache(maxsize=4096)
def starts(pattern: str, flags: int, k: int = 4) -> tuple[str, ...] | None:
    """Lower-case strings (of at most k characters) one of which opens every match of the pattern, on
    the text folded by `fold`; None when unknown, too many or too short to be worth looking for.

    Only ASCII literals count: `fold` turns the few other characters a regex reads as one ("ſ" as "s")
    into it."""
    tree = re_parser.parse(pattern, flags)
    if tree is None:
        return None
    closed: set[str] = set()
    try:
        closed |= _extend(list(tree), {""}, k, closed)
    except _TooMany:
        return None
    if not closed or min(len(s) for s in closed) < MIN_START:
        return None
    # a string that another one opens adds nothing: every place it is found, the shorter is too
    kept = sorted(s for s in closed if not any(s != t and s.startswith(t) for t in closed))
    return tuple(kept)


def _trie(strings: tuple[str, ...]) -> str:
    """A regex of `strings` as a letter tree ("a(?:ca|cou)"): `re` tries the few letters at each level,
    not each string in turn."""
    tree: dict = {}
    for s in strings:
        node = tree
        for ch in s:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict) -> str:
        if "" in node:  # a whole string ends here: nothing after it is needed
            return ""
        alts = [re.escape(ch) + emit(sub) for ch, sub in sorted(node.items())]
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return emit(tree)


@lru_cache(maxsize=4096)
def _finder(strings: tuple[str, ...]) -> re.Pattern:
    return re.compile("(?=" + _trie(strings) + ")")  # zero-width: every offset, overlapping or not


_FEW = 16  # up to this many strings, one `str.find` scan each is cheaper than one letter-tree regex scan


def positions(lowered: str, strings: tuple[str, ...]) -> list[int]:
    """Every offset of `lowered` where one of `strings` occurs, ascending."""
    if len(strings) > _FEW:
        return [m.start() for m in _finder(strings).finditer(lowered)]
    found: list[int] = []
    find = lowered.find
    for s in strings:
        i = find(s)
        while i != -1:
            found.append(i)
            i = find(s, i + 1)
    return found if len(strings) == 1 else sorted(set(found))


def find(pattern: re.Pattern, lowered: str | None) -> list[int] | None:
    """The offsets of a text where a match of `pattern` may start, from `lowered`, the text's `fold`
    (None: not read); None when not known: then run the pattern everywhere."""
    strings = starts(pattern.pattern, pattern.flags)
    if strings is None or lowered is None:
        return None
    return positions(lowered, strings)


_ASCII_LETTER = re.compile("[a-z]", re.I)


class _Fold(dict):
    """A `str.translate` table, filled on first sight of each character: ASCII lowered; a non-ASCII
    character a case-insensitive regex reads as an ASCII letter ("ſ" as "s", the Kelvin sign as "k",
    "İ" and "ı" as "i") becomes that letter, and a non-ASCII decimal digit (what `\\d` also matches)
    "0"; any other stays itself, which no ASCII start string or needed word can contain. One character
    for one, so offsets stay the text's (`str.lower` turns "İ" into two)."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if code < 128:
            folded = ch.lower()
        elif ch.isdecimal():
            folded = "0"
        elif _ASCII_LETTER.match(ch):
            folded = next(a for a in "abcdefghijklmnopqrstuvwxyz" if re.match(a, ch, re.I))
        else:
            folded = ch
        self[code] = folded
        return folded


_FOLD = _Fold()


def fold(text: str) -> str:
    """What `find` and `regex_needs.could_match` read: the text lowered, one character for one, with
    the non-ASCII characters a regex can read as ASCII ones folded to them (`_Fold`)."""
    return text.lower() if text.isascii() else text.translate(_FOLD)


def matches(pattern: re.Pattern, text: str, at: list[int] | None, offset: int = 0) -> list[re.Match]:
    """`list(pattern.finditer(text))`, trying the pattern only at `at` (offsets where a match may start,
    ascending, in a text of which `text` begins at `offset`; None: everywhere)."""
    if at is None:
        return list(pattern.finditer(text))
    found: list[re.Match] = []
    end = 0  # where the last match ended: finditer goes on from there
    match = pattern.match
    if offset or (at and at[-1] >= len(text)):
        at = at[bisect_left(at, offset) : bisect_left(at, offset + len(text))]
    for i in at:
        i -= offset
        if i < end:
            continue
        m = match(text, i)
        if m is not None:
            found.append(m)
            end = max(m.end(), i + 1)
    return found
