"""Da Vinci PAS: real request Bundles (text and PDF attachments) through $submit, the worker, a reviewer's
decision and $inquire, field by field; bad Bundles get their 400 OperationOutcome."""

import base64
import threading
import time

import pytest
from fastapi.testclient import TestClient
from fhir.resources.R4B.bundle import Bundle

from extractor import knowledge, store
from extractor.config import Settings
from extractor.web import create_app, worker
from tests.helpers import PASSWORD, SAMPLE_PAGES, add_users, bearer, login, make_pdf, sample_case_files

PAS = knowledge.fhir_config().pas
FHIR = {"content-type": "application/fhir+json"}
NPI = "1234567893"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def pas_bundle(claim_id: str, documents: list[tuple[str, str, bytes]], *, member: str = "XJH448812",
               cpt: str = "76390", priority: str = "normal") -> dict:  # fmt: skip
    """A PAS request Bundle: Claim first, then Patient, provider, insurer, Coverage and one DocumentReference
    per (title, contentType, bytes)."""
    doc_entries = [
        {
            "fullUrl": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
            "resource": {
                "resourceType": "DocumentReference",
                "id": f"doc{n}",
                "status": "current",
                "description": title,
                "content": [{"attachment": {"contentType": kind, "data": b64(data), "title": title}}],
            },
        }
        for n, (title, kind, data) in enumerate(documents, 1)
    ]
    claim = {
        "resourceType": "Claim",
        "id": "claim1",
        "meta": {"profile": ["http://hl7.org/fhir/us/davinci-pas/StructureDefinition/profile-claim"]},
        "identifier": [{"system": "http://provider.example.org/claims", "value": claim_id}],
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "professional"}]},
        "use": "preauthorization",
        "patient": {"reference": "Patient/pat1"},
        "created": "2026-03-03T10:00:00Z",
        "insurer": {"reference": "Organization/payer1"},
        "provider": {"reference": "Organization/prov1"},
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": priority}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/cov1"}}],
        "supportingInfo": [
            {"sequence": n, "category": {"coding": [{"system": "http://hl7.org/us/davinci-pas/CodeSystem/PASSupportingInfoType",
                                                     "code": "additionalInformation"}]},
             "valueReference": {"reference": e["fullUrl"]}}
            for n, e in enumerate(doc_entries, 1)
        ],
        "item": [{"sequence": 1, "productOrService": {"coding": [{"system": PAS.cpt_system, "code": cpt}]}}],
    }  # fmt: skip
    parties = [
        {"fullUrl": "http://provider.example.org/fhir/Patient/pat1", "resource": {
            "resourceType": "Patient", "id": "pat1", "name": [{"family": "Hale", "given": ["Robert"]}],
            "identifier": [{"type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                                 "code": "MB"}]}, "value": member}]}},
        {"fullUrl": "http://provider.example.org/fhir/Organization/prov1", "resource": {
            "resourceType": "Organization", "id": "prov1", "name": "Neuro-Oncology Associates",
            "identifier": [{"system": PAS.npi_system, "value": NPI}]}},
        {"fullUrl": "http://provider.example.org/fhir/Organization/payer1", "resource": {
            "resourceType": "Organization", "id": "payer1", "name": "Example Health Plan"}},
        {"fullUrl": "http://provider.example.org/fhir/Coverage/cov1", "resource": {
            "resourceType": "Coverage", "id": "cov1", "status": "active", "subscriberId": member,
            "beneficiary": {"reference": "Patient/pat1"}, "payor": [{"reference": "Organization/payer1"}]}},
    ]  # fmt: skip
    return {
        "resourceType": "Bundle",
        "identifier": {"system": "http://provider.example.org/bundles", "value": f"b-{claim_id}"},
        "type": "collection",
        "timestamp": "2026-03-03T10:00:00Z",
        "entry": [
            {"fullUrl": "http://provider.example.org/fhir/Claim/claim1", "resource": claim},
            *parties,
            *doc_entries,
        ],
    }


def inquiry(claim_id: str, member: str = "XJH448812") -> dict:
    full = pas_bundle(claim_id, [], member=member)
    full["entry"] = full["entry"][:5]
    full["entry"][0]["resource"].pop("supportingInfo")
    return full


def pdf_and_text() -> list[tuple[str, str, bytes]]:
    text = sample_case_files()[0]
    return [("fax.pdf", "application/pdf", make_pdf(SAMPLE_PAGES)), (text[0], "text/plain", text[1])]


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    data = tmp_path_factory.mktemp("pas")
    app = create_app(Settings(data_dir=data), workers=0)
    state = app.state.extractor
    add_users(state.factory)
    with state.factory() as s:
        store.add_user(s, "ivy", "intake", PASSWORD)
        s.commit()
    with TestClient(app) as client:
        tokens = {name: bearer(client, name) for name in ("ina", "rev", "ada", "ivy")}
        yield client, tokens, state


def submit(client, headers, body):
    return client.post("/fhir/Claim/$submit", headers={**headers, **FHIR}, json=body)


def claim_response(bundle: dict) -> dict:
    Bundle.model_validate(bundle)
    first = bundle["entry"][0]["resource"]
    assert first["resourceType"] == "ClaimResponse"
    return first


def action_codes(cr: dict) -> list[str]:
    codes = []
    for item in cr["item"]:
        (ext,) = [e for e in item["extension"] if e["url"] == PAS.review_action_url]
        (code,) = [e for e in ext["extension"] if e["url"] == PAS.review_action_code_url]
        (coding,) = code["valueCodeableConcept"]["coding"]
        assert coding["system"] == PAS.review_action_system
        codes.append(coding["code"])
    return codes


def reviewer(cr: dict) -> dict | None:
    found = [e for e in cr.get("extension", []) if e["url"] == PAS.reviewer_url]
    return found[0] if found else None


def run_queue(state, case_id):
    assert worker.process_one(state.factory, state.data_dir) == case_id


def test_submit_answers_pended_then_approve_gives_a1_with_a_preauthref(env):
    client, tokens, state = env
    body = pas_bundle("REQ-APPROVE-1", pdf_and_text(), priority="stat")
    r = submit(client, tokens["ina"], body)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/fhir+json")
    bundle = r.json()
    assert bundle["type"] == "collection" and bundle["meta"]["profile"] == [PAS.response_bundle_profile]
    cr = claim_response(bundle)
    assert cr["meta"]["profile"] == [PAS.claim_response_profile]
    assert cr["use"] == "preauthorization" and cr["status"] == "active"
    assert cr["outcome"] == "queued" and action_codes(cr) == ["A4"] and "preAuthRef" not in cr
    assert cr["request"]["identifier"]["value"] == "REQ-APPROVE-1"
    assert cr["patient"] == {"reference": "Patient/pat1"} and cr["requestor"] == {"reference": "Organization/prov1"}
    assert reviewer(cr) is None
    case_id = cr["identifier"][0]["value"]
    urls = {e["fullUrl"] for e in bundle["entry"]}
    assert "http://provider.example.org/fhir/Patient/pat1" in urls  # the references resolve in the Bundle

    with state.factory() as s:
        case = store.get_case(s, case_id)
        assert case.source == "pas" and case.status == "queued"
        assert [d.kind for d in case.documents] == ["pdf", "text"]
        row = store.pas_request_of(s, case_id)
        assert (row.claim_value, row.member_id, row.provider, row.priority) == (
            "REQ-APPROVE-1",
            "XJH448812",
            NPI,
            "stat",
        )
        assert (case.urgency, case.urgency_source) == ("expedited", "given")  # a stat Claim
        assert [e.action for e in store.audit_events(s, case_id=case_id)] == ["case_uploaded"]
    run_queue(state, case_id)
    assert client.get(f"/api/cases/{case_id}", headers=tokens["rev"]).json()["status"] == "ready"

    r = client.post(f"/api/cases/{case_id}/decision", headers=tokens["rev"], json={"decision": "approve"})
    assert r.status_code == 201, r.text
    r = client.post("/fhir/Claim/$inquire", headers={**tokens["ina"], **FHIR}, json=inquiry("REQ-APPROVE-1"))
    assert r.status_code == 200, r.text
    assert r.json()["meta"]["profile"] == [PAS.inquiry_response_bundle_profile]
    cr = claim_response(r.json())
    assert cr["meta"]["profile"] == [PAS.inquiry_response_profile]
    assert cr["outcome"] == "complete" and action_codes(cr) == ["A1"]
    assert cr["preAuthRef"] and cr["preAuthRef"].startswith("PA-")
    number = [e for e in cr["item"][0]["extension"][0]["extension"] if e["url"] == "number"]
    assert number[0]["valueString"] == cr["preAuthRef"]
    rev = reviewer(cr)
    assert rev["extension"] == [{"url": "wasHumanReviewedFlag", "valueBoolean": True}]
    assert any(e.get("valueString") == "rev" for e in cr["extension"])


def test_request_information_asks_for_the_missing_documents_with_loinc_codes(env):
    client, tokens, state = env
    note = b"Office visit 03/02/2026. Patient with headaches. Brain MR spectroscopy requested.\n"
    r = submit(client, tokens["ina"], pas_bundle("REQ-INFO-1", [("note.txt", "text/plain", note)]))
    assert r.status_code == 200, r.text
    case_id = claim_response(r.json())["identifier"][0]["value"]
    run_queue(state, case_id)
    review = client.get(f"/api/cases/{case_id}", headers=tokens["rev"]).json()["review"]
    missing = [d for d in review["documentation"] if d["status"] != "present"]
    assert missing, "the short note should leave checklist items missing"
    r = client.post(f"/api/cases/{case_id}/decision", headers=tokens["rev"],
                    json={"decision": "request_information"})  # fmt: skip
    assert r.status_code == 201
    bundle = client.post("/fhir/Claim/$inquire", headers={**tokens["ina"], **FHIR}, json=inquiry("REQ-INFO-1")).json()
    cr = claim_response(bundle)
    assert action_codes(cr) == ["A4"] and cr["outcome"] == "queued" and "preAuthRef" not in cr
    assert reviewer(cr)["extension"][0] == {"url": "wasHumanReviewedFlag", "valueBoolean": True}
    (ref,) = cr["communicationRequest"]
    comm = next(e["resource"] for e in bundle["entry"] if e["fullUrl"] == ref["reference"])
    assert comm["resourceType"] == "CommunicationRequest" and comm["meta"]["profile"] == [
        PAS.communication_request_profile
    ]
    assert comm["recipient"] == [{"reference": "Organization/prov1"}]
    assert [p["contentString"] for p in comm["payload"]] == [m["description"] for m in missing]
    asked = [p["extension"][0]["valueCodeableConcept"] for p in comm["payload"]]
    assert {p["extension"][0]["url"] for p in comm["payload"]} == {PAS.payload_content_url}
    assert [a["text"] for a in asked] == [m["description"] for m in missing]
    for m, a in zip(missing, asked, strict=True):
        if m["id"] in PAS.attachment_codes:
            assert a["coding"][0]["system"] == "http://loinc.org"
            assert a["coding"][0]["code"] == PAS.attachment_codes[m["id"]].code
        else:
            assert "coding" not in a


def test_refer_stays_pended_and_nothing_ever_says_a3(env):
    client, tokens, state = env
    r = submit(client, tokens["ina"], pas_bundle("REQ-REFER-1", pdf_and_text()[:1]))
    case_id = claim_response(r.json())["identifier"][0]["value"]
    run_queue(state, case_id)
    client.post(f"/api/cases/{case_id}/decision", headers=tokens["rev"], json={"decision": "refer_to_physician"})
    r = client.post("/fhir/Claim/$inquire", headers={**tokens["ina"], **FHIR}, json=inquiry("REQ-REFER-1"))
    cr = claim_response(r.json())
    assert action_codes(cr) == ["A4"] and "communicationRequest" not in cr
    assert reviewer(cr) is not None
    assert "A3" not in r.text and "A3" not in PAS.review_actions


def test_inquire_is_scoped_to_the_submitter_and_matches_member_and_provider(env):
    client, tokens, _ = env
    submit(client, tokens["ina"], pas_bundle("REQ-SCOPE-1", pdf_and_text()[1:]))
    ok = client.post("/fhir/Claim/$inquire", headers={**tokens["ina"], **FHIR}, json=inquiry("REQ-SCOPE-1"))
    assert ok.status_code == 200
    for headers, body in (
        (tokens["ivy"], inquiry("REQ-SCOPE-1")),  # another intake user
        (tokens["ina"], inquiry("REQ-SCOPE-1", member="OTHER")),  # another member
        (tokens["ina"], inquiry("NO-SUCH-CLAIM")),
    ):
        r = client.post("/fhir/Claim/$inquire", headers={**headers, **FHIR}, json=body)
        assert r.status_code == 404, r.text
        outcome = r.json()
        assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["code"] == "not-found"
        assert "Claim identifier" in outcome["issue"][0]["diagnostics"]
    assert client.post("/fhir/Claim/$inquire", headers={**tokens["ada"], **FHIR},
                       json=inquiry("REQ-SCOPE-1")).status_code == 200  # fmt: skip


def test_auth_the_api_tokens_and_the_intake_role(env):
    client, tokens, _ = env
    body = pas_bundle("REQ-AUTH-1", pdf_and_text()[1:])
    r = client.post("/fhir/Claim/$submit", headers=FHIR, json=body)
    assert r.status_code == 401 and r.json()["resourceType"] == "OperationOutcome"
    assert r.headers["www-authenticate"] == "Bearer"
    r = submit(client, tokens["rev"], body)
    assert r.status_code == 403 and r.json()["issue"][0]["code"] == "forbidden"


def _bad(mutate):
    body = pas_bundle("REQ-BAD", pdf_and_text())
    mutate(body)
    return body


BAD = {
    "not a bundle": (lambda b: b.update(resourceType="Patient"), "not a FHIR Bundle"),
    "claim not first": (lambda b: b["entry"].insert(0, b["entry"].pop(1)), "first entry must be the Claim"),
    "use claim": (lambda b: b["entry"][0]["resource"].update(use="claim"), "preauthorization"),
    "no identifier": (lambda b: b["entry"][0]["resource"].pop("identifier"), "no identifier"),
    "no insurer": (lambda b: b["entry"][0]["resource"].pop("insurer"), "insurer"),
    "no documents": (lambda b: b["entry"][0]["resource"].pop("supportingInfo"), "no documents"),
    "bad base64": (lambda b: b["entry"][-1]["resource"]["content"][0]["attachment"].update(data="not*base64!"),
                   "not valid base64"),
    "content type": (lambda b: b["entry"][-1]["resource"]["content"][0]["attachment"].update(contentType="image/png"),
                     "unsupported contentType"),
    "cpt": (lambda b: b["entry"][0]["resource"]["item"][0]["productOrService"]["coding"][0].update(code="70551"),
            "CPT 70551 is not covered"),
    "binary as text": (lambda b: b["entry"][-1]["resource"]["content"][0]["attachment"].update(
        data=b64(bytes(range(256)) * 4)), "not a PDF or a text file"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BAD))
def test_bad_bundles_get_a_400_operation_outcome_naming_the_problem(env, case):
    client, tokens, state = env
    mutate, words = BAD[case]
    with state.factory() as s:
        before = len(store.list_cases(s))
    r = submit(client, tokens["ina"], _bad(mutate))
    assert r.status_code == 400, r.text
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome" and outcome["issue"][0]["severity"] == "error"
    assert words in outcome["issue"][0]["diagnostics"], outcome
    with state.factory() as s:
        assert len(store.list_cases(s)) == before  # nothing queued


def test_a_body_that_is_not_json_is_a_400_too(env):
    client, tokens, _ = env
    r = client.post("/fhir/Claim/$submit", headers={**tokens["ina"], **FHIR}, content=b"{not json")
    assert r.status_code == 400 and "not JSON" in r.json()["issue"][0]["diagnostics"]


def test_submit_answers_well_under_15_s_while_a_worker_is_busy(env):
    client, tokens, state = env
    while worker.process_one(state.factory, state.data_dir):  # the queue holds only the busy case
        pass
    long = [("long.pdf", "application/pdf", make_pdf(SAMPLE_PAGES * 12))]
    submit(client, tokens["ina"], pas_bundle("REQ-BUSY-0", long))
    done = []

    def work():
        done.append(worker.process_one(state.factory, state.data_dir))
        done.append(time.monotonic())

    busy = threading.Thread(target=work)
    busy.start()
    try:
        time.sleep(0.2)
        started = time.monotonic()
        r = submit(client, tokens["ina"], pas_bundle("REQ-BUSY-1", pdf_and_text()))
        took = time.monotonic() - started
        assert r.status_code == 200 and action_codes(claim_response(r.json())) == ["A4"]
        answered = time.monotonic()
        assert took < 5, f"submit took {took:.2f} s while the worker was busy"
        print(f"PAS submit answered in {took:.2f} s while the worker was busy")
    finally:
        busy.join()
    assert done[1] > answered, "the worker finished before the submit answered: not busy at the time"
    with state.factory() as s:
        assert done and store.get_case(s, done[0]).status == "ready"  # the worker was really at work


def test_the_case_page_shows_the_request_came_by_pas_with_its_identifier(env):
    client, tokens, state = env
    r = submit(client, tokens["ina"], pas_bundle("REQ-PAGE-1", pdf_and_text()[1:]))
    case_id = claim_response(r.json())["identifier"][0]["value"]
    page = TestClient(client.app)
    login(page, "rev")
    html = page.get(f"/cases/{case_id}").text
    assert 'id="pas-request"' in html and "REQ-PAGE-1" in html and "http://provider.example.org/claims" in html
    with state.factory() as s:
        uploaded = store.create_case(s, None, [("n.txt", b"plain upload")], state.data_dir)[0].id
        s.commit()
    assert 'id="pas-request"' not in page.get(f"/cases/{uploaded}").text


def test_inquire_takes_the_bundle_wrapped_in_parameters_too(env):
    client, tokens, _ = env
    submit(client, tokens["ina"], pas_bundle("REQ-PARAM-1", pdf_and_text()[1:]))
    body = {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": inquiry("REQ-PARAM-1")}]}
    r = client.post("/fhir/Claim/$inquire", headers={**tokens["ina"], **FHIR}, json=body)
    assert r.status_code == 200, r.text
    assert claim_response(r.json())["request"]["identifier"]["value"] == "REQ-PARAM-1"
    r = client.post("/fhir/Claim/$inquire", headers={**tokens["ina"], **FHIR}, json={"resourceType": "Parameters"})
    assert r.status_code == 400 and "resource" in r.json()["issue"][0]["diagnostics"]


def test_the_upload_size_limit_applies_and_answers_an_operation_outcome(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, max_upload_bytes=64 * 1024), workers=0)
    add_users(app.state.extractor.factory)
    with TestClient(app) as client:
        token = bearer(client, "ina")
        big = [("big.txt", "text/plain", b"Office visit note. " * 4000)]
        r = submit(client, token, pas_bundle("REQ-BIG-1", big))
        assert r.status_code == 413 and r.json()["resourceType"] == "OperationOutcome"
        assert "limit of 65536 bytes" in r.json()["issue"][0]["diagnostics"]
        with app.state.extractor.factory() as s:
            assert store.list_cases(s) == []


def test_a_stat_claim_is_an_expedited_case_received_at_submission(env):
    from datetime import timedelta

    client, tokens, state = env
    before = store.utcnow().replace(microsecond=0)
    stat = claim_response(submit(client, tokens["ina"], pas_bundle("REQ-CLOCK-STAT", pdf_and_text(),
                                                                  priority="stat")).json())  # fmt: skip
    normal = claim_response(submit(client, tokens["ina"], pas_bundle("REQ-CLOCK-NORMAL", pdf_and_text())).json())
    with state.factory() as s:
        fast, slow = (
            store.get_case(s, stat["identifier"][0]["value"]),
            store.get_case(s, normal["identifier"][0]["value"]),
        )
        assert (fast.urgency, fast.urgency_source, fast.received_source) == ("expedited", "given", "given")
        assert fast.received_at == store.pas_request_of(s, fast.id).received_at and fast.received_at >= before
        assert fast.due_at - fast.received_at == timedelta(hours=72)
        assert (slow.urgency, slow.due_at - slow.received_at) == ("standard", timedelta(days=7))
    got = client.get(f"/api/cases/{fast.id}", headers=tokens["rev"]).json()
    assert got["urgency"] == "expedited" and got["due_at"].endswith("Z")
