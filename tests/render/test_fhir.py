"""FHIR output: the shipped Questionnaire is what the generator makes of the guideline model, and every sample
case gives a Bundle that validates, round-trips and carries exactly the review's answers and evidence."""

import base64
import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime

import pytest
from fhir.resources.R4B.bundle import Bundle

from extractor import knowledge
from extractor.case import prefill
from extractor.errors import FhirError, KnowledgeError
from extractor.evaluate import case_files
from extractor.render import fhir
from extractor.schemas import FLAGS
from tests.helpers import GUIDELINE_MD, ROOT, SAMPLES, make_pdf, needs, prefilled, sample_case_names

AUTHORED = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
CASES = sample_case_names()


def _resources(bundle, kind):
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _items(qr, group):
    return {i["linkId"]: i for i in next(g for g in qr["item"] if g["linkId"] == group)["item"]}


def _sub(ext):
    """Sub-extensions of one complex extension as {url: value}."""
    out = {}
    for e in ext["extension"]:
        if "extension" in e:
            out[e["url"]] = [_sub_value(x) for x in e["extension"]]
        else:
            out[e["url"]] = _sub_value(e)
    return out


def _sub_value(e):
    return next(v for k, v in e.items() if k.startswith("value"))


def _evidence(answer):
    url = knowledge.fhir_config().canonical_base + "/StructureDefinition/evidence"
    return [_sub(e) for e in answer.get("extension", []) if e["url"] == url]


@pytest.fixture(autouse=True)
def _fresh_knowledge():
    yield
    for loader in (knowledge.guidelines, knowledge.fhir_config, knowledge.questionnaire, knowledge.rationale_templates):
        loader.cache_clear()


# ---------------------------------------------------------------- Questionnaire


def test_shipped_questionnaire_is_what_the_generator_makes_of_the_guideline_model():
    for g in knowledge.guidelines():
        path = knowledge.questionnaire_path(g.id, g.version)
        regenerate = f"{path}: run python -m extractor.render.fhir"
        assert path.read_text(encoding="utf-8") == fhir.render_questionnaire(g), regenerate
    assert fhir.main(["--check"]) == 0


def test_generator_check_fails_when_the_guideline_model_changes(tmp_path, monkeypatch, capsys):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models)
    path = models / "guidelines" / "NIA_CG_003_2021-02.json"
    data = json.loads(path.read_text())
    data["documentation"][1]["text"] = "Office visit notes from the last 30 days."
    path.write_text(json.dumps(data))
    monkeypatch.setenv("EXTRACTOR_MODELS_DIR", str(models))
    knowledge.guidelines.cache_clear()
    knowledge.fhir_config.cache_clear()
    assert fhir.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert fhir.main([]) == 0
    written = json.loads((models / "fhir" / "Questionnaire-NIA_CG_003-2021-02.json").read_text())
    assert written["item"][1]["item"][1]["text"] == "Office visit notes from the last 30 days."
    assert fhir.main(["--check"]) == 0


def test_questionnaire_has_one_item_per_indication_and_checklist_item_in_the_guideline_wording():
    g = knowledge.guideline_for(date(2026, 3, 1))
    q = knowledge.questionnaire(g.id, g.version)
    assert q["version"] == g.version == "2021-02"
    assert q["effectivePeriod"] == {"start": "2022-01-01"}
    groups = {i["linkId"]: i for i in q["item"]}
    indications = groups["indications"]["item"]
    assert [(i["linkId"], i["text"]) for i in indications] == [(i.id, i.text) for i in g.indications]
    checklist = groups["documentation"]["item"]
    assert [(i["linkId"], i["text"]) for i in checklist] == [(d.id, d.text) for d in g.documentation]
    options = {i["linkId"]: [o["valueCoding"]["code"] for o in i["answerOption"]] for i in indications}
    assert options["recurrence_vs_treatment_effect"] == ["supported", "partial", "not_found"]
    assert options["epilepsy"] == ["present", "not_found"]
    assert {c["code"] for c in q["useContext"][0]["valueCodeableConcept"]["coding"]} == {"76390", "0698T"}


@needs(GUIDELINE_MD.is_file(), "../shared guideline text")
def test_covered_indication_items_quote_the_guideline():
    guideline_text = " ".join(GUIDELINE_MD.read_text(encoding="utf-8").split())
    q = knowledge.questionnaire("NIA_CG_003", "2021-02")
    covered = [i for i in q["item"][0]["item"] if {"code": "covered"}.items() <= i["code"][1].items()]
    assert len(covered) == 2
    for item in covered:
        assert item["text"].rstrip(".") in guideline_text


