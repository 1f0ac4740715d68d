"""Classes the written notes of labels/written (wa-NN, issue 11) exposed: each as short sentences a clinician
would write, the look-alike that must go and the mention that must stay."""

import pytest

from extractor.nlp.extract import extract
from tests.helpers import checklist, flags


def found(text: str) -> set[tuple[str, str]]:
    return {(m.label, m.text) for m in extract(text).mentions}


@pytest.mark.parametrize(
    ("text", "label", "word", "expected"),
    [
        # the order of an MRI's sequences negates nothing it shows
        ("MRI brain without and with contrast: new ring-enhancing lesion.", "BRAIN_LESION", None, set()),
        ("EXAM: MRI BRAIN WITHOUT AND WITH CONTRAST, WITH MR SPECTROSCOPY", "MRS_REQUEST", None, set()),
        ("MRI brain without contrast showed no mass.", "BRAIN_LESION", None, {"negated"}),
        ("MRI brain w/o and w/ contrast: no enhancing lesion.", "BRAIN_LESION", None, {"negated"}),
        # a diagnosis heading is no differential
        ("Dx: R frontal GBM s/p GTR 01/2026", "BRAIN_TUMOR", None, set()),
        ("Ddx: glioblastoma versus abscess.", "BRAIN_TUMOR", None, {"uncertain"}),
        ("Differential dx includes glioma.", "BRAIN_TUMOR", None, {"uncertain"}),
        # every item of a differential that 'remains' is a possibility
        (
            "Differential remains primary CNS lymphoma, and less likely metastasis.",
            "BRAIN_TUMOR",
            "lymphoma",
            {"uncertain"},
        ),
        # what is not excluded stays possible
        ("Mixed tumor and treatment effect is not excluded.", "TREATMENT_EFFECT", None, {"uncertain"}),
        ("Infection is not entirely excluded.", "INFECTION", None, {"uncertain"}),
        ("Stroke was excluded.", "STROKE", None, {"negated"}),
        # a feared diagnosis that 'is a strong concern' is suspected
        ("Nocardia with brain involvement is a strong concern.", "INFECTION", None, {"uncertain"}),
        ("Abscess is the main concern.", "ABSCESS", None, {"uncertain"}),
        ("The abscess was drained.", "ABSCESS", None, set()),
        # a test to be sure there is none leaves the disease uncertain, not denied
        ("She asked for spectroscopy to be sure there is no tumor.", "BRAIN_TUMOR", None, {"uncertain"}),
        ("We will test her to be sure that she does not have dementia.", "NEURODEGENERATIVE", None, {"uncertain"}),
        ("There is no tumor.", "BRAIN_TUMOR", None, {"negated"}),
        # 'free' before a noun is an adjective, after a disease a negation
        ("Four burr holes were placed and a free bone flap was elevated.", "PRIOR_SURGERY", None, set()),
        ("She has been seizure free for two years.", "EPILEPSY", None, {"negated"}),
        # an operation a surgeon would attempt is not done
        ("The extent of resection he would attempt depends on the grade.", "PRIOR_SURGERY", None, {"hypothetical"}),
        ("The resection he performed was complete.", "PRIOR_SURGERY", None, set()),
        # a course finished is past; both sides of the question MRS is to separate are possibilities
        ("This is within 12 weeks of finishing radiation.", "PRIOR_RADIATION", None, {"historical"}),
        ("She is on week 4 of radiation.", "PRIOR_RADIATION", None, set()),
        ("MRS to help separate tumor from treatment-related change.", "TREATMENT_EFFECT", None, {"uncertain"}),
        ("MRS to help separate tumor from treatment-related change.", "BRAIN_TUMOR", None, {"uncertain"}),
        ("The tumor was separated from the optic nerve.", "BRAIN_TUMOR", None, set()),
        # an alternative offered is not given; a study with a date to come is not done
        (
            "We discussed the alternatives: observation with serial MRI, and SRS, which is less attractive.",
            "PRIOR_RADIATION",
            None,
            {"hypothetical"},
        ),
        ("He completed SRS in 2024.", "PRIOR_RADIATION", None, {"historical"}),
        pytest.param(
            "Potential alternatives for dysphagia, given his brain surgery, were discussed.",
            "PRIOR_SURGERY",
            None,
            set(),
            marks=pytest.mark.xfail(strict=True, reason="'were discussed' reads back over 'given his' (ctx3's rule)"),
        ),
        ("Post-treatment MRI planned ~4 weeks after completion.", "DOC_IMAGING", None, {"hypothetical"}),
        ("MRI brain was done on 03/01/2026.", "DOC_IMAGING", None, set()),
        # what a result would support is a possibility
        ("Lactate and lipid in the core would support abscess.", "ABSCESS", None, {"uncertain"}),
        ("Aspiration confirmed an abscess.", "ABSCESS", None, set()),
        # an operation that could be done, or is an option, is not done
        (
            "Stereotactic needle aspiration/biopsy of the parietal lesion is feasible.",
            "PRIOR_SURGERY",
            None,
            {"hypothetical"},
        ),
        ("Resection is a reasonable option.", "PRIOR_SURGERY", None, {"hypothetical"}),
        ("The craniotomy is a standard approach.", "PRIOR_SURGERY", None, set()),
        # what an operation left is current; 's/p' dates only the operation
        (
            "Atypical meningioma s/p subtotal resection with residual disease, with possible early growth.",
            "TUMOR_RECURRENCE",
            "residual",
            set(),
        ),
        (
            "Atypical meningioma s/p subtotal resection with residual disease, with possible early growth.",
            "PRIOR_SURGERY",
            None,
            {"historical"},
        ),
    ],
)
def test_written_note_context(text, label, word, expected):
    assert flags(text, label, word) == expected


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        # a tumour type named at a spinal site is a spine tumour; the same type in the head stays
        (
            "C-spine MRI: intradural mass at C5-C6. Impression: favor spinal meningioma, schwannoma less likely.",
            [("BRAIN_TUMOR", "meningioma"), ("BRAIN_TUMOR", "schwannoma")],
            [],
        ),
        (
            "Cervical intradural extramedullary tumor C5-6, likely meningioma, with cord compression.",
            [("BRAIN_TUMOR", "meningioma")],
            [],
        ),
        ("She has a right convexity meningioma and a history of breast cancer.", [], [("BRAIN_TUMOR", "meningioma")]),
        ("MRI shows a T2 hyperintense meningioma along the falx.", [], [("BRAIN_TUMOR", "meningioma")]),
        (
            "She had spinal fusion in 2010; now a parasagittal meningioma was found.",
            [],
            [("BRAIN_TUMOR", "meningioma")],
        ),
        # spine radiosurgery is no radiation to the brain
        (
            "Observation is not advised with myelopathy; radiosurgery is not appropriate with cord compression.",
            [("PRIOR_RADIATION", "radiosurgery")],
            [],
        ),
        ("Known vestibular schwannoma, treated with radiosurgery in 2019.", [], [("PRIOR_RADIATION", "radiosurgery")]),
        ("Lumbar laminectomy 2015. Brain metastasis treated with SRS to the brain.", [], [("PRIOR_RADIATION", "SRS")]),
        # a specialty among a tumour board's attendees, the organisms of a culture order
        (
            "Attendees: neurosurgery (Marsh), infectious disease (Castellanos).",
            [("INFECTION", "infectious disease")],
            [],
        ),
        ("Bronchoscopy with BAL; send nocardia, fungal, AFB cultures.", [("INFECTION", "nocardia")], []),
        (
            "The ring-enhancing lesion favors abscess, bacterial or fungal, e.g. nocardia.",
            [],
            [("INFECTION", "nocardia")],
        ),
    ],
)
def test_written_note_lookalikes(text, gone, kept):
    got = found(text)
    assert not set(gone) & got
    assert set(kept) <= got


