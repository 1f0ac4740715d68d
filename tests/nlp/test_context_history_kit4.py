"""More classes of temporal language: what began before this encounter is historical, what the encounter found is not.

Issue 11 (NegEx/ConText kit, historical). ConText rules in models/context_rules.json, each class with both sides:
a history that "is significant for" what follows it (the backward 'X history is' cue used to take those words),
past episodes "on several occasions", an onset "in childhood", a past decade "in the 1980s" (not a blood pressure
"in the 90s"), a condition "which was diagnosed 3 years ago" (the 'which' that ends most scopes opens the dating
clause), a condition "3 weeks ago" (ConText: more than two weeks before), a condition the patient "is followed for",
the spellings "status-post" and "formerly" (not "mental status"), and a history that ends where the note says what
the encounter found ("was found to have", "and then developed": a cue of its own category, CURRENT_EVENT, that
ends a history's scope and nothing else). A current brain lesion or tumour stays current (SPEC: historical decides
a current BRAIN_LESION)."""

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
        # a history 'is significant for' the list that follows it
        ("Her medical history is significant for ASTHMA and diabetes.", "asthma", {"historical"}),
        ("His history is notable for GOUT.", "gout", {"historical"}),
        ("Her history was positive for KIDNEY STONES.", "kidney stones", {"historical"}),
        # ... up to where the note turns to this visit; a family history is the relative's
        ("Her history is significant for asthma; today she has a COUGH.", "cough", set()),
        ("His history is notable for gout and he presents with KNEE PAIN.", "knee pain", set()),
        ("Family history is positive for a cousin who has SEIZURES.", "seizures", {"family"}),
        # past episodes on several occasions
        ("She has had PNEUMONIA on several occasions.", "pneumonia", {"historical"}),
        ("He has had KIDNEY STONES on multiple occasions.", "kidney stones", {"historical"}),
        # ... but not several times today
        ("He has had VOMITING on several occasions today.", "vomiting", set()),
        # an onset in childhood
        ("He had POLIO in childhood.", "polio", {"historical"}),
        ("She had childhood ASTHMA.", "asthma", {"historical"}),
        # ... an age of life is no past ('a woman in her 40s'), nor a child's care now
        ("A woman in her 40s with CHEST PAIN.", "chest pain", set()),
        ("Childhood vaccinations are up to date, and she has a FEVER.", "fever", set()),
        # a past decade
        ("She had a HYSTERECTOMY in the 1980s.", "hysterectomy", {"historical"}),
        ("He had HEPATITIS in the early 1990s.", "hepatitis", {"historical"}),
        # ... a blood pressure 'in the 90s' is none
        ("She was HYPOTENSIVE with systolic pressures in the 90s.", "hypotensive", set()),
        # a condition 'which was diagnosed' years ago
        ("HYPERTENSION, which was diagnosed 3 years ago.", "hypertension", {"historical"}),
        ("Thyroid CANCER, which was treated in 2004.", "cancer", {"historical"}),
        # ... a treatment with no date is this encounter's
        ("She has a COUGH, which was treated with antibiotics.", "cough", set()),
        # more than two weeks ago (ConText's historical); days or two weeks ago is recent
        ("She had PNEUMONIA 3 weeks ago.", "pneumonia", {"historical"}),
        ("He was treated for a DVT six weeks ago.", "dvt", {"historical"}),
        ("He had a FEVER 10 days ago.", "fever", set()),
        ("She had a FEVER 2 weeks ago.", "fever", set()),
        # a condition under follow-up
        ("He has been followed by Dr. Smith for his DIABETES.", "diabetes", {"historical"}),
        ("She is followed in clinic for HYPERTENSION.", "hypertension", {"historical"}),
        # ... 'was followed by' is a sequence of this illness
        ("The cough was followed by a FEVER.", "fever", set()),
        # spellings of status post and former
        ("Status-post APPENDECTOMY.", "appendectomy", {"historical"}),
        ("Formerly a SMOKER.", "smoker", {"historical"}),
        # ... a mental status is no status post
        ("His mental status has worsened with new CONFUSION.", "confusion", set()),
        # what the encounter found ends a history
        ("She has a history of diabetes and was found to have a UTI.", "uti", set()),
        ("History of CHF and then developed a FEVER.", "fever", set()),
        ("Status post appendectomy, was found to have a HERNIA.", "hernia", set()),
        # ... the history itself stays past, and a relative's finding stays the relative's
        ("She has a history of DIABETES and was found to have a UTI.", "diabetes", {"historical"}),
        ("Her mother was found to have BREAST CANCER.", "breast cancer", {"family"}),
    ],
)
def test_a_past_condition_is_historical_and_the_encounters_finding_is_not(nlp, sentence, words, expected):
    assert condition(nlp, sentence, words) == expected


@pytest.mark.parametrize(
    ("text", "label", "word", "expected"),
    [
        # a history 'is significant for' is history for the product's concepts too
        ("Her medical history is significant for a prior stroke.", "STROKE", None, {"historical"}),
        ("His history is notable for a right frontal craniotomy.", "PRIOR_SURGERY", None, {"historical"}),
        # ... a family history stays the relative's
        ("Family history is positive for a 3rd cousin, who has seizures.", "EPILEPSY", None, {"family"}),
        # a current brain finding stays current (SPEC: historical decides a current BRAIN_LESION)
        ("A left frontal lesion, which was first noted 2 years ago, is now enlarging.", "BRAIN_LESION", None, set()),
        ("MRI 3 weeks ago showed a new enhancing lesion.", "BRAIN_LESION", None, set()),
        ("She is followed by neuro-oncology for a left frontal lesion.", "BRAIN_LESION", None, set()),
        (
            "History of glioblastoma, status post resection, and was found to have a new enhancing lesion.",
            "BRAIN_LESION",
            None,
            set(),
        ),
    ],
)
def test_the_product_concepts_keep_their_conventions(text, label, word, expected):
    assert flags(text, label, word) == expected
