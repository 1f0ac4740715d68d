"""How `extractor evaluate` reads a NegEx/ConText kit row (no kit needed: the rows are written here)."""

from extractor.evaluate import kit_predictions

SKIP = ("medspacy_target_matcher",)


def predict(nlp, sentence: str, condition: str, collapse: bool = True) -> dict:
    (pred,) = kit_predictions(nlp, [{"sentence": sentence, "condition": condition}], SKIP, collapse)
    assert pred is not None
    return pred


def test_the_capitalised_mention_is_the_condition(nlp):
    """The kit writes the annotated mention in capitals; a heading with the same word comes first."""
    sentence = "Schizophrenia: The patient has a long history of SCHIZOPHRENIA."
    assert predict(nlp, sentence, "schizophrenia")["historical"]


def test_the_sentence_is_read_with_space_runs_collapsed_as_extract_reads_a_note(nlp):
    sentence = "Female with history of sickle cell disease, coming in   with her typical SICKLE CELL CRISIS."
    assert not predict(nlp, sentence, "sickle cell crisis")["historical"]
    assert predict(nlp, sentence, "sickle cell crisis", collapse=False)["historical"]


def test_a_condition_not_in_the_sentence_is_no_prediction(nlp):
    rows = [{"sentence": "No acute distress.", "condition": "pneumonia"}]
    assert kit_predictions(nlp, rows, SKIP) == [None]
