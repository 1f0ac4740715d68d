"""Classes of wording that the round-9 real notes (labels/mtsamples/dev, the first half of
`selection_round9.csv`: neurology, neurosurgery, hematology-oncology, ER and discharge notes, issue 11)
showed the rules getting wrong. Each case is a short sentence as a clinician writes it, both ways: the
mention whose flag must change and a near miss that must keep its flags (labels/mtsamples/README.md
conventions)."""

import pytest

from tests.helpers import checklist, flags

# (text, label, word, expected flags of that mention)
FLAGGED = [
    # a "past medical conditions" heading is a past medical history section
    (
        "PAST MEDICAL CONDITIONS:  Include hypertension, dementia, and chronic back pain.\n\n"
        "IMPRESSION:  Near syncope.\n",
        "NEURODEGENERATIVE",
        "dementia",
        {"historical"},
    ),
    (
        "PAST MEDICAL CONDITIONS:  Hypertension.\n\nIMPRESSION:  Dementia, most likely vascular.\n",
        "NEURODEGENERATIVE",
        "dementia",
        set(),
    ),
    # "seizure freedom" negates the seizure word it follows, as "seizure-free" does
    ("Upon starting Lamictal he had 1-year seizure freedom.", "EPILEPSY", "seizure", {"negated"}),
    ("Her seizures limit her freedom to drive.", "EPILEPSY", "seizures", set()),
    # the illness a patient comes in fearing she has is uncertain
    ("She comes in today with concerns of having a stroke.", "STROKE", "stroke", {"uncertain"}),
    ("His mother brought him in with concerns of having had a seizure.", "EPILEPSY", "seizure", {"uncertain"}),
    ("She comes in today with concerns about her gait after a stroke.", "STROKE", "stroke", set()),
    # a test or operation "not done" is denied: the negation follows what it denies
    ("Gross total resection was not performed.", "PRIOR_SURGERY", "resection", {"negated"}),
    ("Gross total resection was performed.", "PRIOR_SURGERY", "resection", set()),
    ("The patient's lab test is not done currently.", "DOC_LAB", "lab test", {"negated"}),
]


@pytest.mark.parametrize(("text", "label", "word", "expected"), FLAGGED)
def test_round9a_flags(text, label, word, expected):
    assert flags(text, label, word) == expected


HPI = "HISTORY OF PRESENT ILLNESS:  Severe back pain for a year.\n\n"
IMPRESSION = "\n\nIMPRESSION:  L1 compression fracture.\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a "lab test" with its result is a documented lab, also after one not done
        (
            "LABORATORY DATA:  The patient's lab test is not done currently, but previous lab test done in "
            "3/2009 seems to be in acceptable range.",
            "present",
        ),
        ("Lab tests were within normal limits.", "present"),
        # one only ordered is not
        ("PLAN:  We will order a lab test tomorrow.", "missing"),
    ],
)
def test_round9a_lab_test_wording(tmp_path, text, expected):
    assert checklist(tmp_path, HPI + text + IMPRESSION)["labs_or_special_testing"] == expected
