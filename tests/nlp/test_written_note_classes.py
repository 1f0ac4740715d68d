"""Classes of wording that twelve written notes (labels/written/wb-*, issue 11) showed the rules missing: each
case is a short sentence as a clinician writes it, with the look-alike that must change and the mention
that must stay as it was (labels/mtsamples/README.md conventions)."""

from datetime import date

import pytest

from extractor.guideline.dates import _cue_date
from extractor.ingest.document import classify
from extractor.nlp.extract import extract
from tests.helpers import flags, mentioned

# (text, label, word, expected flags of that mention)
FLAGGED = [
    # a family history heading written short or with qualifiers ("FAM HX:", "FAMILY PSYCH/MEDICAL HX:")
    ("FAM HX: mother had preeclampsia, and had a stroke at 58.\nSOC: teacher.", "STROKE", "stroke", {"family"}),
    (
        "FAMILY PSYCH/MEDICAL HX: mother - depression. Maternal uncle - alcohol use disorder, died of a stroke.",
        "STROKE",
        "stroke",
        {"family"},
    ),
    # ... and the heading that follows ends it: SOAP letters at a line start, a mental status exam
    ("FAMILY HX: father with a stroke.\nMSE: calm.\nA: 1. First seizure today.", "EPILEPSY", "seizure", set()),
    ("FAM HX: sister with epilepsy.\nA: New seizure this morning.", "EPILEPSY", "seizure", set()),
    ("HPI: She had a stroke today. Fam hx: no epilepsy.", "STROKE", "stroke", set()),
    # a prevented event is hypothetical whatever word follows "prophylaxis"
    (
        "Magnesium sulfate 2 g/h for seizure prophylaxis (eclampsia prevention).",
        "EPILEPSY",
        "seizure",
        {"hypothetical"},
    ),
    (" - Seizure prophylaxis not indicated at this time.", "EPILEPSY", "seizure", {"hypothetical"}),
    ("Prevention is not needed: she had a seizure at work today.", "EPILEPSY", "seizure", set()),
    # "incl." does not end the sentence of a risk list
    (
        "Counseled regarding risks of preeclampsia incl. eclamptic seizure, stroke.",
        "STROKE",
        "stroke",
        {"hypothetical"},
    ),
    ("Risks reviewed incl. bleeding. Today she had a seizure at work.", "EPILEPSY", "seizure", set()),
    # a timeline line that opens with its date, a date with a month's name
    (
        "Oncologic history:\n- 05/2024 R craniotomy, subtotal resection, path GBM.",
        "PRIOR_SURGERY",
        "craniotomy",
        {"historical"},
    ),
    ("History:\n09/2021 first seizure, levetiracetam started.", "EPILEPSY", "seizure", {"historical"}),
    ("Headaches.\n09/2021 first seizure, levetiracetam started.", "EPILEPSY", "seizure", {"historical"}),
    ("She was diagnosed in September 2019 with glioblastoma.", "BRAIN_TUMOR", "glioblastoma", {"historical"}),
    ("MRI shows a new 3 cm mass; we discussed resection with the family.", "BRAIN_LESION", "mass", set()),
    # a relative as the subject of a diagnosis is the relative's whole story, till the patient is named again
    (
        "Her father was diagnosed with a brain tumor (glioblastoma) last fall and had surgery and radiation.",
        "PRIOR_RADIATION",
        "radiation",
        {"family"},
    ),
    (
        "Her father was diagnosed with a brain tumor (glioblastoma) last fall.",
        "BRAIN_TUMOR",
        "glioblastoma",
        {"family"},
    ),
    ("Her mother had a stroke at 60 and she now has seizures.", "EPILEPSY", "seizures", set()),
    ("Her father was diagnosed with GBM, so she came in after her own seizure.", "EPILEPSY", "seizure", set()),
    ("Denies that she had seizures.", "EPILEPSY", "seizures", {"negated"}),
    # a relative who is counselled is the audience, not the one who has the disease
    ("Counseled pt and husband regarding risks of eclamptic seizure, stroke.", "STROKE", "stroke", {"hypothetical"}),
    ("Discussed with pt and husband. Husband has Parkinson disease.", "NEURODEGENERATIVE", "Parkinson", {"family"}),
    # a decline in health is no refusal
    (
        "Her grandmother had dementia and is now declining, per the daughter.",
        "NEURODEGENERATIVE",
        "dementia",
        {"family"},
    ),
    ("He is slowly declining; MRI shows a growing glioblastoma.", "BRAIN_TUMOR", "glioblastoma", set()),
    ("He declined radiation.", "PRIOR_RADIATION", "radiation", {"hypothetical"}),  # README: refused is hypothetical
    # a disease the patient fears or is convinced of is imagined
    (
        "She is convinced that her headaches mean she has early Alzheimer's.",
        "NEURODEGENERATIVE",
        "Alzheimer",
        {"hypothetical"},
    ),
    ("She has early Alzheimer's disease, MoCA 18.", "NEURODEGENERATIVE", "Alzheimer", set()),
    # a low likelihood is a probable negation, as "unlikely" is; suspicion alone stays uncertain
    ("Low suspicion for a neurodegenerative process at 44.", "NEURODEGENERATIVE", "neurodegenerative", {"negated"}),
    ("Suspicion for abscess remains; repeat MRI.", "ABSCESS", "abscess", {"uncertain"}),
    # what would be done if something happened, what a patient asks for, is not done
    ("Low threshold for LP if any new seizure.", "EPILEPSY", "seizure", {"hypothetical"}),
    ("Low threshold for MRI brain with contrast if any headache.", "DOC_IMAGING", "MRI", {"hypothetical"}),
    ("She asked her PCP for an MRI; he did not order one.", "DOC_IMAGING", "MRI", {"hypothetical"}),
    ("MRI brain 02/20/2026 shows new enhancement; she asked about the results.", "DOC_IMAGING", "MRI", set()),
    ("The family had wanted her transferred for evaluation of her seizure.", "EPILEPSY", "seizure", set()),
    # a differential item qualified after its words is uncertain
    ("1) Toxoplasmosis - favored, given the new seroconversion.", "INFECTION", "Toxoplasmosis", {"uncertain"}),
    ("3) Pyogenic or nocardial brain abscess - must be considered.", "ABSCESS", "abscess", {"uncertain"}),
    ("5) High-grade glioma or metastatic tumor felt much less likely.", "BRAIN_TUMOR", "glioma", {"uncertain"}),
    (
        "Favor demyelination; however neoplasm (lymphoma or glioma) not excluded.",
        "BRAIN_TUMOR",
        "lymphoma",
        {"uncertain"},
    ),
    ("A glioma remains on the list.", "BRAIN_TUMOR", "glioma", {"uncertain"}),
    ("Start empiric treatment for toxoplasmosis.", "INFECTION", "toxoplasmosis", {"uncertain"}),
    # a dash that is no qualifier, a treatment that is no empiric one
    ("Glioblastoma - resected 2019, no recurrence.", "BRAIN_TUMOR", "Glioblastoma", set()),
    ("Glioblastoma - likely recurrent.", "BRAIN_TUMOR", "Glioblastoma", {"uncertain"}),
    ("PREOPERATIVE DIAGNOSIS: Possible CSF malignancy.", "BRAIN_TUMOR", "malignancy", {"uncertain"}),
    ("Continue treatment for toxoplasmosis, confirmed by PCR.", "INFECTION", "toxoplasmosis", set()),
    # the patient's own onset at an age is historical; a relative's age stays family only
    ("Seizures began at age 14, a few years after a febrile seizure.", "EPILEPSY", "Seizures", {"historical"}),
    ("Mother had glioblastoma at age 60.", "BRAIN_TUMOR", "glioblastoma", {"family"}),
    ("He was seen for evaluation of seizures which first began at age 27.", "EPILEPSY", "seizures", set()),
    # "-free" negates only the word it is joined to
    (
        "Engel class II outcome (rare disabling seizures) after an initial seizure-free period.",
        "EPILEPSY",
        "seizures",
        set(),
    ),
    ("He has been seizure-free for two years.", "EPILEPSY", "seizure", {"negated"}),
]


