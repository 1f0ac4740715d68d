"""The guideline model's rules checked case by case against SPEC, generated from the model data.

The cases are generated from the loaded model (every version, indication, criterion, concept, and each of
the five flags or none), but the expected answer is SPEC's table below, written independently of models/:
a one-flag change to an exclude list in models/guidelines makes at least one generated case fail, and a
criterion or concept the table does not know fails too.
"""

from __future__ import annotations

import json

import pytest

from extractor import knowledge
from extractor.guideline.indications import evaluate_indications, qualifies, recommend
from extractor.nlp.extract import extract
from extractor.schemas import FLAGS, Finding
from tests.helpers import prefilled, sample_case_names

NEG, HIST, HYP, FAM = "negated", "historical", "hypothetical", "family"
# SPEC.md "Indications": (indication, criterion, concept) -> the flags that stop a finding from counting.
SPEC_EXCLUDES: dict[tuple[str, str, str], set[str]] = {
    ("recurrence_vs_treatment_effect", "brain_tumor", "BRAIN_TUMOR"): {NEG, FAM, HYP},
    ("recurrence_vs_treatment_effect", "prior_treatment", "PRIOR_RADIATION"): {NEG, FAM, HYP},
    ("recurrence_vs_treatment_effect", "prior_treatment", "PRIOR_SURGERY"): {NEG, FAM, HYP},
    ("recurrence_vs_treatment_effect", "recurrence_question", "TUMOR_RECURRENCE"): {NEG, FAM},
    ("recurrence_vs_treatment_effect", "recurrence_question", "TREATMENT_EFFECT"): {NEG, FAM},
    ("recurrence_vs_treatment_effect", "recurrence_question", "BRAIN_LESION"): {NEG, HIST, FAM, HYP},
    ("tumor_vs_nontumor", "current_lesion", "BRAIN_LESION"): {NEG, HIST, FAM, HYP},
    ("tumor_vs_nontumor", "tumor_differential", "BRAIN_TUMOR"): {NEG, FAM},
    ("tumor_vs_nontumor", "nontumor_differential", "ABSCESS"): {NEG, FAM},
    ("tumor_vs_nontumor", "nontumor_differential", "INFECTION"): {NEG, FAM},
    ("tumor_vs_nontumor", "nontumor_differential", "INFLAMMATORY"): {NEG, FAM},
    ("glioma_grading", "grading_request", "GLIOMA_GRADING"): {NEG, FAM, HYP},
    ("epilepsy", "epilepsy", "EPILEPSY"): {NEG, FAM, HYP},
    ("neurodegenerative", "neurodegenerative", "NEURODEGENERATIVE"): {NEG, FAM, HYP},
    ("stroke", "stroke", "STROKE"): {NEG, FAM, HYP},
}
# SPEC: covered indications, which sets of met criteria give supported / partial (else not_found).
SPEC_COVERED_CRITERIA = {
    "recurrence_vs_treatment_effect": ("brain_tumor", "prior_treatment", "recurrence_question"),
    "tumor_vs_nontumor": ("current_lesion", "tumor_differential", "nontumor_differential"),
}


def spec_covered_status(indication: str, met: set[str]) -> str:
    if len(met) == 3:
        return "supported"
    if indication == "recurrence_vs_treatment_effect" and len(met) == 2:
        return "partial"
    if indication == "tumor_vs_nontumor" and len(met) == 2 and "current_lesion" in met:
        return "partial"
    return "not_found"


def finding(concept: str, *flags: str) -> Finding:
    return Finding(
        concept=concept,
        text=concept.lower(),
        document="note.txt",
        page=1,
        start=0,
        end=1,
        sentence="",
        **dict.fromkeys(flags, True),
    )


def _model_cases() -> list:
    cases = []
    for g in knowledge.guidelines():
        for ind in g.indications:
            for crit in ind.criteria:
                concepts = sorted({c for check in crit.any_of for c in check.concepts})
                for concept in concepts:
                    for flag in (None, *FLAGS):
                        cases.append(
                            pytest.param(
                                g.version, ind.id, crit.id, concept, flag, id=f"{g.version}-{crit.id}-{concept}-{flag}"
                            )
                        )
    return cases


def _guideline(version: str) -> knowledge.Guideline:
    return next(g for g in knowledge.guidelines() if g.version == version)


