"""Look-alikes of the concepts that make a review `experimental_investigational` (issue 11): a stroke, a
seizure, a neurodegenerative disease or a CNS infection the patient does not have. Each case is a sentence
as a real note writes it; `kept` says whether it is a mention of the concept, `flags` which ConText flags a
kept mention carries (labels/mtsamples/README.md conventions)."""

import pytest

from extractor.nlp.extract import extract
from extractor.schemas import FLAGS
from tests.helpers import find, mentioned

MENTIONS = [
    # "intracranial hemorrhage" is any bleed inside the skull (subdural, epidural, subarachnoid, traumatic):
    # unplaced, no stroke; an intracerebral haemorrhage and a hemorrhagic stroke are
    (
        "FINDINGS: There is no acute intracranial hemorrhage, mass effect, or midline shift.",
        "STROKE",
        "hemorrhage",
        False,
    ),
    (
        "Trauma - possibilities include any type of intracranial hemorrhage, subdural or epidural.",
        "STROKE",
        "hemorrhage",
        False,
    ),
    ("He has a history of massive intracranial hemorrhage and hydrocephalus.", "STROKE", "hemorrhage", False),
    ("CT showed a left putaminal intracerebral hemorrhage.", "STROKE", "hemorrhage", True),
    # placed in the brain tissue, an intracranial haemorrhage is an intracerebral one
    ("Right-sided craniotomy for evacuation of a right frontal intracranial hemorrhage.", "STROKE", "hemorrhage", True),
    ("POSTOP DIAGNOSIS:  Intracranial hemorrhage in the right frontal lobe.", "STROKE", "hemorrhage", True),
    ("She had a hemorrhagic stroke in 2019.", "STROKE", "stroke", True),
    # the spinal cord is not the brain: a cord infarction is no stroke, transverse myelitis no brain inflammation
    ("It was felt she had either a transverse myelitis vs. partial cord infarction.", "STROKE", "infarction", False),
    (
        "It was felt she had either a transverse myelitis vs. partial cord infarction.",
        "INFLAMMATORY",
        "myelitis",
        False,
    ),
    ("MRI brain showed an acute infarction in the left thalamus.", "STROKE", "infarction", True),
    # a thromboembolic event is a stroke where the sentences are about the brain
    (
        "MRI brain revealed increased T2 signal in the right frontal lobe white matter. This was felt to represent"
        " a thromboembolic event.",
        "STROKE",
        "thromboembolic",
        True,
    ),
    (
        "Doppler of the left leg was positive for a thromboembolic event in the femoral vein.",
        "STROKE",
        "thromboembolic",
        False,
    ),
    # a study's title names no disease of the patient
    ("He was entered into the TOAST study (Trial of ORG10172 in Acute Stroke Treatment).", "STROKE", "stroke", False),
    ("He was diagnosed with a probable lacunar stroke.", "STROKE", "stroke", True),
    # a drug class names no diagnosis
    (
        "He has not been treated with medications for Parkinson's disease or Alzheimer's disease.",
        "NEURODEGENERATIVE",
        "parkinson",
        False,
    ),
    (
        "He has not been treated with medications for Parkinson's disease or Alzheimer's disease.",
        "NEURODEGENERATIVE",
        "alzheimer",
        False,
    ),
    ("8.  Continue dementia medications.", "NEURODEGENERATIVE", "dementia", False),
    ("He has Parkinson's disease, treated with carbidopa-levodopa.", "NEURODEGENERATIVE", "parkinson", True),
    # leukemic or carcinomatous meningitis is cancer in the meninges, no infection
    ("PREOP DIAGNOSIS:  Leukemic meningitis.", "INFECTION", "meningitis", False),
    ("MRI is consistent with carcinomatous meningitis from her breast cancer.", "INFECTION", "meningitis", False),
    ("CSF culture grew pneumococcus: bacterial meningitis.", "INFECTION", "meningitis", True),
    ("Meningitis vaccine was given before college.", "INFECTION", "meningitis", False),
    # MS the specialty
    ("I gave her the names of two MS physicians in Dallas.", "INFLAMMATORY", "MS", False),
    ("She has relapsing-remitting MS.", "INFLAMMATORY", "MS", True),
    # psychogenic non-epileptic seizures are no epilepsy
    ("Video EEG captured psychogenic nonepileptic seizures.", "EPILEPSY", "seizure", False),
    ("This finding is consistent with pseudoseizures.", "EPILEPSY", "seizure", False),
    # a prevented seizure is a (hypothetical) mention
    ("8.  Seizure prophylaxis.  She will continue Keppra twice daily.", "EPILEPSY", "seizure", True),
]


@pytest.mark.parametrize(("text", "label", "word", "kept"), MENTIONS)
def test_lookalike_is_no_mention(text, label, word, kept):
    assert mentioned(extract(text).mentions, label, word) is kept


FLAGGED = [
    # the risk of a stroke, a consent's list of complications, a prevented seizure: hypothetical
    ("She is concerned about possible coronary disease or stroke risk.", "STROKE", "stroke", {"hypothetical"}),
    (
        "We have discussed bleeding, infection, injury to the rectum, injury to vessels and nerves, deep vein"
        " thrombosis, pulmonary embolus, MI, stroke, and death.",
        "STROKE",
        "stroke",
        {"hypothetical"},
    ),
    ("8.  Seizure prophylaxis.  She will continue Keppra twice daily.", "EPILEPSY", "seizure", {"hypothetical"}),
    ("The patient is on Keppra for seizure prevention after craniotomy.", "EPILEPSY", "seizure", {"hypothetical"}),
    ("He was discharged on Aggrenox for secondary stroke prevention.", "STROKE", "stroke", {"hypothetical"}),
    ("Seizures can occur with this medication.", "EPILEPSY", "seizure", {"hypothetical"}),
    # a consequence warned of ("can result in", "may result in") is no event; one that happened is
    ("Untreated pre-eclampsia can result in a stroke.", "STROKE", "stroke", {"hypothetical"}),
    ("Stopping them in hospital may simply result in severe seizures.", "EPILEPSY", "seizure", {"hypothetical"}),
    ("The fall resulted in a stroke.", "STROKE", "stroke", set()),
    # resembling an event is no diagnosis of it
    ("She presented with stroke-like symptoms.", "STROKE", "stroke", {"uncertain"}),
    ("ASSESSMENT:  A 10-day-old neonate with seizure-like activity.", "EPILEPSY", "seizure", {"uncertain"}),
    # the symptoms resolved, the stroke happened
    ("The stroke symptoms/signs resolved.", "STROKE", "stroke", set()),
    # a relative's stroke under a family heading that is not "FAMILY HISTORY:"
    (
        "FAMILY BACKGROUND:  On the mother's side of the family, the maternal grandfather died in his 60s of"
        " heart disease, and the maternal grandmother died in 2003 due to stroke.",
        "STROKE",
        "stroke",
        {"family"},
    ),
    ("FAMILY MEDICAL HISTORY:  Hypertension, diabetes mellitus and stroke.", "STROKE", "stroke", {"family"}),
]


@pytest.mark.parametrize(("text", "label", "word", "expected"), FLAGGED)
def test_lookalike_flags(text, label, word, expected):
    m = find(extract(text).mentions, label, word)
    assert {f for f in FLAGS if getattr(m, f)} >= expected
    if not expected:
        assert not m.negated