@pytest.mark.parametrize(("text", "label", "word", "expected"), FLAGGED)
def test_written_note_flags(text, label, word, expected):
    assert flags(text, label, word) == expected


# (text, label, word, kept as a mention)
KEPT = [
    # a role, an alert, a meeting or a joint clinic named for the disease is no mention of it
    ("STROKE ALERT / CODE STROKE NOTE and ADMISSION H&P", "STROKE", "stroke", False),
    ("Stroke attending: Dr. Farah Nasser, MD", "STROKE", "stroke", False),
    ("EMS called, prenotification as stroke alert, FSBG 164.", "STROKE", "stroke", False),
    ("If spells persist, will present at epilepsy surgery conference.", "EPILEPSY", "epilepsy", False),
    ("MS & Neuroimmunology Clinic - Follow-up Visit", "INFLAMMATORY", "MS", False),
    ("Eclampsia (seizure) precautions - padded rails, suction at bedside.", "EPILEPSY", "seizure", False),
    # a symptom that evolves is no tumour progression; a chest film's mass is no brain lesion
    ("He has had 3 auras without progression since December.", "TUMOR_RECURRENCE", "progression", False),
    ("MRI shows tumor progression and new seizures.", "TUMOR_RECURRENCE", "progression", True),
    ("CXR: no focal consolidation, no mass seen.", "BRAIN_LESION", "mass", False),
    ("CT head: 3 cm mass in the left temporal lobe.", "BRAIN_LESION", "mass", True),
    # prior relevant imaging is of the head: an abdominal, chest or spine study is not
    ("CT abdomen/pelvis with contrast showed a liver abscess.", "DOC_IMAGING", "CT", False),
    ("MRI of the lumbar spine showed a disc bulge.", "DOC_IMAGING", "MRI", False),
    ("CT head without contrast: no hemorrhage.", "DOC_IMAGING", "CT", True),
    ("MRI brain with and without contrast showed a ring-enhancing lesion.", "DOC_IMAGING", "MRI", True),
    ("First seizure (generalized) today, precautions in place.", "EPILEPSY", "seizure", True),
    # the patient's own disease stays
    ("67M with acute R MCA ischemic stroke, code called at 14:09.", "STROKE", "stroke", True),
    ("She has MS and neuromyelitis, seen in Clinic today.", "INFLAMMATORY", "MS", True),
    ("He was referred for epilepsy surgery after failing three drugs.", "EPILEPSY", "epilepsy", True),
]


