"""A concept word used in another sense is no mention (issue 11): a drug, a degree, a valve, a department, a
measure, a meeting, a place. Each case is a sentence as a real note writes it; `kept` says whether it is a
mention of the concept (labels/mtsamples/README.md)."""

import pytest

from extractor.nlp.extract import extract
from tests.helpers import mentioned

CASES = [
    # MS: morphine sulfate, mitral stenosis, a degree; multiple sclerosis stays
    ("MEDICATIONS: MS Contin 30 mg twice daily.", "INFLAMMATORY", "MS", False),
    ("Echo: mild MS and moderate MR, normal LV function.", "INFLAMMATORY", "MS", False),
    ("Jane Doe, MS, CCC-SLP", "INFLAMMATORY", "MS", False),
    ("She has relapsing-remitting MS, diagnosed in 2015.", "INFLAMMATORY", "MS", True),
    # MRS: the honorific of an upper-case note; the request stays
    ("HISTORY: MRS. JONES is a 45-year-old woman seen for headaches.", "MRS_REQUEST", "MRS", False),
    ("We request MRS. The lesion is enhancing.", "MRS_REQUEST", "MRS", True),
    # stroke: heat stroke, stroke volume
    ("He collapsed with heat stroke after the race.", "STROKE", "stroke", False),
    ("Cardiac output and stroke volume were normal.", "STROKE", "stroke", False),
    ("He had a stroke in 2015 with residual aphasia.", "STROKE", "stroke", True),
    # a department, program or unit
    ("She is followed in the UCSF epilepsy program.", "EPILEPSY", "epilepsy", False),
    ("He was admitted to the Epilepsy Monitoring Unit for video EEG.", "EPILEPSY", "epilepsy", False),
    ("Infectious Disease was consulted for antibiotic choice.", "INFECTION", "infectious", False),
    ("Appreciate input from Infectious Disease.", "INFECTION", "infectious", False),
    # eponyms, places, life support
    ("Known Wolff-Parkinson-White syndrome, status post ablation.", "NEURODEGENERATIVE", "parkinson", False),
    ("Transported by ALS unit from home.", "NEURODEGENERATIVE", "ALS", False),
    ("He was diagnosed with ALS last year.", "NEURODEGENERATIVE", "ALS", True),
    # body mass index, a tumor board, tumor markers
    ("Body mass index is 31.", "BRAIN_LESION", "mass", False),
    ("Her case was discussed at tumor board.", "BRAIN_TUMOR", "tumor", False),
    ("MRI brain: the tumor in the left frontal lobe has grown.", "BRAIN_TUMOR", "tumor", True),
    # removing something that is no lesion
    ("Cerumen removal was done in the office.", "PRIOR_SURGERY", "removal", False),
    ("Staple removal in 10 days.", "PRIOR_SURGERY", "removal", False),
    ("Left frontal craniotomy and gross total removal of the tumor.", "PRIOR_SURGERY", "removal", True),
]


@pytest.mark.parametrize(("text", "label", "word", "kept"), CASES)
def test_word_in_another_sense(text, label, word, kept):
    assert mentioned(extract(text).mentions, label, word) is kept
