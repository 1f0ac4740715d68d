"""Past events told as narrative are historical; what the patient has now stays current. Issue 11.

Classes of ConText rules in models/context_rules.json, each with both sides: repeated past admissions
("admitted frequently for", "multiple admissions for"), a list of standing medical problems ("multiple
medical problems including", "comorbidities include"), what a past study showed ("a DEXA scan in the past,
which showed"), a dated narrative clause that opens a sentence ("In May 2019 she was treated for"), "PMH",
"last year", an onset "since age 5" or "as a young man", a habit the patient "used to" have, a complaint "for
several months", "ex-smoker"; and a history ends where the note turns to why the patient is here ("admitted
with", "brought in", ", complains of"). The SPEC uses historical to decide a current BRAIN_LESION, so the
problem-list and admission cues leave the brain lesion and tumour findings to their own rules."""

import pytest

from extractor.evaluate import kit_predictions
from tests.helpers import flags


def condition(nlp, sentence: str, words: str) -> set[str]:
    """The flags of `words` as the only entity (a plain condition, as the NegEx/ConText kit marks one)."""
    (pred,) = kit_predictions(nlp, [{"sentence": sentence, "condition": words}], ("medspacy_target_matcher",), True)
    assert pred is not None
    return {k for k, v in pred.items() if v}


