"""The clinical sentencizer component, registered as spaCy factory ."""

from collections.abc import Iterable

import numpy as np
from spacy.attrs import ORTH, SENT_START
from spacy.language import Language
from spacy.tokens import Doc


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
        # every word seen so far, its kind and shield: sorted orth ids with a row each, looked up per doc
        # with one searchsorted (a dict lookup per distinct word cost as much as the rest of this component)
        self._keys = np.empty(0, dtype=np.uint64)
        self._rows = np.empty((0, 2), dtype=np.int8)

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

    def _table(self, orth: np.ndarray, strings: object) -> np.ndarray:
        """(kind, shields) rows for a doc's orth ids; words not seen before are worked out once."""
        pos = np.searchsorted(self._keys, orth)
        known = pos < len(self._keys)
        known[known] = self._keys[pos[known]] == orth[known]
        if not known.all():
            new = np.unique(orth[~known])
            rows = np.array([self._kind(strings[k]) for k in new.tolist()], dtype=np.int8).reshape(-1, 2)
            keys = np.concatenate([self._keys, new])
            order = np.argsort(keys, kind="stable")
            self._keys, self._rows = keys[order], np.concatenate([self._rows, rows])[order]
            pos = np.searchsorted(self._keys, orth)
        return self._rows[pos]

    def __call__(self, doc: Doc) -> Doc:
        n = len(doc)
        if not n:
            return doc
        table = self._table(doc.to_array(ORTH), doc.vocab.strings)
        kind = table[:, 0]
        shields = table[:, 1].astype(bool)
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
