"""The drafted rationale: names the right indication or guideline reason for every sample case, quotes only
text that is in the documents (on the page it cites), never denies, and takes its wording from models/."""

import json
import re
import shutil
import string
from datetime import date

import pytest

from extractor import knowledge
from extractor.errors import KnowledgeError
from extractor.guideline.rationale import draft_rationale
from tests.helpers import GUIDELINE_MD, ROOT, needs, prefilled, sample_case_names

CASES = sample_case_names()
GUIDELINE = knowledge.guideline_for(date(2026, 3, 1))
REF = f"{GUIDELINE.id} version {GUIDELINE.version}"


def _quote_pattern() -> re.Pattern:
    """A regex for the evidence quotes, built from the quote template itself."""
    groups = {"text": r'(?P<text>[^"]+)', "document": r"(?P<document>[^()]+?)", "page": r"(?P<page>\d+)",
              "flags": r"(?P<flags>[^()]*)"}  # fmt: skip
    out = ""
    for literal, field, _, _ in string.Formatter().parse(knowledge.rationale_templates().quote):
        out += re.escape(literal) + (groups[field] if field else "")
    return re.compile(out)


def _normal(text: str) -> str:
    return " ".join(text.split())


@pytest.fixture(scope="module", params=CASES)
def case(request):
    return prefilled(request.param)


def test_rationale_names_the_right_indication_or_reason(case):
    labels, review, _ = case
    text = review.rationale
    specs = {i.id: i for i in GUIDELINE.indications}
    status = {i["id"]: i["status"] for i in labels["indications"]}
    if labels["recommendation"] == "likely_meets_criteria":
        supported = [i for i, s in status.items() if s == "supported"]
        assert supported
        for ind in supported:
            assert specs[ind].text.rstrip(".") in text
        assert "not supported" not in text and "experimental/investigational" not in text
    else:
        assert REF in text
        for ind, s in status.items():
            if specs[ind].kind == "covered" and s == "partial":
                assert specs[ind].text.rstrip(".") in text
                assert all(m in text for c in review.indications if c.id == ind for m in c.missing)
        assert "would change the outcome" in text
    if labels["recommendation"] == "experimental_investigational":
        for ind, s in status.items():
            if specs[ind].kind == "experimental" and s == "present":
                assert specs[ind].title.lower() in text
                assert all(sentence.rstrip(".") in text for sentence in specs[ind].guideline_quote)
    if labels["recommendation"] == "needs_clinical_review":
        assert knowledge.rationale_templates().no_covered.format(guideline_ref=REF) in text
        assert "experimental/investigational" not in text


def test_rationale_quotes_only_text_of_the_documents_on_the_cited_page(case):
    _, review, docs = case
    quotes = list(_quote_pattern().finditer(review.rationale))
    if review.recommendation == "likely_meets_criteria" or any(i.status == "partial" for i in review.indications):
        assert len(quotes) >= 2
    for m in quotes:
        doc = docs[m["document"]]
        page = int(m["page"])
        starts = [*doc.page_starts, len(doc.text)]
        assert 1 <= page <= doc.pages
        assert m["text"] in _normal(doc.text[starts[page - 1] : starts[page]]), (m["text"], m["document"], page)


def test_rationale_never_denies(case):
    _, review, _ = case
    assert not re.search(r"\bden(y|ied|ial)\b", review.rationale, re.I)


@needs(GUIDELINE_MD.is_file(), "../shared guideline text")
def test_background_quotes_are_verbatim_guideline_text():
    guideline_text = _normal(GUIDELINE_MD.read_text(encoding="utf-8"))
    quoted = [s for i in GUIDELINE.indications for s in i.guideline_quote]
    assert {i.id for i in GUIDELINE.indications if i.guideline_quote} == {
        "glioma_grading", "epilepsy", "neurodegenerative", "stroke"
    }  # fmt: skip
    for sentence in quoted:
        assert sentence in guideline_text
    for ind in GUIDELINE.indications:
        assert not ind.guideline_quote or "experimental/investigational" in ind.guideline_quote[-1]


def test_hyphen_broken_words_are_not_quoted_when_a_clean_mention_exists():
    """c20's MRI report breaks "metas-\\ntases": the quote must come from text that reads as the finding."""
    _, review, docs = prefilled("c20_breast_mets_fax_stale_office_note")
    assert "metas- tases" in _normal(docs["mri_report.txt"].text)
    assert "metas- tases" not in review.rationale
    assert '"brain metastases" (office_note.txt, p. 1)' in review.rationale


def test_wording_comes_from_models(tmp_path, monkeypatch):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models)
    path = models / "rationale.json"
    data = json.loads(path.read_text())
    data["closing"] = "Entwurf zur Bearbeitung durch die Gutachterin."
    data["supported"] = "Covered: {indication} [{guideline_ref}] -- {evidence}."
    path.write_text(json.dumps(data))
    monkeypatch.setenv("EXTRACTOR_MODELS_DIR", str(models))
    knowledge.rationale_templates.cache_clear()
    try:
        _, review, docs = prefilled("c01_gbm_recurrence_vs_necrosis")
        text = draft_rationale(review, GUIDELINE, {n: d.text for n, d in docs.items()})
    finally:
        knowledge.rationale_templates.cache_clear()
    assert text.startswith(f"Covered: {GUIDELINE.indications[0].text.rstrip('.')} [{REF}] -- a brain tumor diagnosis: ")
    assert text.endswith("Entwurf zur Bearbeitung durch die Gutachterin.")


def test_a_template_with_an_unknown_placeholder_is_refused(tmp_path, monkeypatch):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models)
    path = models / "rationale.json"
    data = json.loads(path.read_text())
    data["no_covered"] = "Nothing covered under {guideline} ({member_id})."
    path.write_text(json.dumps(data))
    monkeypatch.setenv("EXTRACTOR_MODELS_DIR", str(models))
    knowledge.rationale_templates.cache_clear()
    try:
        with pytest.raises(KnowledgeError, match="unknown placeholder"):
            knowledge.rationale_templates()
    finally:
        knowledge.rationale_templates.cache_clear()


def test_without_document_texts_the_findings_own_text_is_quoted():
    _, review, _ = prefilled("c03_gbm_pseudoprogression_bom")
    text = draft_rationale(review, GUIDELINE)
    assert '"pseudoprogression" (consult.txt, p. 1; uncertain)' in text


def test_rationale_never_offers_an_indication_its_guideline_version_lacks(tmp_path):
    from extractor import knowledge
    from extractor.case import prefill

    note = tmp_path / "note.txt"
    note.write_text("Headaches for two months. No focal deficit. Request MR spectroscopy of the brain.\n")
    old = prefill([note], request_date=date(2019, 1, 15)).review
    model = knowledge.guideline_for(date(2019, 1, 15))
    lacking = [i for i in model.indications if i.not_in_version]
    assert old.guideline.version == model.version and lacking
    for ind in lacking:
        assert ind.text[:60] not in old.rationale
    current = prefill([note], request_date=date(2024, 1, 15)).review
    assert any(
        i.text[:60] in current.rationale
        for i in knowledge.guideline_for(date(2024, 1, 15)).indications
        if i.id == lacking[0].id
    )
