"""The one reach into Python's private regex parser (`re._parser`, `re._constants`), behind a version guard.

`regex_needs` and `regex_starts` read a pattern's parse tree to learn which words a match needs and where
one can start. The tree's layout is private and may change with any Python release: on a Python this was
not checked against, `parse` answers None, and both readers then say "unknown", which makes every regex
run over the whole text as medspaCy runs it (slower, the same matches).
"""

from __future__ import annotations

import re
import sys
from re import _constants as constants  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]

CHECKED_PYTHONS = {(3, 11), (3, 12), (3, 13)}
REPEATS = (constants.MAX_REPEAT, constants.MIN_REPEAT, getattr(constants, "POSSESSIVE_REPEAT", constants.MAX_REPEAT))


def parse(pattern: str, flags: int) -> list | None:
    """The pattern's parse tree as a list of (op, arg) items; None on an unchecked Python or a bad pattern."""
    if sys.version_info[:2] not in CHECKED_PYTHONS:
        return None
    try:
        return list(_parser.parse(pattern, flags))
    except re.error:
        return None
