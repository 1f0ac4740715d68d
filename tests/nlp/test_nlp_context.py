"""Each context trap a reviewer cares about, as a clinician would write it."""

import pytest

from extractor.nlp.extract import extract
from tests.helpers import find, flags


@pytest.mark.parametrize(
    ("text", "label", "word", "expected"),
    [
        # differentials are uncertain, not negated
        ("New enhancement: recurrence versus radiation necrosis.", "TUMOR_RECURRENCE", "recurrence", {"uncertain"}),
        ("New enhancement: recurrence versus radiation necrosis.", "TREATMENT_EFFECT", None, {"uncertain"}),
        ("Ring-enhancing lesion; ddx includes abscess.", "ABSCESS", None, {"uncertain"}),
        ("Findings concerning for recurrent tumor.", "TUMOR_RECURRENCE", None, {"uncertain"}),
        ("MRI to r/o recurrence.", "TUMOR_RECURRENCE", None, {"uncertain"}),
        ("Cannot exclude abscess.", "ABSCESS", None, {"uncertain"}),
        # negation
        ("No evidence of recurrence.", "TUMOR_RECURRENCE", None, {"negated"}),
        ("Negative for infection.", "INFECTION", None, {"negated"}),
        ("She denies seizures.", "EPILEPSY", None, {"negated"}),
        ("Neuro: negative for seizures, stroke.", "EPILEPSY", None, {"negated"}),
        ("Neuro: negative for seizures, stroke.", "STROKE", None, {"negated"}),
        # pseudo-negation does not negate
        ("There is no change in the enhancing lesion.", "BRAIN_LESION", None, set()),
        ("No significant interval change in size of the mass.", "BRAIN_LESION", None, set()),
        ("This is not only a glioblastoma but also infiltrative.", "BRAIN_TUMOR", None, set()),
        # history
        ("Glioblastoma s/p XRT 2023.", "PRIOR_RADIATION", None, {"historical"}),
        ("Status post gross total resection in 2024.", "PRIOR_SURGERY", None, {"historical"}),
        ("PAST MEDICAL HISTORY:\nCVA in 2015.\n", "STROKE", None, {"historical"}),
        ("Psychiatric History:\nDementia, followed by her neurologist.\n", "NEURODEGENERATIVE", None, {"historical"}),
        ("OB/GYN History:\nEclampsia with seizures.\n", "EPILEPSY", None, {"historical"}),
        # social history's own headers: habits are history
        ("Alcohol: heavy drinking, with withdrawal seizures.\n", "EPILEPSY", None, {"historical"}),
        # dated narrative, and a lesion since resected is no current lesion
        ("An MRI of the brain in 2005 showed a mass, which was resected.", "BRAIN_LESION", None, {"historical"}),
        ("The left frontal lesion has since been resected.", "BRAIN_LESION", None, {"historical"}),
        ("She had a glioma resected in 2010 and now has a new enhancing lesion.", "BRAIN_LESION", None, set()),
        ("He is s/p STR, then chemoradiation to 60 Gy, completed 11/07/2025.", "PRIOR_RADIATION", "Gy", {"historical"}),
        ("Meningioma s/p GTR, with no residual tumor on current imaging.", "TUMOR_RECURRENCE", None, {"negated"}),
        # a date's scope is its own clause; WHO grade is no relative pronoun
        ("Recurrent tumor is possible given SRS 12 months ago.", "TUMOR_RECURRENCE", None, {"uncertain"}),
        ("s/p gross total resection of a WHO grade 1 meningioma.", "BRAIN_TUMOR", None, {"historical"}),
        # conditional test results, family asking, differentials with "but also"
        ("If MRS favors recurrence, will proceed to resection.", "TUMOR_RECURRENCE", None, {"hypothetical"}),
        ("His wife asks whether this represents dementia.", "NEURODEGENERATIVE", None, {"uncertain"}),
        ("The differential includes not only glioma but also metastasis.", "BRAIN_TUMOR", "metastasis", {"uncertain"}),
        ("Glioma or lymphoma are less favored but cannot be excluded.", "BRAIN_TUMOR", "Glioma", {"uncertain"}),
        ("Late treatment-related change is less likely but possible.", "TREATMENT_EFFECT", None, {"uncertain"}),
        # hypothetical, including planned procedures
        ("If seizures recur, consider MRS.", "EPILEPSY", None, {"hypothetical"}),
        ("Plan: craniotomy for resection.", "PRIOR_SURGERY", "craniotomy", {"hypothetical"}),
        ("Stereotactic biopsy scheduled for next week.", "PRIOR_SURGERY", None, {"hypothetical"}),
        # "is scheduled for" reads both ways: the operation after it and the one before it are planned
        ("The patient is scheduled for craniotomy.", "PRIOR_SURGERY", None, {"hypothetical"}),
        ("Left frontal glioblastoma. He is scheduled for resection.", "PRIOR_SURGERY", None, {"hypothetical"}),
        ("Resection is scheduled for next Monday.", "PRIOR_SURGERY", None, {"hypothetical"}),
        ("He was scheduled for follow-up after his craniotomy in 2019.", "PRIOR_SURGERY", None, {"historical"}),
        # a full date after "on" dates the event before it, as a year does
        ("Left temporal meningioma. Craniotomy was performed on 03/15/2018.", "PRIOR_SURGERY", None, {"historical"}),
        ("Will consider SRS after the MRS.", "PRIOR_RADIATION", None, {"hypothetical"}),
        # family
        ("Mother had glioblastoma at age 60.", "BRAIN_TUMOR", None, {"family"}),
        ("FAMILY HISTORY:\nStroke in father.\n", "STROKE", None, {"family"}),
        # plain current facts stay affirmed
        ("Left frontal glioblastoma with a new enhancing lesion.", "BRAIN_TUMOR", None, set()),
        ("Left frontal glioblastoma with a new enhancing lesion.", "BRAIN_LESION", None, set()),
    ],
)
def test_context_trap(text, label, word, expected):
    assert flags(text, label, word) == expected


