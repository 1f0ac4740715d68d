"""The documentation checklist on the ways real notes are written (issue 11): placeholder clinicians with
credentials, case-style visit notes, imaging of other body parts, and test results named in passing."""

import pytest

from extractor.ingest.document import classify
from tests.helpers import checklist


@pytest.mark.parametrize(
    "text",
    [
        "She was seen in consultation by Dr. X, who started levetiracetam.",
        "I spoke with the pathologist, Dr. XYZ, about the frozen section.",
        "X Y, MD\nNeurology\n\nDear Dr. Y:\nThank you for referring this boy with seizures.",
        "She comes in today in consultation from ABC, nurse practitioner, because of headaches.",
    ],
)
def test_placeholder_clinician_with_credential_counts(tmp_path, text):
    assert checklist(tmp_path, text)["clinician"] == "present"


def test_no_named_clinician_is_missing(tmp_path):
    assert checklist(tmp_path, "The patient saw a doctor last week for headaches.")["clinician"] == "missing"


CASE_NOTE = """CC: Decreasing visual acuity.

HX: This 62 y/o RHF presented with a 2 month history of progressive loss of visual acuity.

PMH: 1) depression.

MEDS: None.

EXAM: BP121/85, HR 94

MS: Alert and oriented. CN: Pale optic disks. MOTOR: 5/5 throughout.

COURSE: CT Brain showed an enhancing suprasellar mass.
"""

DISCHARGE = """DISCHARGE DIAGNOSES:
1. Pneumonia.

HISTORY OF PRESENT ILLNESS: A 70-year-old woman admitted with cough and fever.

HOSPITAL COURSE: She was treated with antibiotics and improved.

DISCHARGE MEDICATIONS: Amoxicillin.
"""


def test_case_style_visit_note_is_an_office_note(tmp_path):
    assert classify(CASE_NOTE) == "office_note"
    assert checklist(tmp_path, CASE_NOTE)["office_visit_note"] == "present"


def test_discharge_summary_is_no_office_note(tmp_path):
    assert classify(DISCHARGE) == "discharge_summary"
    assert checklist(tmp_path, DISCHARGE)["office_visit_note"] == "missing"


KNEE_MRI = """MRI LEFT KNEE WITHOUT CONTRAST

TECHNIQUE: Multiplanar T1 and T2 images of the left knee.

FINDINGS: Tear of the posterior horn of the medial meniscus. No joint effusion.

IMPRESSION: Medial meniscal tear.
"""

BRAIN_MRI = """MRI BRAIN WITH AND WITHOUT CONTRAST

TECHNIQUE: Multiplanar T1 and FLAIR images of the brain before and after gadolinium.

FINDINGS: A 2 cm enhancing mass in the left frontal lobe.

IMPRESSION: Left frontal enhancing mass.
"""


@pytest.mark.parametrize(
    ("text", "status"),
    [
        (KNEE_MRI, "missing"),
        ("Low back pain. MRI of the lumbar spine showed a disc herniation at L4-5.", "missing"),
        ("CT of the abdomen and pelvis showed a 3 cm adrenal mass.", "missing"),
        (BRAIN_MRI, "present"),
        ("Headaches. MRI of the brain showed a left frontal mass.", "present"),
    ],
)
def test_prior_imaging_is_head_imaging_only(tmp_path, text, status):
    assert checklist(tmp_path, text)["prior_imaging"] == status


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("She was seen at XYZ where blood work was done; she had a normal white count and a normal H&H.", "present"),
        ("Her Mini-Mental Status exam score was 26/30.", "present"),
        ("EMG and nerve conduction studies of the left leg were normal.", "present"),
        ("The patient underwent an overnight polysomnogram on 09/22/06.", "present"),
        ("An echocardiogram showed concentric LVH.", "present"),
        ("Echocardiogram due 12/2025.", "missing"),
        ("Headaches for two months. No focal deficit.", "missing"),
    ],
)
def test_special_testing_named_with_a_result_counts(tmp_path, text, status):
    assert checklist(tmp_path, text)["labs_or_special_testing"] == status