def test_every_model_criterion_is_in_the_spec_table():
    for g in knowledge.guidelines():
        keys = {
            (ind.id, crit.id, concept)
            for ind in g.indications
            for crit in ind.criteria
            for check in crit.any_of
            for concept in check.concepts
        }
        assert keys == set(SPEC_EXCLUDES), g.version


@pytest.mark.parametrize(("version", "indication", "criterion", "concept", "flag"), _model_cases())
def test_one_flag_decides_whether_a_finding_meets_a_criterion(version, indication, criterion, concept, flag):
    g = _guideline(version)
    ind = next(i for i in g.indications if i.id == indication)
    crit = next(c for c in ind.criteria if c.id == criterion)
    f = finding(concept, *([flag] if flag else []))
    want = flag not in SPEC_EXCLUDES[(indication, criterion, concept)]
    assert any(qualifies(f, check) for check in crit.any_of) is want
    if ind.not_in_version:
        return  # reported not_found whatever the findings (checked below)
    result = next(r for r in evaluate_indications(g, [f]) if r.id == indication)
    assert next(c for c in result.criteria if c.id == criterion).met is want
    if ind.kind == "experimental":
        assert result.status == ("present" if want else "not_found")
        rec = recommend(g, evaluate_indications(g, [f]))
        assert rec == ("experimental_investigational" if want else "needs_clinical_review")


def _meeting(indication: str, criterion: str) -> Finding:
    concept = next(c for (i, k, c) in SPEC_EXCLUDES if i == indication and k == criterion)
    return finding(concept)


@pytest.mark.parametrize("version", [g.version for g in knowledge.guidelines()])
@pytest.mark.parametrize("indication", sorted(SPEC_COVERED_CRITERIA))
@pytest.mark.parametrize("mask", range(8))
def test_covered_status_from_the_criteria_met(version, indication, mask):
    g = _guideline(version)
    names = SPEC_COVERED_CRITERIA[indication]
    met = {n for bit, n in enumerate(names) if mask & (1 << bit)}
    # One finding per criterion met, of a concept that meets no other criterion of the indication.
    findings = [_meeting(indication, n) for n in met]
    got = {r.id: r for r in evaluate_indications(g, findings)}[indication]
    ind = next(i for i in g.indications if i.id == indication)
    if ind.not_in_version:
        assert got.status == "not_found"
        return
    assert {c.id for c in got.criteria if c.met} == met
    assert got.status == spec_covered_status(indication, met)
    rec = recommend(g, evaluate_indications(g, findings))
    if got.status == "supported":
        assert rec == "likely_meets_criteria"


# --- the documentation checklist of every labelled sample case, item by item ------------------------

CHECKLIST_IDS = (
    "clinician",
    "office_visit_note",
    "prior_imaging",
    "labs_or_special_testing",
    "alternative_imaging_reason",
)


def _checklist_cases() -> list:
    out = []
    for name in sample_case_names():
        labels = json.loads((knowledge.models_dir().parent / "sample_notes" / name / "labels.json").read_text())
        want = {d["id"]: d["status"] for d in labels["documentation"]}
        assert set(want) == set(CHECKLIST_IDS), name
        out += [pytest.param(name, item, want[item], id=f"{name}-{item}") for item in CHECKLIST_IDS]
    return out


@pytest.mark.parametrize(("case_name", "item", "want"), _checklist_cases())
def test_sample_checklist_item(case_name, item, want):
    _, review, _ = prefilled(case_name)
    got = {d.id: d for d in review.documentation}[item]
    assert got.status == want, [e.text for e in got.evidence]


def test_egfr_mutation_is_not_an_egfr_lab_result():
    """Regression: "EGFR exon 19 deletion" is a tumour mutation, not the eGFR (kidney function) lab value."""

    def labs(text: str) -> list[str]:
        return [m.text for m in extract(text).mentions if m.label == "DOC_LAB"]

    assert labs("Lung adenocarcinoma, EGFR exon 19 deletion, on osimertinib.") == []
    assert labs("EGFR-mutant NSCLC; EGFR L858R mutation positive.") == []
    assert labs("Creatinine 0.9, eGFR 88 mL/min.") == ["Creatinine", "eGFR"]
