"""Every labelled sample case through the full pipeline, checked field by field against its labels."""

import json
import re
from datetime import date

import pytest

from extractor.case import prefill
from extractor.evaluate import case_files, match_findings
from extractor.ingest.files import decode_text
from tests.helpers import SAMPLES

CASES = sorted(p for p in SAMPLES.iterdir() if (p / "labels.json").is_file())


@pytest.fixture(scope="module", params=CASES, ids=[c.name for c in CASES])
def case(request):
    labels = json.loads((request.param / "labels.json").read_text(encoding="utf-8"))
    review = prefill(case_files(request.param), request_date=date.fromisoformat(labels["request_date"])).review
    return labels, review.model_dump()


def test_at_least_24_cases_cover_every_outcome():
    assert len(CASES) >= 24
    recs = {json.loads((c / "labels.json").read_text())["recommendation"] for c in CASES}
    assert recs == {"likely_meets_criteria", "experimental_investigational", "needs_clinical_review"}


def test_recommendation(case):
    labels, review = case
    assert review["recommendation"] == labels["recommendation"]


def test_indication_statuses(case):
    labels, review = case
    got = {i["id"]: i["status"] for i in review["indications"]}
    assert got == {i["id"]: i["status"] for i in labels["indications"]}


def test_every_labelled_finding_is_found(case):
    labels, review = case
    missed = [lab for lab, pred in match_findings(labels["findings"], review["findings"]) if pred is None]
    assert not missed


FLAGS = ("negated", "historical", "hypothetical", "family", "uncertain")


def test_every_flag_matches_labels(case):
    """All five flags of every labelled finding, no allowance: a changed ConText rule shows here."""
    labels, review = case
    wrong = []
    for lab, pred in match_findings(labels["findings"], review["findings"]):
        if pred is None:
            continue
        for flag in FLAGS:
            if bool(lab.get(flag)) != pred[flag]:
                wrong.append((lab["concept"], lab["text"], flag, pred["sentence"]))
    assert not wrong, wrong


def test_documentation_checklist(case):
    labels, review = case
    got = {d["id"]: d["status"] for d in review["documentation"]}
    assert got == {d["id"]: d["status"] for d in labels["documentation"]}


def test_request_details(case):
    labels, review = case
    want = labels.get("request", {})
    for key in ("cpt_codes", "patient_name", "date_of_birth", "member_id", "ordering_clinician"):
        if key in want:
            got = review["request"][key]
            assert (sorted(got) if key == "cpt_codes" else got) == (
                sorted(want[key]) if key == "cpt_codes" else want[key]
            ), key


def test_evidence_offsets_point_at_the_source(case):
    labels, review = case
    folder = SAMPLES / labels["case_id"]
    texts = {d["name"]: decode_text((folder / d["name"]).read_bytes()) for d in review["documents"]}
    for f in review["findings"]:
        quoted = texts[f["document"]][f["start"] : f["end"]]
        assert re.sub(r"-\s*\n\s*|\s+", lambda m: "" if "-" in m.group() else " ", quoted) == f["text"]
        assert f["text"].lower() in f["sentence"].lower()


def test_cover_sheet_boilerplate_is_never_evidence(case):
    _, review = case
    for f in review["findings"]:
        assert "confidential" not in f["sentence"].lower() or f["section"] != "confidentiality_notice"