def test_a_guideline_version_without_a_shipped_questionnaire_is_a_clear_error(tmp_path, monkeypatch):
    models = tmp_path / "models"
    shutil.copytree(ROOT / "models", models)
    (models / "fhir" / "Questionnaire-NIA_CG_003-2021-02.json").unlink()
    monkeypatch.setenv("EXTRACTOR_MODELS_DIR", str(models))
    knowledge.questionnaire.cache_clear()
    with pytest.raises(KnowledgeError, match="missing"):
        knowledge.questionnaire("NIA_CG_003", "2021-02")


# ---------------------------------------------------------------- every sample case


@pytest.fixture(scope="module", params=CASES)
def case_bundle(request):
    _, review, _ = prefilled(request.param)
    files = {p.name: p for p in case_files(SAMPLES / request.param)}
    return review, files, fhir.bundle(review, authored=AUTHORED)


def test_bundle_validates_and_round_trips(case_bundle):
    review, _, bundle = case_bundle
    text = json.dumps(bundle)
    parsed = Bundle.model_validate_json(text)
    assert parsed.model_dump(mode="json", by_alias=True, exclude_none=True) == bundle
    assert json.loads(parsed.model_dump_json(exclude_none=True)) == bundle
    assert fhir.validate(json.loads(text)) == bundle
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds == ["QuestionnaireResponse", "Questionnaire"] + ["DocumentReference"] * len(review.documents)


def test_answers_carry_the_review_statuses_and_evidence(case_bundle):
    review, _, bundle = case_bundle
    (qr,) = _resources(bundle, "QuestionnaireResponse")
    refs = {d["id"]: d["content"][0]["attachment"]["title"] for d in _resources(bundle, "DocumentReference")}
    assert qr["questionnaire"] == f"{knowledge.questionnaire('NIA_CG_003', '2021-02')['url']}|2021-02"
    assert qr["status"] == "in-progress" and qr["authored"] == "2026-03-12T09:30:00Z"
    indications = _items(qr, "indications")
    assert list(indications) == [i.id for i in review.indications]
    for ind in review.indications:
        (answer,) = indications[ind.id]["answer"]
        assert answer["valueCoding"]["code"] == ind.status
        got = [
            (refs[e["document"]["reference"].removeprefix("urn:uuid:")], e["page"], e["quote"], e["start"], e["end"],
             e.get("bbox"), e["concept"], [f for f in FLAGS if e[f]])
            for e in _evidence(answer)
        ]  # fmt: skip
        want = [(f.document, f.page, f.text, f.start, f.end, f.bbox, f.concept, f.flags()) for f in ind.evidence]
        assert got == want
    checklist = _items(qr, "documentation")
    for item in review.documentation:
        (answer,) = checklist[item.id]["answer"]
        assert answer["valueCoding"]["code"] == item.status
        got = [(e.get("quote") or e["description"], e["kind"]) for e in _evidence(answer)]
        assert got == [(e.text, e.kind) for e in item.evidence]
        assert all(("quote" in e) == (e["kind"] == "mention") for e in _evidence(answer))
    summary = _items(qr, "summary")
    assert summary["recommendation"]["answer"][0]["valueCoding"]["code"] == review.recommendation
    assert summary["rationale"]["answer"][0]["valueString"] == review.rationale
    linked = [a["valueReference"]["display"] for a in summary["source_documents"]["answer"]]
    assert linked == [d.name for d in review.documents]


def test_document_references_identify_each_source_document(case_bundle):
    review, files, bundle = case_bundle
    refs = _resources(bundle, "DocumentReference")
    assert len(refs) == len(files)
    for info, ref in zip(review.documents, refs, strict=True):
        assert ref["content"][0]["attachment"]["title"] == info.name
        assert ref["identifier"][0]["value"] == hashlib.sha256(files[info.name].read_bytes()).hexdigest()
        page_count = next(e for e in ref["extension"] if e["url"].endswith("/page-count"))
        assert page_count["valueUnsignedInt"] == info.pages >= 1


# ---------------------------------------------------------------- behaviour beyond the sample cases


@pytest.fixture(scope="module")
def c01():
    _, review, _ = prefilled("c01_gbm_recurrence_vs_necrosis")
    return review


