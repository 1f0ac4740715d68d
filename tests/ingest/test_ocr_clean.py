"""Fax specks read as punctuation, and OCR's space after a hyphen, are undone before the NLP reads a fax; what
a typed note means by its punctuation is kept. The cases are those the rendered samples' faxes lost
(scripts/compare_fax.py)."""

import pytest

from extractor.nlp.extract import extract
from extractor.nlp.normalize import repair_ocr
from extractor.nlp.ocr_clean import clean_ocr


@pytest.mark.parametrize(
    ("ocr", "clean"),
    [
        ("sclerosis. .No mass or enhancing lesion.", "sclerosis.  No mass or enhancing lesion."),
        ("concerning for recurrent tumor;. radiation", "concerning for recurrent tumor;  radiation"),
        ("DOB:.02/17/1966", "DOB: 02/17/1966"),
        ("evaluation. :\n\u20182. No new", "evaluation.  \n 2. No new"),
        ("If a new. enhancing lesion appears", "If a new  enhancing lesion appears"),
        ("CPT.76390, +0698T", "CPT 76390, +0698T"),
        ("for recurrent.tumor;", "for recurrent tumor;"),
        ("No. hemorrhage. Ventricles", "No  hemorrhage. Ventricles"),
        ("TMZ (60 |\nGy in 30", "TMZ (60  \nGy in 30"),
        ("HEMATOLOGY .\nWBC", "HEMATOLOGY  \nWBC"),
        ("consider MR \u2018spectroscopy", "consider MR  spectroscopy"),
        ("sip WBRT 2022", "s/p WBRT 2022"),
        ("She d\u00e9nies seizures; n\u00e9gative for stroke", "She denies seizures; negative for stroke"),
        ("No prior hx of.MS or optic neuritis", "No prior hx of MS or optic neuritis"),
        ("late radiation _ injury", "late radiation   injury"),
        ("2.3 cm_right frontal", "2.3 cm right frontal"),
        ("if MRS favors. a neoplastic", "if MRS favors  a neoplastic"),
        ("MR spectroscopy (CPT 76390, 06987).", "MR spectroscopy (CPT 76390, 0698T)."),
        ("CPT 7639O", "CPT 76390"),
        ("PANEL\n\n\u201cSodium - 139", "PANEL\n\n Sodium - 139"),
        ("not available at our\u201d\nfacility", "not available at our \nfacility"),
        ("Member ID: NIA4418821\u00b0\nDate", "Member ID: NIA4418821 \nDate"),
        ("FINDINGS:       :\nThe treated", "FINDINGS:        \nThe treated"),
        ("diabetes mellitus   :\n\nFAMILY", "diabetes mellitus    \n\nFAMILY"),
        ("No hydrocephalus. No *\nleptomeningeal", "No hydrocephalus. No  \nleptomeningeal"),
    ],
)
def test_specks_become_spaces(ocr, clean):
    assert clean_ocr(ocr) == clean and len(clean) == len(ocr)


@pytest.mark.parametrize(
    "typed",
    [
        "Patient Name : Robert Hale",
        "a .5 cm lesion",
        "e.g. the left",
        "Dr. Smith",
        "approx. 3 cm",
        "a sip of water",
        "Jos\u00e9 P\u00e9rez",
        "Hartford, CT 06987",
        "CPT 76399",
        "PLAN:\nFollow up",
        "Temperature 37.2 C, pulse 72",
        "5 x 4 cm",
    ],
)
def test_typed_punctuation_is_kept(typed):
    assert clean_ocr(typed) == typed


def test_a_speck_no_longer_hides_a_negation():
    """The sentence as the c11 fax read it: with the speck, "No" is not a negation cue."""
    text = "questionable left mesial temporal sclerosis. .No mass or enhancing lesion. Video EEG"
    mentions = [m for m in extract(clean_ocr(text)).mentions if m.label == "BRAIN_LESION"]
    assert mentions and all(m.negated for m in mentions)


def test_ocr_space_after_a_hyphen_is_closed_but_suspended_hyphens_stay():
    assert repair_ocr("a new right frontal ring- enhancing lesion")[0] == "a new right frontal ring-enhancing lesion"
    assert repair_ocr("ring- and nodular-enhancing")[0] == "ring- and nodular-enhancing"
    assert repair_ocr("lesion- no edema")[0] == "lesion- no edema"
    assert repair_ocr("radia- tion necrosis")[0] == "radiation necrosis"