@pytest.mark.parametrize(
    ("text", "gone", "kept"),
    [
        # a metastasis written 'met', growth of a named tumour, spread to the brain
        (
            "Enlarging treated R parietal met s/p SRS.",
            [],
            [("TUMOR_RECURRENCE", "Enlarging"), ("BRAIN_TUMOR", "parietal met")],
        ),
        ("He met with the surgeon on Monday.", [("BRAIN_TUMOR", "met")], []),
        (
            "Continued growth of the treated right parietal metastasis.",
            [],
            [("TUMOR_RECURRENCE", "growth"), ("BRAIN_TUMOR", "metastasis")],
        ),
        ("Growth of the liver lesion on CT.", [("TUMOR_RECURRENCE", "growth")], []),
        ("Growth hormone was normal.", [("TUMOR_RECURRENCE", "growth")], []),
        ('Her PCP wondered about "spread to the brain".', [], [("BRAIN_TUMOR", "spread to the brain")]),
        ("Her breast cancer has spread to the liver and bones.", [("BRAIN_TUMOR", "spread to the liver")], []),
        # the grading question with a comparative, a nodule of a named brain site
        (
            "Timing depends on whether this is a low grade or a higher grade tumor.",
            [],
            [("GLIOMA_GRADING", "low grade or a higher grade")],
        ),
        ("The cerebellar nodule is nonspecific.", [], [("BRAIN_LESION", "cerebellar nodule")]),
        ("A thyroid nodule was biopsied.", [("BRAIN_LESION", "thyroid nodule")], []),
        # a reoperation of a brain tumour, not of a hip
        (
            "If this proves to be recurrence of the glioblastoma, the options are reoperation or a trial.",
            [],
            [("PRIOR_SURGERY", "reoperation")],
        ),
        ("Hip reoperation for loosening in 2015.", [("PRIOR_SURGERY", "reoperation")], []),
        # chemoRT, growth after a word that makes it a tumour's, a tumour coming back
        ("GBM on concurrent chemoRT, tolerating well.", [], [("PRIOR_RADIATION", "chemoRT")]),
        ("Residual meningioma with possible early growth.", [], [("TUMOR_RECURRENCE", "growth")]),
        ("Early growth and development were normal.", [("TUMOR_RECURRENCE", "growth")], []),
        ("Father asks whether the tumor is coming back.", [], [("TUMOR_RECURRENCE", "coming back")]),
        ("Her cancer came back in the liver.", [("TUMOR_RECURRENCE", "came back")], []),
        # moulds and PTLD of the brain, not of the lung or the gut
        (
            "The parietal lesion favors abscess, bacterial or fungal, e.g. nocardia or aspergillus.",
            [],
            [("INFECTION", "aspergillus")],
        ),
        ("CT chest: right upper lobe aspergilloma.", [("INFECTION", "aspergilloma")], []),
        (
            "Differential remains post-transplant lymphoproliferative disorder / primary CNS lymphoma.",
            [],
            [("BRAIN_TUMOR", "post-transplant lymphoproliferative disorder")],
        ),
        ("PTLD of the small bowel was treated with rituximab.", [("BRAIN_TUMOR", "PTLD")], []),
        (
            "Stereotactic needle biopsy of the left breast showed carcinoma.",
            [("PRIOR_SURGERY", "Stereotactic needle biopsy")],
            [],
        ),
    ],
)
def test_written_note_coverage(text, gone, kept):
    got = found(text)
    assert not set(gone) & got
    assert set(kept) <= got


@pytest.mark.parametrize(
    ("text", "item", "status"),
    [
        # a clinic follow-up, an on-treatment visit and a SOAP note are office visits
        (
            "Pediatric Neuro-Oncology Clinic - Follow-up\nPatient: A. B., 9 y\n"
            "Visit: 03/09/2026\nHistory: doing well.\nPlan: MRI.\n",
            "office_visit_note",
            "present",
        ),
        (
            "RADIATION ONCOLOGY ON-TREATMENT VISIT\nDate: 03/10/2026\nS: fatigue.\nO: alert.\nA/P: continue.\n",
            "office_visit_note",
            "present",
        ),
        ("MRI BRAIN\nDate: 03/10/2026\nFINDINGS: no mass.\nIMPRESSION: normal.\n", "office_visit_note", "missing"),
        # a signature without the comma, or with an initial, names a clinician
        ("Plan: continue.\nProvider: Miriam Feldmann MD\n", "clinician", "present"),
        ("Plan: continue.\nM. Feldmann, MD\n", "clinician", "present"),
        ("Plan: continue.\nSigned electronically.\n", "clinician", "missing"),
    ],
)
def test_written_note_checklist(tmp_path, text, item, status):
    assert checklist(tmp_path, text)[item] == status
