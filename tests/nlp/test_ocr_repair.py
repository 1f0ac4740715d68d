"""OCR damage is repaired into known clinical words, with offsets kept; nonsense stays nonsense."""

import pytest

from extractor.case import prefill
from extractor.knowledge import ocr_vocabulary
from extractor.nlp.normalize import repair_ocr


@pytest.mark.parametrize(
    ("damaged", "repaired"),
    [
        ("Left frontal gl1oblastoma s/p GTR", "Left frontal glioblastoma s/p GTR"),  # 1 read for i
        ("findings favor rad1ation necros1s", "findings favor radiation necrosis"),
        ("new enhanc1ng les1on at the margin", "new enhancing lesion at the margin"),
        ("recurrent tum0r", "recurrent tumor"),  # 0 read for o
        ("HISTORY: GL1OBLASTOMA", "HISTORY: GLIOBLASTOMA"),
        ("Gl|oma, WHO grade 4", "Glioma, WHO grade 4"),  # | read for i
        ("chemoradiation to 6O Gy in 2O24", "chemoradiation to 60 Gy in 2024"),  # O read for 0
        ("MRI 12/2O25", "MRI 12/2025"),
        ("gliob lastoma", "glioblastoma"),  # stray space inside a word
        ("recur rence versus radia tion necrosis", "recurrence versus radiation necrosis"),
        ("radia- tion necrosis", "radiation necrosis"),  # hyphenation left inside a line
        ("necro-sis", "necrosis"),
        ("old in farct", "old infarct"),
    ],
)
def test_ocr_damage_is_repaired(damaged, repaired):
    text, back = repair_ocr(damaged)
    assert text == repaired
    if back is not None:  # every character maps to its source character (or a swapped one at the same spot)
        assert len(back) == len(text) and list(back) == sorted(back)
        assert all(text[i] == damaged[back[i]] or damaged[back[i]] in "01|5O" for i in range(len(text)))


@pytest.mark.parametrize(
    "text",
    [
        "x1y g1i0m4 glzoma",  # not words, even after swaps
        "IDH1 H3K27M 1p/19q CO2 B12 T1 T2 FLAIR 5-ALA 10mg 0698T",  # real tokens mixing letters and digits
        "lesion s/p SRS",  # "s/p" is no piece of "lesions"
        "ring-enhancing lesion, low- versus high-grade glioma, follow-up",  # real hyphenated words
        "Follow up in a mass of the brain",  # two real words never become one
        "no de novo lesion",
    ],
)
def test_nonsense_and_real_tokens_are_left_alone(text):
    assert repair_ocr(text)[0] == text


def test_vocabulary_is_data_and_includes_rule_words():
    curated, known = ocr_vocabulary()
    assert {"glioblastoma", "necrosis", "radiation", "infarct"} <= curated <= known
    assert "oligodendroglioma" in known and "ation" not in known


def test_damaged_fax_text_still_supports_the_indication(tmp_path):
    """A note as OCR garbles it: findings are found, and their offsets point at the damaged source."""
    note = tmp_path / "ocr_note.txt"
    damaged = (
        "NEURO-ONCOLOGY OFFICE VISIT\n"
        "HISTORY OF PRESENT ILLNESS:\n"
        "Left frontal gl1oblastoma s/p GTR in 2O24 and chemoradiation to 6O Gy. MRI shows a new enhanc1ng\n"
        "les1on at the resection margin, recur rence versus radia- tion necros1s.\n"
    )
    note.write_text(damaged)
    review = prefill([note]).review
    assert review.recommendation == "likely_meets_criteria"
    found = {f.concept: f for f in review.findings}
    assert found["BRAIN_TUMOR"].text == "glioblastoma"
    assert damaged[found["BRAIN_TUMOR"].start : found["BRAIN_TUMOR"].end] == "gl1oblastoma"
    necrosis = found["TREATMENT_EFFECT"]
    assert necrosis.text == "radiation necrosis" and necrosis.uncertain
    assert damaged[necrosis.start : necrosis.end] == "radia- tion necros1s"


def test_ocr_garbled_confidentiality_notice_is_still_no_evidence(tmp_path):
    cover = tmp_path / "cover.txt"
    cover.write_text(
        "FAX TRANSMITTAL\nTo: NIA Utilization Management\nPages: 3 (including cover)\n\n"
        "C0NFIDENTIALITY N0TICE: This facsimile contains records about diagnoses such as cancer, stroke,\n"
        "seizure disorders or HIV status. If you have received this fax in error, destroy all copies.\n"
    )
    review = prefill([cover]).review
    assert not [f for f in review.findings if f.concept in ("STROKE", "EPILEPSY")]
