"""The private regex parser behind its version guard: on a Python it was not checked against, the readers
say "unknown" and every regex runs as medspaCy runs it, with the same findings."""

from __future__ import annotations

import re

import pytest

from extractor.nlp import re_parser, regex_needs, regex_starts
from extractor.nlp.pipeline import load

NOTE = (
    "IMPRESSION: Enhancing mass in the left frontal lobe, status post resection in 2019, "
    "increased in size since the prior MRI. No seizures. Mother had a stroke.\n"
)
TUMOUR_WORDS = re.compile(r"\b(?:glioblastoma|enhancing mass|oligodendroglioma)\b", re.IGNORECASE)


def _clear_caches() -> None:
    regex_needs.needed.cache_clear()
    regex_starts.starts.cache_clear()


@pytest.fixture
def unchecked_python(monkeypatch):
    _clear_caches()
    monkeypatch.setattr(re_parser, "CHECKED_PYTHONS", set())
    yield
    _clear_caches()


def _findings(text: str) -> list[tuple]:
    doc = load()(text)
    return [
        (e.label_, e.start_char, e.end_char, e._.is_negated, e._.is_historical, e._.is_hypothetical,
         e._.is_family, e._.is_uncertain)
        for e in doc.ents
    ]  # fmt: skip


def test_this_python_is_checked_and_the_readers_know_the_tumour_words():
    assert re_parser.parse(TUMOUR_WORDS.pattern, TUMOUR_WORDS.flags) is not None
    assert regex_needs.needed(TUMOUR_WORDS.pattern, TUMOUR_WORDS.flags) == {
        "glioblastoma", "enhancing mass", "oligodendroglioma"
    }  # fmt: skip
    assert regex_starts.starts(TUMOUR_WORDS.pattern, TUMOUR_WORDS.flags) is not None


def test_a_bad_pattern_parses_to_none():
    assert re_parser.parse("(unclosed", 0) is None


def test_on_an_unchecked_python_the_readers_say_unknown(unchecked_python):
    assert re_parser.parse(TUMOUR_WORDS.pattern, TUMOUR_WORDS.flags) is None
    assert regex_needs.needed(TUMOUR_WORDS.pattern, TUMOUR_WORDS.flags) is None
    assert regex_starts.starts(TUMOUR_WORDS.pattern, TUMOUR_WORDS.flags) is None
    text = NOTE.lower()
    found = regex_starts.matches(TUMOUR_WORDS, NOTE, regex_starts.find(TUMOUR_WORDS, text))
    assert [m.group() for m in found] == ["Enhancing mass"]


def test_the_unpatched_path_gives_the_same_findings(monkeypatch):
    """The mass, the resection (historical), the negated seizures and the mother's stroke, both ways."""
    _clear_caches()
    guarded = _findings(NOTE)
    monkeypatch.setattr(re_parser, "CHECKED_PYTHONS", set())
    _clear_caches()
    try:
        plain = _findings(NOTE)
    finally:
        monkeypatch.undo()
        _clear_caches()
    assert plain == guarded
    labels = [f[0] for f in guarded]
    assert "BRAIN_LESION" in labels and "EPILEPSY" in labels and "STROKE" in labels