def test_same_case_gives_the_same_ids_and_another_case_id_others(c01):
    a = fhir.bundle(c01, authored=AUTHORED)
    assert fhir.bundle(c01, authored=AUTHORED) == a
    b = fhir.bundle(c01, case_id="42", authored=AUTHORED)
    own = lambda x: {e["fullUrl"] for e in x["entry"] if e["resource"]["resourceType"] != "Questionnaire"}  # noqa: E731
    assert own(a).isdisjoint(own(b))
    qr = _resources(b, "QuestionnaireResponse")[0]
    assert qr["identifier"]["value"] == "42"


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda b: _items(b["entry"][0]["resource"], "indications")["epilepsy"]["answer"][0]["valueCoding"].update(
            code="denied"), "not one of the item's options"),
        (lambda b: b["entry"][0]["resource"]["item"][2]["item"].pop(0), "required item recommendation"),
        (lambda b: b["entry"].pop(2), "does not resolve"),
        (lambda b: b.update(type="pile"), "Bundle.type"),
        (lambda b: b["entry"][0]["resource"].update(status="done"), "QuestionnaireResponse.status"),
        (lambda b: b["entry"][0]["resource"].update(questionnaire="http://elsewhere/Questionnaire/x|1"), "not in the"),
        (lambda b: b["entry"][0]["resource"]["item"].reverse(), "order"),
        (lambda b: b["entry"][0]["resource"]["item"][0]["item"][0]["answer"][0]["extension"][0].update(
            valueString="x"), "ext-1"),
        (lambda b: b["entry"][0]["resource"]["item"][0]["item"][0]["answer"][0].update(valueString="x"), "multiple"),
        (lambda b: b["entry"][0]["resource"].update(authored="yesterday"), "authored"),
    ],
    ids=["unknown-answer-code", "missing-required", "dangling-reference", "bundle-type", "qr-status",
         "unknown-questionnaire", "item-order", "ext-1", "two-values", "bad-datetime"],
)  # fmt: skip
def test_validate_rejects_what_fhir_forbids(c01, mutate, message):
    bundle = copy.deepcopy(fhir.bundle(c01, authored=AUTHORED))
    mutate(bundle)
    with pytest.raises(FhirError, match=message):
        fhir.validate(bundle)


def test_document_meta_fills_the_attachment(c01):
    name = c01.documents[0].name
    meta = {
        name: fhir.DocumentMeta(
            content_type="application/pdf", url="https://payer.example/files/1", size=12, sha1="a9" * 20
        )
    }
    ref = _resources(fhir.bundle(c01, meta, authored=AUTHORED), "DocumentReference")[0]
    att = ref["content"][0]["attachment"]
    assert att["contentType"] == "application/pdf" and att["url"] == "https://payer.example/files/1"
    assert att["size"] == 12
    assert base64.b64decode(att["hash"]) == bytes.fromhex("a9" * 20)


def test_unreadable_document_is_listed_with_its_error(tmp_path):
    note = tmp_path / "note.txt"
    note.write_text(
        "Left frontal glioblastoma s/p resection and radiation therapy. New enhancing lesion, recurrence versus "
        "radiation necrosis. Request MR spectroscopy.\nElectronically signed by: Maria Delgado, MD\n"
    )
    empty = tmp_path / "scan.pdf"
    empty.write_bytes(b"")
    review = prefill([note, empty], request_date=date(2026, 3, 1)).review
    meta = {p.name: fhir.document_meta_from_file(p) for p in (note, empty)}
    refs = {r["description"]: r for r in _resources(fhir.bundle(review, meta), "DocumentReference")}
    errors = [e["valueString"] for e in refs["scan.pdf"]["extension"] if e["url"].endswith("/read-error")]
    assert errors == ["file is empty"]  # intake names the reason (an empty file, not a bad header)
    assert refs["scan.pdf"]["content"][0]["attachment"]["contentType"] == "application/pdf"
    sha1 = base64.b64decode(refs["note.txt"]["content"][0]["attachment"]["hash"]).hex()
    assert sha1 == hashlib.sha1(note.read_bytes()).hexdigest()