def test_phrase_broken_by_a_line_end_still_matches():
    from extractor.nlp.normalize import rejoin

    wrapped = (
        "The enhancing focus along the resection cavity has grown and is concerning for radiation\n"
        "necrosis, although tumor progression remains in the differential per neuro-oncology.\n"
    )
    joined, src = rejoin(wrapped)
    m = find(extract(joined).mentions, "TREATMENT_EFFECT")
    assert m.text == "radiation necrosis"
    assert wrapped[src[m.start] : src[m.end - 1] + 1] == "radiation\nnecrosis"


def test_negation_scope_across_a_line_end():
    from extractor.nlp.normalize import rejoin

    joined, _ = rejoin(
        "Compared with the prior examination from January there is no evidence of\n"
        "recurrence at the surgical bed and the cavity is unchanged in size overall.\n"
    )
    assert find(extract(joined).mentions, "TUMOR_RECURRENCE").negated


def test_fax_confidentiality_section_is_found():
    text = (
        "Re: MRS request\n\nCONFIDENTIALITY NOTICE: This facsimile may contain information about "
        "diagnoses such as cancer or seizure disorders and is protected.\n"
    )
    ex = extract(text)
    assert any(cat == "confidentiality_notice" for _, _, cat in ex.sections)
    seizure = find(ex.mentions, "EPILEPSY")
    assert seizure.section == "confidentiality_notice"


def test_target_matcher_accepts_extra_rules_and_entities_carry_context():
    from medspacy.target_matcher import TargetRule

    from extractor.nlp.pipeline import build

    nlp = build()  # its own pipeline: an extra rule in the cached one would leak into later tests
    matcher = nlp.get_pipe("medspacy_target_matcher")
    matcher.add([TargetRule("hydrocephalus", "HYDROCEPHALUS")])
    doc = nlp("No evidence of hydrocephalus. Glioblastoma s/p XRT 2023.")
    ents = {e.text: e for e in doc.ents}
    assert ents["hydrocephalus"].label_ == "HYDROCEPHALUS" and ents["hydrocephalus"]._.is_negated
    assert ents["XRT"]._.is_historical and not ents["Glioblastoma"]._.is_negated
