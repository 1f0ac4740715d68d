"""The medspaCy patches take effect only on the version they were written for, and fail loudly otherwise."""

from __future__ import annotations

import medspacy
import pytest

from extractor.nlp import medspacy_patches, pipeline, word_flags
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


WORD_TEST_SENTENCES = [
    "Her mother was recently diagnosed with breast cancer.",  # a relative's diagnosis: FAMILY
    "Mother is at the bedside and has questions.",  # a relative, no diagnosis: no match
    "The tumor was resected in 03/2019 and again on 11/5/2021.",  # dates: HISTORICAL
    "Resection in 13/2019 is a typo; dose 2/19.",  # no month 13: no match
    "Surgery was planned in two weeks; biopsy pending today.",  # planned: HYPOTHETICAL
    "Radiation instead of surgery; observation rather than biopsy.",  # instead of
    "Instead of surgery, radiation.",  # nothing before "instead": no match
    "\n- 3/2018 craniotomy\n* 04/12/2020 re-resection\n",  # a dated list line
    "Seizures began at the age of 12; onset in the age of 3.",
]


def _match_lists(nlp, patterns: dict, texts: list[str]) -> list:
    from spacy.matcher import Matcher

    matcher = Matcher(nlp.vocab, validate=False)
    for key, pats in patterns.items():
        matcher.add(key, pats)
    return [[(nlp.vocab.strings[k], s, e) for k, s, e in matcher(nlp.make_doc(t))] for t in texts]


def test_word_tests_as_lexeme_flags_match_what_the_patterns_as_written_match():
    """Each ConText token rule, its word lists and regexes made lexeme flags, finds the same matches in
    the same order as the rule as written, on clinical sentences and every sample note."""
    from tests.nlp.test_nlp_compiled import corpus

    nlp = pipeline.build()
    inner = medspacy_patches._medspacy_matcher(nlp.get_pipe("medspacy_context"))
    token_matcher = inner._MedspacyMatcher__matcher
    written = {k: [inner.rule_map[nlp.vocab.strings[k]].pattern] for k in token_matcher._patterns}
    compiled = {k: token_matcher.get(k)[1] for k in token_matcher._patterns}
    assert len(written) >= 10
    flagged = [p for pats in compiled.values() for p in pats if _flag_names(p)]
    assert len(flagged) >= len(written) - 2  # nearly every rule reads a flag, one pattern per rule
    texts = [*WORD_TEST_SENTENCES, *corpus()]
    found = _match_lists(nlp, compiled, texts)
    assert found == _match_lists(nlp, written, texts)
    kinds = {k.split("_")[0] for doc in found[: len(WORD_TEST_SENTENCES)] for k, _, _ in doc}
    assert {"FAMILY", "HISTORICAL", "HYPOTHETICAL"} <= kinds
    assert found[1] == [] and found[3] == [] and found[6] == []  # the near misses stay unmatched


def _flag_names(pattern: list[dict]) -> list[str]:
    return [name for token in pattern for name in token if name.startswith("FLAG")]


def test_word_test_flags_need_the_tested_spacy(monkeypatch):
    import spacy

    pattern = [{"LOWER": {"IN": ["mother", "father"]}}, {"TEXT": {"REGEX": r"^\d{4}$"}}, {"ORTH": "x"}]
    nlp = spacy.blank("en")
    flagged = word_flags.flag_word_tests(nlp.vocab, pattern)
    assert len(_flag_names(flagged)) == 2 and flagged[2] == {"ORTH": "x"}
    assert word_flags.flag_word_tests(nlp.vocab, pattern) == flagged  # the same test, the same flag
    family = int(_flag_names(flagged)[0][4:])
    nlp("Her Mother said")
    assert nlp.vocab["Mother"].check_flag(family) and not nlp.vocab["Her"].check_flag(family)
    monkeypatch.setattr(spacy, "__version__", "99.0")
    assert word_flags.flag_word_tests(nlp.vocab, pattern) is None
    unflagged = pipeline.build()
    token_matcher = medspacy_patches._medspacy_matcher(unflagged.get_pipe("medspacy_context"))._MedspacyMatcher__matcher
    assert not any(_flag_names(p) for k in token_matcher._patterns for p in token_matcher.get(k)[1])
    monkeypatch.undo()
    assert _mentions(unflagged) == _mentions(pipeline.build()) != []


def test_the_text_kept_at_tokenizing_is_the_docs_text():
    """The matchers read the text kept when the doc was made; spaCy's tokenizer loses nothing, so it is
    `doc.text`, on every sample note and on odd whitespace, and a Doc made from words keeps none."""
    from spacy.tokens import Doc

    from tests.nlp.test_nlp_compiled import corpus

    nlp = pipeline.load()
    odd = ["", " ", "\n\n  MRI:\tnegative. \u00a0 ", "Glioma–resected 2019\r\n", "a  b   c\n"]
    for text in [*odd, *corpus()]:
        doc = nlp.make_doc(text)
        assert doc.user_data[medspacy_patches.TEXT_KEY] == doc.text == text
    assert nlp("MRI brain").user_data[medspacy_patches.TEXT_KEY] == "MRI brain"
    assert next(nlp.pipe(["Glioma."])).user_data[medspacy_patches.TEXT_KEY] == "Glioma."
    assert medspacy_patches.TEXT_KEY not in Doc(nlp.vocab, words=["no", "text"]).user_data
