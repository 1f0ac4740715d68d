"""Trying a regex only where a match can start finds exactly what `finditer` finds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from extractor.ingest.files import decode_text
from extractor.nlp import anatomy, pipeline
from extractor.nlp.medspacy_patches import _medspacy_matcher
from extractor.nlp.normalize import rejoin
from extractor.nlp.regex_needs import could_match
from extractor.nlp.regex_starts import find, fold, matches, positions, starts

ROOT = Path(__file__).resolve().parents[2]

SENTENCES = [
    "MRI of the brain shows a 2 cm enhancing mass in the right frontal lobe.",
    "Left Frontal-Parietal lesion; intra-axial, with periventricular white matter change.",
    "CT chest: spiculated mass in the right upper lobe, with hilar and mediastinal adenopathy.",
    "Liver metastases and adrenal nodules; the Lungs are clear. Breast cancer, s/p left mastectomy.",
    "Compression fracture at L1 and T12-L1 disc bulge; C5 level stenosis.",
    "Weakness of the left arm and right leg; numbness of the fingers and hands.",
    "The cerebellopontine angle mass abuts the brainstem; CP angle and internal auditory canal involved.",
    "Metastasis from breast to the cerebellum. BRAIN MRI and head CT were done.",
    "no prior history of seizures; history: none. Changed since prior, 3 years ago, he was well.",
    "",
    "x",
]


def _pipeline_patterns() -> list[re.Pattern]:
    nlp = pipeline.load()
    found = []
    for name in ("medspacy_target_matcher", "medspacy_context", "medspacy_sectionizer"):
        regex = _medspacy_matcher(nlp.get_pipe(name))._MedspacyMatcher__regex_matcher
        found += [p for patterns in regex._patterns.values() for p in patterns]
    r = anatomy.rules()
    found += [p for p in (r.brain, r.elsewhere, r.limbs, r.origin, r.craniotomy, r.csf_diversion) if p]
    return found


# non-ASCII letters a case-insensitive regex reads as ASCII ones (long s, Kelvin sign, dotted and dotless i),
# a letter whose `str.lower` is two characters, Arabic-Indic and full-width digits, dashes and quotes
NON_ASCII = [
    "MRI of the braın shows a 2 cm enhancıng maſs in the right frontal lobe – “stable”.",
    "BRAİN MRI: İNTRA-AXIAL mass; ſpiculated lung maſs, \u212aidney cyst; café au lait.",
    "Dose 5٠00 cGy and ４５ Gy; 3 years ago, he was well; – no; history: none.",
    "İ" * 3 + " brain " + "ß" * 2 + " cerebellum",
]


def _texts() -> list[str]:
    notes = [rejoin(decode_text(p.read_bytes()))[0] for p in sorted((ROOT / "sample_notes").glob("*/*.txt"))]
    return [*SENTENCES, " ".join(SENTENCES), *NON_ASCII, " ".join(NON_ASCII), *notes]


def _spans(found) -> list[tuple[int, int, tuple]]:
    return [(m.start(), m.end(), m.groups()) for m in found]


def test_every_pipeline_regex_finds_the_same_matches_tried_only_at_its_starts():
    patterns = _pipeline_patterns()
    assert sum(starts(p.pattern, p.flags) is not None for p in patterns) >= 20  # most are sped up
    for text in _texts():
        at = None
        for p in patterns:
            at = find(p, fold(text))
            assert _spans(matches(p, text, at)) == _spans(p.finditer(text)), p.pattern[:80]


def test_a_sentence_slice_reads_as_the_slice_alone():
    """The anatomy filter tries a sentence's words at offsets found in the whole text: the slice's own
    edges decide (a word cut at the slice start is a word there)."""
    r = anatomy.rules()
    text = " ".join(SENTENCES)
    for p in (r.brain, r.elsewhere):
        at = find(p, fold(text))
        for start in range(0, len(text), 7):
            for end in (start + 1, start + 30, start + 90, len(text)):
                piece = text[start:end]
                assert _spans(matches(p, piece, at, start)) == _spans(p.finditer(piece))


@pytest.mark.parametrize(
    ("sentence", "brain", "elsewhere"),
    [
        ("Enhancing lesion in the LEFT TEMPORAL LOBE.", ["TEMPORAL LOBE"], []),
        ("Nodules in both lungs and the right upper lobe.", [], ["lungs", "upper lobe"]),
        ("Fronto-parietal and intra-axial tumour.", ["parietal", "intra-axial"], []),
        ("The left ventricle ejection fraction is 40%.", ["ventricle"], ["left ventricle"]),  # longer wins later
        ("Disc herniation at C5-6 with T2 signal.", [], ["Disc", "C5-6"]),
    ],
)
def test_anatomy_words_multi_word_hyphen_plural_and_case(sentence, brain, elsewhere):
    r = anatomy.rules()
    low = fold(sentence)
    for p, words in ((r.brain, brain), (r.elsewhere, elsewhere)):
        assert [m.group() for m in matches(p, sentence, find(p, low))] == words
        assert [m.group() for m in p.finditer(sentence)] == words


def test_starts_are_the_strings_a_match_must_open_with():
    assert starts(r"\b(?:brain(?:stem)?|cerebr(?:al|um)|CNS)\b", re.I) == ("brai", "cere", "cns")
    assert starts(r"(?<!via )\b(?:pter|sub)ional", re.I) == ("pter", "subi")
    assert starts(r"\b[CTL]\d", re.I) == tuple(f"{a}{d}" for a in "clt" for d in "0123456789")
    assert starts(r"\d+\s*mg", 0) is None  # "0".."9": found almost everywhere, not worth it
    assert starts(r"(?:abc)?", 0) is None  # may match nothing
    assert starts(r"\w+ago", 0) is None  # any word: unknown
    assert starts(r"ſ[a-z]", re.I) is None  # a non-ASCII letter: not on lowered ASCII


def test_non_ascii_text_is_folded_one_character_for_one():
    """A note with a dash or a curly quote is searched like any other: what a case-insensitive regex
    reads as an ASCII letter or a digit is folded to one, everything else kept, offsets unchanged."""
    text = "Braın – maſs, \u212aidney, İ ß ٣ café"
    folded = fold(text)
    assert len(folded) == len(text)
    assert folded == "braın – maſs, kidney, i ß 0 café".replace("ı", "i").replace("ſ", "s")
    assert fold("MRI Brain") == "mri brain"
    p = re.compile(r"\b(?:brain|mass)\b", re.I)
    assert [m.group() for m in matches(p, text, find(p, folded))] == ["Braın", "maſs"]
    assert [m.group() for m in p.finditer(text)] == ["Braın", "maſs"]
    assert could_match(re.compile(r"\bkidney\b", re.I), folded)
    assert not could_match(re.compile(r"\bglioma\b", re.I), folded)
    p = re.compile(r"\bbrain\b", re.I)
    assert find(p, None) is None  # not read: the regex runs everywhere
    assert [m.start() for m in matches(p, "Brain café brain", None)] == [0, 11]


def test_positions_by_find_and_by_letter_tree_agree():
    text = "the brain, the brainstem and the cerebrum; cns and csf. " * 3
    few = ("brai", "cere", "cns", "the")
    many = tuple(sorted({*few, *(f"z{i:02d}" for i in range(20))}))
    expected = sorted({i for s in few for i in range(len(text)) if text.startswith(s, i)})
    assert positions(text, few) == expected
    assert positions(text, many) == expected  # the z-strings occur nowhere


def _up_to_anatomy(nlp, text: str):
    doc = nlp.make_doc(text)
    for name, proc in nlp.pipeline:
        if name == "anatomy_filter":
            break
        doc = proc(doc)
    return doc


@pytest.mark.parametrize(
    ("text", "word", "no_mention"),
    [
        ("Patient lives in Jackson, MS 39216 with her husband.", "MS", True),  # an address
        ("Known history of MS with optic neuritis in 2019.", "MS", False),
        ("Risks including bleeding, stroke and infection were discussed.", "infection", True),  # a consent
        ("MRI shows ring-enhancing lesion concerning for infection.", "infection", False),
    ],
)
def test_a_not_mention_whose_words_are_absent_is_not_searched_for(text, word, no_mention):
    """Skipping a `before` regex whose needed words are not in the reach before the entity changes no
    answer: the same not-mentions with and without the folded text."""
    r = anatomy.rules()
    ents = [e for e in _up_to_anatomy(pipeline.load(), text).ents if e.text == word]
    assert ents, word
    for e in ents:
        assert anatomy._not_a_mention(e, r, text, folded=fold(text)) is no_mention
        assert anatomy._not_a_mention(e, r, text) is no_mention


def test_not_mentions_with_the_folded_text_on_every_sample_note():
    nlp, r = pipeline.load(), anatomy.rules()
    for note in _texts():
        ents, folded = _up_to_anatomy(nlp, note).ents, fold(note)
        with_fold = [anatomy._not_a_mention(e, r, note, folded=folded) for e in ents]
        assert with_fold == [anatomy._not_a_mention(e, r, note) for e in ents]
