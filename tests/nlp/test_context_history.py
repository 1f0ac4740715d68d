"""What began before this encounter is historical (ConText's sense), but a current brain finding stays current.

Two sides of the same rules in models/context_rules.json: a condition of any other kind ("known seizure
disorder", "chronic renal insufficiency") is historical, while the SPEC's current BRAIN_LESION and its tumour
findings are not made historical by "unchanged", "known" or "persistent".
"""

import pytest

from extractor.evaluate import kit_predictions
from tests.helpers import flags


def condition(nlp, sentence: str, words: str) -> dict:
    """The flags of `words` as the only entity (a plain condition, as the NegEx/ConText kit marks one)."""
    (pred,) = kit_predictions(nlp, [{"sentence": sentence, "condition": words}], ("medspacy_target_matcher",), True)
    assert pred is not None
    return {k for k, v in pred.items() if v}


@pytest.mark.parametrize(
    ("sentence", "words", "expected"),
    [
        # chronicity and pre-existence words
        ("She has chronic renal insufficiency and presents with dyspnea.", "renal insufficiency", {"historical"}),
        ("Labs again show a CHRONICALLY ELEVATED WHITE COUNT.", "chronically elevated white count", {"historical"}),
        ("His long-standing hypertension is controlled.", "hypertension", {"historical"}),
        ("She has lifelong ASTHMA.", "asthma", {"historical"}),
        ("Given the patient's known atrial fibrillation, warfarin was held.", "atrial fibrillation", {"historical"}),
        ("PERSISTENT ANEMIA on this admission.", "persistent anemia", {"historical"}),
        # 'chronic' in a disease's own name says nothing about when it began
        ("CHRONIC OBSTRUCTIVE PULMONARY DISEASE exacerbation.", "chronic obstructive pulmonary disease", set()),
        ("Findings favour CHRONIC LYMPHOCYTIC LEUKEMIA.", "chronic lymphocytic leukemia", set()),
        # a cue strictly inside the mention points at neither of its edges
        ("THE KNEE PROSTHESIS IS UNCHANGED IN POSITION.", "the knee prosthesis is unchanged in position", set()),
        # a complaint is what the patient has now
        ("She has persistent complaints of DIZZINESS.", "dizziness", set()),
        # a denied history is negated and historical
        ("He has no history of known CONGESTIVE HEART FAILURE.", "congestive heart failure", {"negated", "historical"}),
        ("No prior history of DIABETES.", "diabetes", {"negated", "historical"}),
        # the conditions a patient is introduced with exist before the visit; what he presents with does not
        ("A 70-year-old man with GOUT who presents with chest pain.", "gout", {"historical"}),
        ("A 70-year-old man with gout who presents with CHEST PAIN.", "chest pain", set()),
        ("A 70-year-old man with CHEST PAIN since this morning.", "chest pain", set()),
        ("Mr. Doe is a 58 y/o man with ASTHMA, who is seen for cough.", "asthma", {"historical"}),
        # listed risk factors are existing conditions
        ("Her risk factors include HYPERLIPIDEMIA and smoking.", "hyperlipidemia", {"historical"}),
        # an onset at an age, since childhood or for years
        ("She was diagnosed with ASTHMA at age 12.", "asthma", {"historical"}),
        ("He has had MIGRAINES since childhood.", "migraines", {"historical"}),
        ("Diabetic for many years, on insulin.", "diabetic", {"historical"}),
        # habits are social history, denied or not
        ("Denies TOBACCO or alcohol.", "tobacco", {"negated", "historical"}),
        ("Denies tobacco or ALCOHOL.", "alcohol", {"negated", "historical"}),
        ("She denied any ILLICIT DRUG USE.", "illicit drug use", {"negated", "historical"}),
        ("No TOBACCO, alcohol or illicit drug use.", "tobacco", {"negated", "historical"}),
        ("He denies use of ALCOHOL.", "alcohol", {"negated", "historical"}),
        ("Denies TOBACCO.", "tobacco", {"negated", "historical"}),
        ("Denies CHEST PAIN or alcohol.", "chest pain", {"negated"}),
        # what alcohol does now is no habit
        ("No ALCOHOL WITHDRAWAL symptoms overnight.", "alcohol withdrawal", {"negated"}),
    ],
)
def test_a_condition_that_began_before_the_visit_is_historical(nlp, sentence, words, expected):
    assert condition(nlp, sentence, words) == expected


@pytest.mark.parametrize(
    ("text", "label", "word", "expected"),
    [
        # a stable or persisting brain finding is the current lesion the guideline asks about (SPEC)
        ("Unchanged enhancing mass in the left frontal lobe.", "BRAIN_LESION", None, set()),
        ("There is a stable known mass in the right temporal lobe.", "BRAIN_LESION", None, set()),
        ("Persistent enhancing lesion along the resection cavity.", "BRAIN_LESION", None, set()),
        ("Known left frontal glioblastoma, followed with MRI.", "BRAIN_TUMOR", None, set()),
        # a chronic infarct seen on today's imaging is a current finding (sample c02)
        ("Chronic lacunar infarct in the left pons, unchanged.", "STROKE", None, set()),
        # other conditions that began before the visit are historical
        ("He has a known seizure disorder.", "EPILEPSY", None, {"historical"}),
        ("Long-standing Parkinson disease, on levodopa.", "NEURODEGENERATIVE", None, {"historical"}),
        # the product's concepts keep the samples' convention for a denied history: negated only
        ("No history of stroke or seizures.", "STROKE", None, {"negated"}),
        # a relative's condition is family, not historical, whatever his age at onset (sample c03)
        ("Brother with epilepsy since childhood.", "EPILEPSY", None, {"family"}),
        # the condition a consult is about is current
        ("A 45-year-old woman with seizures who presents for MR spectroscopy.", "EPILEPSY", None, set()),
    ],
)
def test_a_current_brain_finding_stays_current(text, label, word, expected):
    assert flags(text, label, word) == expected