@pytest.mark.parametrize(("text", "label", "word", "kept"), KEPT)
def test_written_note_mentions(text, label, word, kept):
    assert mentioned(extract(text).mentions, label, word) is kept


def test_a_named_month_dates_its_cue():
    """'in September 2025' is September, not January: a cue four months old is not 'recent'."""
    assert _cue_date("in September 2025") == date(2025, 9, 1)
    assert _cue_date("in Oct 2019") == date(2019, 10, 1)
    assert _cue_date("in 02/2026") == date(2026, 2, 1)
    assert _cue_date("in 2019") == date(2019, 1, 1)


VISIT_NOTES = [
    # a clinician's visit note that reviews MRI findings (T2, FLAIR, gadolinium, the radiologist) is still a visit
    (
        "MS Clinic - Follow-up Visit\nVisit date: March 2, 2026\nSubjective:\nNew T2 lesion on MRI brain with"
        " gadolinium; the radiologist favors demyelination.\nAssessment:\n1. RRMS.\n",
        "office_note",
    ),
    (
        "COMPREHENSIVE EPILEPSY CENTER\nOUTPATIENT FOLLOW UP NOTE\nEXAM: alert.\nSTUDIES:\n- MRI brain: T2 signal,"
        " the radiologist wonders about gliosis.\nPMH: epilepsy\n",
        "office_note",
    ),
    ("PALLIATIVE CARE / HOSPICE - HOME VISIT NOTE\nMeds: dexamethasone\nAssessment: GBM.\n", "office_note"),
    ("PSYCHIATRY FOLLOW UP\nS: mood better.\nMSE: calm.\nA: MDD.\nP: continue sertraline.\n", "office_note"),
    (
        "NEUROLOGY CONSULTATION\nReason for consult: ring-enhancing lesion.\nMRI brain with gadolinium: 2 cm lesion."
        "\nImpression: toxoplasmosis favored.\nThank you for this consult.\n",
        "consult_note",
    ),
    # an imaging report stays one
    (
        "MRI BRAIN WITH AND WITHOUT CONTRAST\nTECHNIQUE: T1, T2, FLAIR.\nCOMPARISON: 01/2026.\nFINDINGS: a 2 cm"
        " enhancing mass.\nIMPRESSION: glioma.\n",
        "imaging_report",
    ),
]


@pytest.mark.parametrize(("text", "expected"), VISIT_NOTES)
def test_visit_notes_that_review_imaging(text, expected):
    assert classify(text) == expected
