"""The SPEC's indication and recommendation rules, one finding at a time."""

from datetime import date

import pytest

from extractor import knowledge
from extractor.guideline.indications import evaluate_indications, recommend
from extractor.guideline.request import parse_date
from extractor.schemas import Finding

G = knowledge.guideline_for(date(2026, 3, 1))


def f(concept, **flags):
    return Finding(
        concept=concept, text=concept.lower(), document="note.txt", page=1, start=0, end=1, sentence="", **flags
    )


def statuses(findings):
    results = evaluate_indications(G, findings)
    return {r.id: r.status for r in results}, recommend(G, results), results


def test_all_six_indications_always_reported():
    got, rec, _ = statuses([])
    assert list(got) == [
        "recurrence_vs_treatment_effect",
        "tumor_vs_nontumor",
        "glioma_grading",
        "epilepsy",
        "neurodegenerative",
        "stroke",
    ]
    assert set(got.values()) == {"not_found"}
    assert rec == "needs_clinical_review"


def test_recurrence_supported_with_historical_treatment_and_uncertain_question():
    got, rec, results = statuses(
        [f("BRAIN_TUMOR"), f("PRIOR_RADIATION", historical=True), f("TUMOR_RECURRENCE", uncertain=True)]
    )
    assert got["recurrence_vs_treatment_effect"] == "supported"
    assert rec == "likely_meets_criteria"
    assert 0 < results[0].score < 1


def test_recurrence_question_may_be_hypothetical_but_not_negated():
    base = [f("BRAIN_TUMOR"), f("PRIOR_SURGERY")]
    assert (
        statuses([*base, f("TREATMENT_EFFECT", hypothetical=True)])[0]["recurrence_vs_treatment_effect"] == "supported"
    )
    assert statuses([*base, f("TUMOR_RECURRENCE", negated=True)])[0]["recurrence_vs_treatment_effect"] == "partial"


def test_current_lesion_stands_for_the_recurrence_question_only_when_current():
    base = [f("BRAIN_TUMOR"), f("PRIOR_SURGERY")]
    assert statuses([*base, f("BRAIN_LESION")])[0]["recurrence_vs_treatment_effect"] == "supported"
    assert statuses([*base, f("BRAIN_LESION", historical=True)])[0]["recurrence_vs_treatment_effect"] == "partial"


def test_planned_surgery_is_no_prior_treatment():
    got, _, results = statuses([f("BRAIN_TUMOR"), f("PRIOR_SURGERY", hypothetical=True), f("BRAIN_LESION")])
    assert got["recurrence_vs_treatment_effect"] == "partial"
    assert results[0].missing == ["prior radiation or surgery for the tumor"]


def test_family_tumor_does_not_count():
    got, _, _ = statuses([f("BRAIN_TUMOR", family=True), f("PRIOR_RADIATION"), f("TREATMENT_EFFECT")])
    assert got["recurrence_vs_treatment_effect"] == "partial"


def test_tumor_vs_nontumor_supported_by_uncertain_differential():
    got, rec, _ = statuses([f("BRAIN_LESION"), f("BRAIN_TUMOR", uncertain=True), f("ABSCESS", uncertain=True)])
    assert got["tumor_vs_nontumor"] == "supported"
    assert rec == "likely_meets_criteria"


def test_tumor_vs_nontumor_partial_needs_the_lesion():
    assert statuses([f("BRAIN_LESION"), f("INFECTION")])[0]["tumor_vs_nontumor"] == "partial"
    assert statuses([f("BRAIN_TUMOR"), f("INFLAMMATORY")])[0]["tumor_vs_nontumor"] == "not_found"
    assert (
        statuses([f("BRAIN_LESION"), f("BRAIN_TUMOR"), f("ABSCESS", negated=True)])[0]["tumor_vs_nontumor"] == "partial"
    )


@pytest.mark.parametrize(
    "concept,ind",
    [
        ("GLIOMA_GRADING", "glioma_grading"),
        ("EPILEPSY", "epilepsy"),
        ("NEURODEGENERATIVE", "neurodegenerative"),
        ("STROKE", "stroke"),
    ],
)
def test_experimental_present_unless_negated_family_or_hypothetical(concept, ind):
    got, rec, _ = statuses([f(concept)])
    assert got[ind] == "present" and rec == "experimental_investigational"
    for flag in ("negated", "family", "hypothetical"):
        got, rec, _ = statuses([f(concept, **{flag: True})])
        assert got[ind] == "not_found" and rec == "needs_clinical_review"
    assert statuses([f(concept, historical=True)])[0][ind] == "present"


def test_covered_supported_wins_over_experimental():
    _, rec, _ = statuses([f("EPILEPSY"), f("BRAIN_LESION"), f("BRAIN_TUMOR"), f("INFECTION")])
    assert rec == "likely_meets_criteria"


@pytest.mark.parametrize(
    "text,expected",
    [
        ("04/09/1961", date(1961, 4, 9)),
        ("1961-04-09", date(1961, 4, 9)),
        ("March 3, 2026", date(2026, 3, 3)),
        ("02/30/2020", None),
    ],
)
def test_parse_date(text, expected):
    assert parse_date(text) == expected