@pytest.mark.parametrize(
    ("sentence", "words", "expected"),
    [
        # repeated past admissions: what they were for began before this visit
        ("He is admitted quite frequently for ABDOMINAL PAIN and bowel distention.", "abdominal pain", {"historical"}),
        ("He is admitted quite often for abdominal pain and BOWEL DISTENTION.", "bowel distention", {"historical"}),
        ("She has had multiple admissions for PANCREATITIS.", "pancreatitis", {"historical"}),
        ("Frequent hospitalizations for COPD EXACERBATIONS.", "copd exacerbations", {"historical"}),
        ("He has been hospitalized several times for HEART FAILURE.", "heart failure", {"historical"}),
        # ... but this admission, or one planned, is now
        ("He was admitted for PNEUMONIA.", "pneumonia", set()),
        ("She will be admitted for CHEST PAIN.", "chest pain", set()),
        ("Multiple admissions for pancreatitis, now presents with FEVER.", "fever", set()),
        ("Complex history with multiple admissions who was admitted today for LETHARGY.", "lethargy", set()),
        # a list of standing medical problems
        ("She has multiple medical problems including COPD and diabetes.", "copd", {"historical"}),
        ("She has multiple medical problems including COPD and DIABETES.", "diabetes", {"historical"}),
        ("His comorbidities include OBESITY and sleep apnea.", "obesity", {"historical"}),
        ("Other medical problems include GOUT.", "gout", {"historical"}),
        # ... but not the complaint the list leads up to, nor a list of symptoms
        ("Multiple medical problems including diabetes, who presents with CHEST PAIN.", "chest pain", set()),
        ("He is developing URI symptoms including COUGH.", "cough", set()),
        # what a past study showed
        ("She has had a DEXA scan in the past, which showed her to be OSTEOPOROTIC.", "osteoporotic", {"historical"}),
        ("He had a colonoscopy years ago that revealed POLYPS.", "polyps", {"historical"}),
        # ... a study of this visit shows what is there now
        ("A CT of the head was done today which showed a SUBDURAL HEMATOMA.", "subdural hematoma", set()),
        ("An abdominal CT, which showed ACUTE PANCREATITIS, was obtained.", "acute pancreatitis", set()),
        ("He had pneumonia in the past and now presents with FEVER.", "fever", set()),
        # a dated clause that opens the sentence reaches its clause
        ("In May 2019 she was treated for PNEUMONIA.", "pneumonia", {"historical"}),
        ("In 2016, after a fall, she had a HIP FRACTURE.", "hip fracture", {"historical"}),
        # ... not past a clause that says now
        ("In May 2019 she had pneumonia and now presents with a COUGH.", "cough", set()),
        ("In 2016 she had a hip fracture; today she reports KNEE PAIN.", "knee pain", set()),
        # 'PMH' is the past medical history, as 'history' is
        ("PMH significant for CAD and DIABETES.", "diabetes", {"historical"}),
        ("PMH significant for diabetes, presents with CHEST PAIN.", "chest pain", set()),
        # a general condition 'last year' is a past one (the product's concepts keep their own list)
        ("He was treated for PNEUMONIA last year.", "pneumonia", {"historical"}),
        ("She had pneumonia last year and now has a COUGH.", "cough", set()),
        # an onset 'since age 5', 'as a young man'
        ("He has had ASTHMA since age 5.", "asthma", {"historical"}),
        ("He has had asthma since age 5 and today has a COUGH.", "cough", set()),
        ("He had KIDNEY STONES as a young man.", "kidney stones", {"historical"}),
        ("He is a young man with a COUGH.", "cough", set()),
        # a habit the patient 'used to' have; a drug 'used to treat' a condition treats it now
        ("He used to drink ALCOHOL heavily.", "alcohol", {"historical"}),
        ("She used to smoke but now has a COUGH.", "cough", set()),
        ("This inhaler is used to treat his ASTHMA.", "asthma", set()),
        # a complaint for months began before the visit (ConText: more than two weeks); for days or a week it is now
        ("She has had intermittent CHEST PAIN for several months.", "chest pain", {"historical"}),
        ("He has had NAUSEA for the past month.", "nausea", {"historical"}),
        ("He has had NAUSEA for the past week.", "nausea", set()),
        ("She has had a COUGH for 3 days.", "cough", set()),
        # ex-: a past habit ('healed' is no cue: the kit's dev 671 "No residua of HEALED FRACTURES" is current)
        ("He is an ex-SMOKER.", "smoker", {"historical"}),
        ("He is an active SMOKER.", "smoker", set()),
        # a history ends where the note turns to why the patient is here
        ("History of CHF, admitted with PNEUMONIA.", "pneumonia", set()),
        ("History of CHF, admitted with pneumonia.", "chf", {"historical"}),
        ("Status post appendectomy, admitted for ABDOMINAL PAIN.", "abdominal pain", set()),
        ("History of asthma and is here with WHEEZING.", "wheezing", set()),
        ("History of diabetes, complains of CHEST PAIN.", "chest pain", set()),
        ("History of diabetes, reports CHEST PAIN.", "chest pain", set()),
        ("He has a history of alcohol abuse and was brought in INTOXICATED.", "intoxicated", set()),
        ("A 60-year-old with a history of CAD, sent from clinic for HYPOTENSION.", "hypotension", set()),
        ("He was previously well until 3 days ago when he developed COUGH.", "cough", set()),
        ("History of asthma with an acute EXACERBATION.", "exacerbation", set()),
        # ... and a return precaution stays hypothetical, a past diagnosis stays past
        ("Return if he complains of CHEST PAIN.", "chest pain", {"hypothetical"}),
        ("Previously healthy woman with FEVER.", "fever", set()),
        ("She was previously diagnosed with ASTHMA.", "asthma", {"historical"}),
    ],
)
def test_a_past_event_is_historical_and_a_current_one_is_not(nlp, sentence, words, expected):
    assert condition(nlp, sentence, words) == expected


@pytest.mark.parametrize(
    ("text", "label", "word", "expected"),
    [
        # the product's concepts: a past admission, problem list or dated clause is history ...
        ("She has had multiple admissions for seizures.", "EPILEPSY", None, {"historical"}),
        ("His comorbidities include a prior stroke and diabetes.", "STROKE", None, {"historical"}),
        ("In May 2019 she underwent a right frontal craniotomy.", "PRIOR_SURGERY", None, {"historical"}),
        # ... a current brain finding stays current (SPEC: historical decides a current BRAIN_LESION)
        ("Multiple medical problems including a left frontal glioblastoma.", "BRAIN_TUMOR", None, set()),
        ("Multiple admissions for seizures; MRI today shows a new enhancing lesion.", "BRAIN_LESION", None, set()),
        ("In May 2019 she had a craniotomy and now has a new enhancing mass.", "BRAIN_LESION", None, set()),
    ],
)
def test_the_product_concepts_keep_their_conventions(text, label, word, expected):
    assert flags(text, label, word) == expected
