"""Cues inside the entity (context_inner_cues): ConText alone skips a cue that overlaps its entity."""

import pytest

from extractor.evaluate import kit_predictions


def historical(nlp, sentence: str, condition: str) -> bool:
    (pred,) = kit_predictions(nlp, [{"sentence": sentence, "condition": condition}], ("medspacy_target_matcher",))
    assert pred is not None
    return pred["historical"]


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