def test_cli_prefill_format_fhir_writes_the_bundle(tmp_path):
    note = tmp_path / "office_note.txt"
    note.write_text(
        "NEURO-ONCOLOGY OFFICE VISIT\nPatient Name: Hale, Robert\nMember ID: NIA4418821\n\n"
        "Left frontal glioblastoma s/p GTR in 2024 and chemoradiation to 60 Gy. MRI brain shows a new enhancing\n"
        "lesion at the resection margin, recurrence versus radiation necrosis.\nRequest MR spectroscopy (CPT 76390).\n"
        "Electronically signed by: Maria Delgado, MD\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    out = subprocess.run(
        [sys.executable, "-m", "extractor.cli", "prefill", str(note), "--format", "fhir", "--request-date",
         "2026-03-10"],
        capture_output=True, text=True, timeout=120, env=env,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    bundle = fhir.validate(json.loads(out.stdout))
    (qr,) = _resources(bundle, "QuestionnaireResponse")
    answer = _items(qr, "indications")["recurrence_vs_treatment_effect"]["answer"][0]
    assert answer["valueCoding"]["code"] == "supported"
    assert {"glioblastoma", "chemoradiation"} <= {e["quote"] for e in _evidence(answer)}
    assert qr["subject"] == {"type": "Patient", "identifier": {"value": "NIA4418821"}, "display": "Robert Hale"}
    (ref,) = _resources(bundle, "DocumentReference")
    assert base64.b64decode(ref["content"][0]["attachment"]["hash"]) == hashlib.sha1(note.read_bytes()).digest()


def test_pdf_evidence_carries_page_and_bbox(tmp_path):
    pdf = tmp_path / "mri_report.pdf"
    pdf.write_bytes(
        make_pdf(
            [
                ["MRI BRAIN", "INDICATION: Glioblastoma s/p resection and radiation therapy."],
                ["IMPRESSION: New enhancing lesion, recurrence versus radiation necrosis.", "MR spectroscopy advised."],
            ]
        )
    )
    review = prefill([pdf], request_date=date(2026, 3, 1)).review
    bundle = fhir.bundle(review, {pdf.name: fhir.document_meta_from_file(pdf)})
    (qr,) = _resources(bundle, "QuestionnaireResponse")
    evidence = _evidence(_items(qr, "indications")["recurrence_vs_treatment_effect"]["answer"][0])
    necrosis = next(e for e in evidence if e["quote"] == "radiation necrosis")
    finding = next(f for f in review.findings if f.text == "radiation necrosis")
    assert necrosis["page"] == finding.page == 2
    assert necrosis["bbox"] == finding.bbox and len(finding.bbox) == 4
    (ref,) = _resources(bundle, "DocumentReference")
    assert ref["content"][0]["attachment"]["contentType"] == "application/pdf"
    assert next(e for e in ref["extension"] if e["url"].endswith("/page-count"))["valueUnsignedInt"] == 2


def test_a_reviewed_rationale_is_a_human_override_with_the_draft_beside_it(c01):
    edited = "Recurrent GBM after chemoradiation; MRS to separate recurrence from radiation necrosis. Approve."
    bundle = fhir.bundle(c01, authored=AUTHORED, reviewed_rationale=edited, reviewer="Dr. Ana Ruiz")
    (answer,) = _items(_resources(bundle, "QuestionnaireResponse")[0], "summary")["rationale"]["answer"]
    assert answer["valueString"] == edited
    by_url = {e["url"].rsplit("/", 1)[-1]: e for e in answer["extension"]}
    assert by_url["draft-rationale"]["valueString"] == c01.rationale
    origin = {e["url"]: e for e in by_url["information-origin"]["extension"]}
    assert origin["source"]["valueCode"] == "override"
    assert origin["author"]["extension"][0]["valueReference"]["display"] == "Dr. Ana Ruiz"
    unchanged = fhir.bundle(c01, authored=AUTHORED, reviewed_rationale=c01.rationale, reviewer="Dr. Ana Ruiz")
    assert unchanged == fhir.bundle(c01, authored=AUTHORED)
    with pytest.raises(FhirError, match="reviewer"):
        fhir.bundle(c01, reviewed_rationale=edited)


# ---------------------------------------------------------------- DTR 2.2 claims of the Bundle


def _answers(items):
    for item in items:
        yield from item.get("answer", [])
        yield from _answers(item.get("item", []))


def test_dtr_the_questionnaire_response_is_first_and_claims_the_dtr_profile(case_bundle):
    _, _, bundle = case_bundle
    cfg = knowledge.fhir_config()
    qr = bundle["entry"][0]["resource"]
    assert qr["resourceType"] == "QuestionnaireResponse"
    assert qr["meta"]["profile"] == [cfg.dtr.questionnaire_response_profile]
    assert "davinci-dtr" in cfg.dtr.questionnaire_response_profile


def test_dtr_qr_coverage_and_intended_use_extensions(case_bundle):
    review, _, bundle = case_bundle
    cfg = knowledge.fhir_config()
    qr = bundle["entry"][0]["resource"]
    by_url = {e["url"]: e for e in qr["extension"]}
    assert cfg.dtr.qr_coverage_url.endswith("/StructureDefinition/qr-coverage")
    coverage = by_url[cfg.dtr.qr_coverage_url]["valueReference"]
    assert coverage["type"] == "Coverage"
    if review.request.member_id:
        assert coverage["identifier"]["value"] == review.request.member_id
    else:
        assert "identifier" not in coverage
    assert cfg.dtr.intended_use_url.endswith("/StructureDefinition/intendedUse")
    (coding,) = by_url[cfg.dtr.intended_use_url]["valueCodeableConcept"]["coding"]
    assert coding["code"] == "withpa"


def test_dtr_every_answer_carries_information_origin(case_bundle):
    _, _, bundle = case_bundle
    cfg = knowledge.fhir_config()
    qr = bundle["entry"][0]["resource"]
    answers = list(_answers(qr["item"]))
    assert answers
    for answer in answers:
        origins = [e for e in answer.get("extension", []) if e["url"] == cfg.information_origin.url]
        assert len(origins) == 1, answer
        (source,) = [e for e in origins[0]["extension"] if e["url"] == "source"]
        assert source["valueCode"] in (cfg.information_origin.source, cfg.information_origin.override)
