"""Classes of wording that twelve written neuro notes (labels/written/wd-*, issue 11) showed the rules missing:
a stroke consult, an epilepsy and an MS clinic, a memory clinic, a skull-base consult, a pituitary note, a CT/MRA,
an MRI with MRS, a radiation completion summary, a hospice note, a post-operative note and an MRS letter. Each
case is a short sentence as a clinician writes it, with the look-alike that must change and the mention that must
stay as it was (labels/mtsamples/README.md conventions)."""

import pytest

from extractor.nlp.extract import extract
from tests.helpers import flags, mentioned

# (text, label, word, expected flags of that mention)
FLAGGED = [
    # a complication in a procedure's risk list is hypothetical ("risk to", as "risk of")
    (
        "Microsurgical resection: risk to facial nerve, CSF leak, stroke (rare), prolonged imbalance.",
        "STROKE",
        "stroke",
        {"hypothetical"},
    ),
    ("MRI today: acute left MCA stroke, a risk to her independence.", "STROKE", "stroke", set()),
    # a treatment the patient leans towards is not yet given
    ("She is leaning towards Gamma Knife.", "PRIOR_RADIATION", "Gamma Knife", {"hypothetical"}),
    (
        "She had Gamma Knife in 2019 and is leaning towards observation now.",
        "PRIOR_RADIATION",
        "Gamma Knife",
        {"historical"},
    ),
]


@pytest.mark.parametrize(("text", "label", "word", "expected"), FLAGGED)
def test_written_note_flags_d(text, label, word, expected):
    assert flags(text, label, word) == expected


# (text, label, word, kept as a mention)
KEPT = [
    # a protocol, a team or teaching named for the disease is no mention of it
    ("LIMITED DWI (added per stroke protocol, 2 sequences): no restricted diffusion.", "STROKE", "stroke", False),
    ("The stroke team (Dr. Osei) was at bedside.", "STROKE", "stroke", False),
    ("MRI brain epilepsy protocol 3T 01/2026: volume loss of the L hippocampus.", "EPILEPSY", "epilepsy", False),
    ("Stroke education done.", "STROKE", "Stroke", False),
    ("Acute L MCA ischemic stroke, s/p thrombectomy.", "STROKE", "stroke", True),
    ("Drug-resistant focal epilepsy since age 15.", "EPILEPSY", "epilepsy", True),
    # the splenium is the corpus callosum, not the spleen: a mass crossing it is in the brain
    (
        "MRI shows progression: new enhancing mass crossing the splenium into the R parietal lobe.",
        "BRAIN_LESION",
        "mass",
        True,
    ),
    (
        "MRI shows progression: new enhancing mass crossing the splenium into the R parietal lobe.",
        "TUMOR_RECURRENCE",
        "progression",
        True,
    ),
    ("CT abdomen: a 4 cm mass in the spleen.", "BRAIN_LESION", "mass", False),
    # dose statistics of organs at risk name no course of radiation; the prescription does
    ("OAR: brainstem Dmax 3890 cGy, optic chiasm Dmax 4410 cGy.", "PRIOR_RADIATION", "3890 cGy", False),
    ("L hippocampus mean 2150 cGy, cochlea mean 1210 cGy.", "PRIOR_RADIATION", "2150 cGy", False),
    ("Dose: PTV 5940 cGy in 33 fractions of 180 cGy.", "PRIOR_RADIATION", "5940 cGy", True),
    # cognitive decline that progresses is no tumour progression
    (
        "Progression from MCI to mild dementia, most likely Alzheimer's disease.",
        "TUMOR_RECURRENCE",
        "progression",
        False,
    ),
    ("MRI shows progression of the glioma.", "TUMOR_RECURRENCE", "progression", True),
    # a macroprolactinoma is a pituitary tumour
    ("Patient is a 41 yo man here for f/u of macroprolactinoma.", "BRAIN_TUMOR", "macroprolactinoma", True),
    # post-surgical change offered as the explanation of a finding is a treatment effect; a report's
    # descriptive 'Postoperative changes of ... craniotomy' is not
    (
        "MRI: thin rim of enhancement along the cavity consistent w/ post surgical change.",
        "TREATMENT_EFFECT",
        "post surgical change",
        True,
    ),
    ("Postoperative changes of left frontal craniotomy.", "TREATMENT_EFFECT", "postoperative", False),
    # old lacunar infarcts written 'lacunes'
    ("Old R cerebellar infarct and old lacunes, not new.", "STROKE", "lacunes", True),
]


@pytest.mark.parametrize(("text", "label", "word", "kept"), KEPT)
def test_written_note_mentions_d(text, label, word, kept):
    assert mentioned(extract(text).mentions, label, word) is kept


# (text, label, word, expected flags) for the second round of classes
FLAGGED_MORE = [
    # "seizure free" negates the word it follows, not an operation earlier in the sentence
    (
        "He had a temporal lesionectomy in 2016 (Dr. Ahn) for cortical dysplasia - seizure free 2 years after that.",
        "PRIOR_SURGERY",
        "lesionectomy",
        {"historical"},
    ),
    ("He has been seizure free since the operation.", "EPILEPSY", "seizure", {"negated"}),
    # every option of an "Options to discuss:" list is planned
    (
        "Options to discuss: anterior temporal lobectomy vs MRI guided laser ablation vs RNS.",
        "PRIOR_SURGERY",
        "laser ablation",
        {"hypothetical"},
    ),
    # the treatment a referral is placed for is not given yet
    ("Rad onc referral placed for post-op SRS to the resection cavity.", "PRIOR_RADIATION", "SRS", {"hypothetical"}),
    ("S/p SRS to the resection cavity in 2024; referral placed for PT.", "PRIOR_RADIATION", "SRS", {"historical"}),
    # an operation offered on a condition is not done
    (
        "Transsphenoidal surgery was offered only if no response to medication.",
        "PRIOR_SURGERY",
        "transsphenoidal surgery",
        {"hypothetical"},
    ),
    ("He had a craniotomy in 2020 and was offered radiation.", "PRIOR_SURGERY", "craniotomy", {"historical"}),
]


@pytest.mark.parametrize(("text", "label", "word", "expected"), FLAGGED_MORE)
def test_written_note_flags_d_more(text, label, word, expected):
    assert flags(text, label, word) == expected


KEPT_MORE = [
    # residual tumour written with its enhancement; a grade question written as transformation
    (
        "Post op MRI: residual nonenhancing tumor ~1.2 cm insular.",
        "TUMOR_RECURRENCE",
        "residual nonenhancing tumor",
        True,
    ),
    ("No residual nonenhancing signal abnormality.", "TUMOR_RECURRENCE", "residual", False),
    ("Tumor progression, possibly with transformation to a higher grade.", "GLIOMA_GRADING", "higher grade", True),
    ("A higher grade fever overnight, now afebrile.", "GLIOMA_GRADING", "higher grade", False),
]


@pytest.mark.parametrize(("text", "label", "word", "kept"), KEPT_MORE)
def test_written_note_mentions_d_more(text, label, word, kept):
    assert mentioned(extract(text).mentions, label, word) is kept
