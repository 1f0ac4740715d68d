"""Cues inside the entity (context_inner_cues): ConText alone skips a cue that overlaps its entity."""

import pytest

from extractor.evaluate import kit_predictions
from extractor.nlp.extract import extract
from tests.helpers import find


def flags(nlp, sentence: str, condition: str) -> dict:
    (pred,) = kit_predictions(nlp, [{"sentence": sentence, "condition": condition}], ("medspacy_target_matcher",))
    assert pred is not None
    return pred


def historical(nlp, sentence: str, condition: str) -> bool:
    return flags(nlp, sentence, condition)["historical"]


@pytest.mark.parametrize(
    ("sentence", "condition", "expected"),
    [
        # a forward cue followed by the rest of the entity
        ("He has coronary artery disease, STATUS POST CABG.", "status post CABG", True),
        ("Seen in clinic, S/P CRANIOTOMY.", "s/p craniotomy", True),
        # a backward cue preceded by the rest of the entity
        ("PSYCHIATRIC HISTORY.", "psychiatric history", True),
        # the cue alone is the entity: nothing of it is left to modify
        ("Status post.", "status post", False),
        # a cue limited to other types ("underwent" is for procedures and studies) stays limited
        ("UNDERWENT SURGERY for a fracture.", "underwent surgery", False),
        # no cue at all
        ("Coronary artery disease.", "coronary artery disease", False),
    ],
)
def test_a_cue_inside_the_entity_applies_in_its_direction(nlp, sentence, condition, expected):
    assert historical(nlp, sentence, condition) is expected


def test_a_cue_before_the_entity_still_works_as_in_context(nlp):
    assert historical(nlp, "Status post CABG in 2010.", "CABG")


@pytest.mark.parametrize(
    ("sentence", "condition", "negated"),
    [
        # a cue strictly inside modifies what it points at, not the words the entity starts with
        ("DISC BULGE IS SEEN WITHOUT CANAL COMPROMISE.", "disc bulge is seen without canal compromise", False),
        ("The ORAL MUCOSA IS MOIST WITH NO ERYTHEMA.", "oral mucosa is moist with no erythema", False),
        # outside the entity, cues work as before in both directions
        ("There is no evidence of DISC BULGE.", "disc bulge", True),
        ("DISC BULGE is ruled out.", "disc bulge", True),
    ],
)
def test_a_cue_inside_the_entity_does_not_reach_back_to_its_first_words(nlp, sentence, condition, negated):
    assert flags(nlp, sentence, condition)["negated"] is negated


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("Perfusion imaging could not be performed because of motion.", "could not be performed"),
        ("PET cannot be performed at this site.", "cannot be performed"),
    ],
)
def test_a_documentation_phrase_is_not_negated_by_its_own_words(text, phrase):
    assert not find(extract(text).mentions, "DOC_ALT_REASON", phrase).negated
