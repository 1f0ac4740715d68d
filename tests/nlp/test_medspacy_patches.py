"""The medspaCy patches take effect only on the version they were written for, and fail loudly otherwise."""

from __future__ import annotations

import medspacy
import pytest

from extractor.nlp import medspacy_patches, pipeline
from extractor.nlp.extract import extract

NOTE = (
    "HISTORY OF PRESENT ILLNESS:\nGlioblastoma resected in 2023, now with a new enhancing lesion.\n"
    "IMPRESSION:\nNo evidence of abscess. Recurrent tumor versus radiation necrosis.\n"
)


def _mentions(nlp):
    return [(m.label, m.start, m.end, m.section, m.negated, m.historical) for m in extract(NOTE, nlp).mentions]


def test_the_lean_sectionizer_is_installed_on_the_tested_medspacy_only(monkeypatch):
    assert medspacy.__version__ == medspacy_patches.MEDSPACY_VERSION, "re-check every patch, then bump the guard"
    patched = pipeline.build()
    assert type(patched.get_pipe("medspacy_sectionizer")).__name__ == "LeanSectionizer"
    monkeypatch.setattr(medspacy, "__version__", "99.0")
    unpatched = pipeline.build()
    assert type(unpatched.get_pipe("medspacy_sectionizer")).__name__ == "Sectionizer"
    assert _mentions(unpatched) == _mentions(patched) != []


def test_a_changed_matcher_layout_raises_at_build_not_mid_case():
    class NotAMatcher:
        pass

    with pytest.raises(RuntimeError, match="matcher layout changed"):
        medspacy_patches.add_rules(NotAMatcher(), [])
    with pytest.raises(RuntimeError, match="matcher layout changed"):
        medspacy_patches.read_text_once(NotAMatcher())
