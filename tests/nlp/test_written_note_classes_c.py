"""Classes of wording that twelve written notes (labels/written/wc-*, issue 11: mostly notes not about a brain
tumour) showed the rules missing: short sentences as a clinician writes them, the look-alike that must go and
the mention that must stay (labels/mtsamples/README.md conventions)."""

import pytest

from extractor.nlp.extract import extract
from tests.helpers import flags, mentioned

# (text, label, word, expected flags of that mention)
FLAGGED = [
    # an ED's return precautions list what to come back for: every item is hypothetical, however long the list
    (
        "Return precautions given (worsening headache, vomiting, confusion, weakness, seizure).",
        "EPILEPSY",
        "seizure",
        {"hypothetical"},
    ),
    (
        "Strict return precautions reviewed with pt and daughter: new numbness, slurred speech, facial droop"
        " or stroke symptoms.",
        "STROKE",
        "stroke",
        {"hypothetical"},
    ),
    ("Return precautions reviewed. In the ED she had a seizure lasting 2 minutes.", "EPILEPSY", "seizure", set()),
]


@pytest.mark.parametrize(("text", "label", "word", "expected"), FLAGGED)
def test_written_note_flags_c(text, label, word, expected):
    """The flags of the named mention are exactly `expected`."""
    assert flags(text, label, word) == expected


# (text, label, word, kept): whether a mention of `label` containing `word` is found
KEPT = [
    # a specialty written after a clinician's credential is the clinician's department, no infection
    ("Consultant: Jonah Abernathy, MD, Infectious Diseases", "INFECTION", "Infectious", False),
    ("Seen by: R. Patel, DO, Epilepsy", "EPILEPSY", "Epilepsy", False),
    ("Priya Raman, MD, Stroke and Vascular Neurology", "STROKE", "Stroke", False),
    ("Impression, MD: new seizure, infectious etiology considered.", "INFECTION", "infectious", True),
    ("Dr. Lee, MD: stroke on MRI today.", "STROKE", "stroke", True),
    # a bleed an anticoagulant or an injury caused is a haemorrhage of non-ischaemic cause, no stroke
    ("Reluctant about DOACs because her sister had a brain bleed on warfarin.", "STROKE", "brain bleed", False),
    ("He had a cerebral hemorrhage after a fall in 2019.", "STROKE", "cerebral hemorrhage", False),
    ("Hypertensive brain bleed in the left putamen, BP 220/110.", "STROKE", "brain bleed", True),
    ("She had a brain hemorrhage in the right thalamus last year.", "STROKE", "brain hemorrhage", True),
]


@pytest.mark.parametrize(("text", "label", "word", "kept"), KEPT)
def test_written_note_mentions_c(text, label, word, kept):
    """A look-alike is gone (kept False) and a real mention stays (kept True)."""
    assert mentioned(extract(text).mentions, label, word) is kept
