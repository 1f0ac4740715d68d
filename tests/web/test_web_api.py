"""The JSON API with a real SQLite store: every route and role, 401/403/404/413, the happy paths."""

import base64
import hashlib

import pytest
from fastapi.testclient import TestClient

from extractor.config import Settings
from extractor.render import fhir
from extractor.web import create_app, worker
from tests.helpers import PG_URL, add_users, bearer, fresh_url, make_pdf, needs, sample_case_files, sample_upload

LIMIT = 256 * 1024


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    data = tmp_path_factory.mktemp("web")
    app = create_app(Settings(data_dir=data, max_upload_bytes=LIMIT, login_max_failures=3), workers=0)
    state = app.state.extractor
    add_users(state.factory)
    with TestClient(app) as client:
        tokens = {name: bearer(client, name) for name in ("ina", "rev", "ada")}
        r = client.post("/api/cases", headers=tokens["ina"], files=[("files", sample_upload())])
        assert r.status_code == 201, r.text
        ready = r.json()["id"]
        assert worker.process_one(state.factory, state.data_dir) == ready
        yield client, tokens, ready, state


ROUTES = [
    ("post", "/api/cases"),
    ("get", "/api/cases"),
    ("get", "/api/cases/anything"),
    ("post", "/api/cases/anything/decision"),
    ("get", "/api/cases/anything/decisions"),
    ("get", "/api/cases/anything/fhir"),
    ("get", "/api/cases/anything/documents/1"),
    ("get", "/api/users"),
    ("post", "/api/users"),
    ("patch", "/api/users/anyone"),
    ("get", "/api/audit"),
    ("get", "/api/audit.csv"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_api_route_needs_a_bearer_token(env, method, path):
    client = env[0]
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
        r = getattr(client, method)(path, headers=headers)
        assert r.status_code == 401, (path, headers, r.text)
        assert r.json()["error"]["status"] == 401
        assert r.headers["www-authenticate"] == "Bearer"


def test_a_session_cookie_is_no_api_token(env):
    client = env[0]
    r = client.get("/api/cases", cookies={"extractor_session": "whatever"})
    assert r.status_code == 401


def test_token_refuses_a_wrong_password_and_rate_limits(env):
    client = env[0]
    for _ in range(3):
        r = client.post("/api/token", data={"username": "rev2", "password": "guess"})
        assert r.status_code == 401
        assert r.json() == {"error": {"status": 401, "message": "wrong user name or password"}}
    assert client.post("/api/token", data={"username": "rev2", "password": "guess"}).status_code == 429


def test_upload_returns_201_and_the_case_is_queued_then_ready(env):
    client, tokens, _, state = env
    r = client.post(
        "/api/cases", headers=tokens["ina"], files=[("files", (n, d)) for n, d in sample_case_files("c11_")]
    )
    assert r.status_code == 201 and r.json()["status"] == "queued" and r.json()["duplicates"] == []
    case_id = r.json()["id"]
    got = client.get(f"/api/cases/{case_id}", headers=tokens["ina"]).json()
    clock = {k: got.pop(k) for k in ("urgency", "received_at", "due_at", "decided_at")}
    assert got == {"id": case_id, "status": "queued", "error": None, "decision": None, "review": None}
    assert clock["urgency"] == "standard" and clock["received_at"].endswith("Z") and clock["decided_at"] is None
    worker.process_one(state.factory, state.data_dir)
    got = client.get(f"/api/cases/{case_id}", headers=tokens["rev"]).json()
    assert got["status"] == "ready"
    assert got["review"]["recommendation"] == "experimental_investigational"
    assert [i["id"] for i in got["review"]["indications"]][:2] == [
        "recurrence_vs_treatment_effect",
        "tumor_vs_nontumor",
    ]


def test_ready_pdf_case_has_the_review_with_pages_and_boxes(env):
    client, tokens, ready, _ = env
    r = client.get(f"/api/cases/{ready}", headers=tokens["rev"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    review = r.json()["review"]
    assert review["recommendation"] == "likely_meets_criteria"
    # the fax packet is split into its documents (office note, MRI report), pages counted in the file
    parts = review["documents"]
    assert len(parts) > 1 and {d["source"] for d in parts} == {"fax_packet.pdf"}
    assert [d["name"] for d in parts] == [f"fax_packet.pdf#{k}" for k in range(1, len(parts) + 1)]
    assert sum(d["pages"] for d in parts) == 3
    necrosis = next(f for f in review["findings"] if f["concept"] == "TREATMENT_EFFECT")
    assert necrosis["page"] == 2 and len(necrosis["bbox"]) == 4


def test_duplicate_upload_is_reported(env):
    client, tokens, ready, _ = env
    r = client.post("/api/cases", headers=tokens["ada"], files=[("files", sample_upload())])
    assert r.status_code == 201
    assert r.json()["duplicates"] == [{"name": "fax_packet.pdf", "case_id": ready}]


def test_upload_roles_and_limits(env):
    client, tokens, *_ = env
    assert client.post("/api/cases", headers=tokens["rev"], files=[("files", sample_upload())]).status_code == 403
    big = make_pdf([["x" * 80] * 40] * 200)
    assert len(big) > LIMIT
    r = client.post("/api/cases", headers=tokens["ina"], files=[("files", ("big.pdf", big))])
    assert r.status_code == 413 and "limit" in r.json()["error"]["message"]
    png = ("scan.pdf", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)  # named .pdf, is not one
    r = client.post("/api/cases", headers=tokens["ina"], files=[("files", png)])
    assert r.status_code == 415 and r.json()["error"]["message"] == "scan.pdf: not a PDF or a text file"
    assert client.post("/api/cases", headers=tokens["ina"]).status_code == 422
    bad_date = client.post(
        "/api/cases", headers=tokens["ina"], files=[("files", sample_upload())], data={"request_date": "03/12/2026"}
    )
    assert bad_date.status_code == 422


def test_unknown_case_is_404(env):
    client, tokens, *_ = env
    assert client.get("/api/cases/nope", headers=tokens["rev"]).status_code == 404
    r = client.post("/api/cases/nope/decision", headers=tokens["rev"], json={"decision": "approve"})
    assert r.status_code == 404 and r.json()["error"]["message"] == "no such case"
    assert client.get("/api/cases/nope/decisions", headers=tokens["rev"]).status_code == 404
    r = client.get("/api/cases/nope/fhir", headers=tokens["rev"])
    assert r.status_code == 404 and r.json() == {"error": {"status": 404, "message": "no such case"}}


def test_decision_roles_values_and_overrides(env):
    client, tokens, ready, _ = env
    url = f"/api/cases/{ready}/decision"
    assert client.post(url, headers=tokens["ina"], json={"decision": "approve"}).status_code == 403
    assert client.post(url, headers=tokens["rev"], json={"decision": "deny"}).status_code == 422
    bad = client.post(url, headers=tokens["rev"], json={"decision": "approve", "overrides": {"stroke": "supported"}})
    assert bad.status_code == 422 and "status must be" in bad.json()["error"]["message"]
    r = client.post(
        url,
        headers=tokens["rev"],
        json={
            "decision": "refer_to_physician",
            "note": "margin ambiguous",
            "overrides": {"recurrence_vs_treatment_effect": "partial"},
        },
    )
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["by"] == "rev" and body["decision"] == "refer_to_physician"
    assert body["overrides"] == [
        {"indication": "recurrence_vs_treatment_effect", "prefilled": "supported", "status": "partial"}
    ]
    assert client.get(f"/api/cases/{ready}/decisions", headers=tokens["ina"]).status_code == 403
    history = client.get(f"/api/cases/{ready}/decisions", headers=tokens["rev"]).json()["decisions"]
    assert history[-1]["note"] == "margin ambiguous" and history[-1]["by"] == "rev"
    assert client.get(f"/api/cases/{ready}", headers=tokens["rev"]).json()["decision"] == "refer_to_physician"


def test_decision_on_a_case_not_ready_is_409(env):
    client, tokens, *_ = env
    r = client.post("/api/cases", headers=tokens["ina"], files=[("files", ("n.txt", b"Glioblastoma, s/p XRT. MRS."))])
    case_id = r.json()["id"]
    r = client.post(f"/api/cases/{case_id}/decision", headers=tokens["ada"], json={"decision": "approve"})
    assert r.status_code == 409 and "queued" in r.json()["error"]["message"]


def test_case_list_filters(env):
    client, tokens, ready, _ = env
    cases = client.get("/api/cases", params={"status": "ready"}, headers=tokens["rev"]).json()["cases"]
    assert ready in [c["id"] for c in cases] and all(c["status"] == "ready" for c in cases)
    mine = next(c for c in cases if c["id"] == ready)
    assert mine["member_id"] == "XJH448812" and "76390" in mine["cpt_codes"]
    assert client.get("/api/cases", params={"status": "bogus"}, headers=tokens["rev"]).status_code == 422


def test_only_admin_manages_users(env):
    client, tokens, *_ = env
    new = {"name": "nurse2", "role": "reviewer", "password": "long enough pw"}
    for who in ("ina", "rev"):
        assert client.get("/api/users", headers=tokens[who]).status_code == 403
        assert client.post("/api/users", headers=tokens[who], json=new).status_code == 403
    assert client.post("/api/users", headers=tokens["ada"], json=new).status_code == 201
    assert client.post("/api/users", headers=tokens["ada"], json=new).status_code == 409
    names = [u["name"] for u in client.get("/api/users", headers=tokens["ada"]).json()["users"]]
    assert "nurse2" in names
    r = client.post("/api/token", data={"username": "nurse2", "password": "long enough pw"})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"


def test_audit_log_records_views_and_decisions_and_only_admin_reads_it(env):
    client, tokens, ready, _ = env
    client.get(f"/api/cases/{ready}", headers=tokens["rev"])
    for who in ("ina", "rev"):
        assert client.get("/api/audit", headers=tokens[who]).status_code == 403
        assert client.get("/api/audit.csv", headers=tokens[who]).status_code == 403
    events = client.get("/api/audit", params={"case_id": ready}, headers=tokens["ada"]).json()["events"]
    views = [e for e in events if e["action"] == "case_viewed"]
    assert views and views[0]["user"] == "rev" and views[0]["client"] == "testclient" and views[0]["at"].endswith("Z")
    assert any(e["action"] == "case_uploaded" and e["user"] == "ina" for e in events)
    csv = client.get("/api/audit.csv", headers=tokens["ada"])
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "id,at,username,action,case_id,document_id,detail,client"
    assert f",rev,case_viewed,{ready}," in csv.text


def test_health_needs_no_token(env):
    assert env[0].get("/healthz").json() == {"status": "ok"}


def test_a_streamed_upload_without_content_length_is_cut_off_at_the_limit(env):
    client, tokens, *_ = env

    def body():
        yield b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.pdf"\r\n\r\n%PDF-1.4\n'
        for _ in range(LIMIT // 4096 + 2):
            yield b"0" * 4096

    headers = {**tokens["ina"], "content-type": "multipart/form-data; boundary=b"}
    r = client.post("/api/cases", headers=headers, content=body())
    assert "content-length" not in r.request.headers
    assert r.status_code == 413 and r.json()["error"]["message"] == f"upload larger than the limit of {LIMIT} bytes"


def test_admin_deactivates_a_user_and_their_tokens_stop_working(env):
    client, tokens, *_ = env
    new = {"name": "temp.nurse", "role": "reviewer", "password": "long enough pw"}
    assert client.post("/api/users", headers=tokens["ada"], json=new).status_code == 201
    r = client.post("/api/token", data={"username": "temp.nurse", "password": "long enough pw"})
    theirs = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.get("/api/cases", headers=theirs).status_code == 200
    assert client.patch("/api/users/temp.nurse", headers=tokens["rev"], json={"active": False}).status_code == 403
    r = client.patch("/api/users/temp.nurse", headers=tokens["ada"], json={"active": False})
    assert r.status_code == 200 and r.json()["active"] is False
    assert client.get("/api/cases", headers=theirs).status_code == 401
    assert client.post("/api/token", data={"username": "temp.nurse", "password": "long enough pw"}).status_code == 401
    assert client.patch("/api/users/nobody", headers=tokens["ada"], json={"active": False}).status_code == 404
    assert client.patch("/api/users/ada", headers=tokens["ada"], json={"active": False}).status_code == 422


@needs(bool(PG_URL), "PostgreSQL (EXTRACTOR_TEST_PG_URL)")
def test_the_api_works_the_same_on_postgresql(tmp_path):
    app = create_app(Settings(data_dir=tmp_path), db_url=fresh_url("postgresql", tmp_path), workers=0)
    state = app.state.extractor
    add_users(state.factory)
    with TestClient(app) as client:
        ina, rev = bearer(client, "ina"), bearer(client, "rev")
        case_id = client.post("/api/cases", headers=ina, files=[("files", sample_upload())]).json()["id"]
        assert worker.process_one(state.factory, state.data_dir) == case_id
        got = client.get(f"/api/cases/{case_id}", headers=rev).json()
        assert got["status"] == "ready" and got["review"]["recommendation"] == "likely_meets_criteria"
        r = client.post(f"/api/cases/{case_id}/decision", headers=rev, json={"decision": "request_information"})
        assert r.status_code == 201
        ada = bearer(client, "ada")
        actions = [e["action"] for e in client.get("/api/audit", headers=ada).json()["events"]]
        assert {"case_uploaded", "case_viewed", "decision_recorded"} <= set(actions)


# --- FHIR bundle and the reviewer's rationale -------------------------------------------------------


def resource(bundle: dict, kind: str) -> dict:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind)


def answers(qr: dict) -> dict[str, dict]:
    """linkId -> first answer, over the QuestionnaireResponse's groups."""
    return {i["linkId"]: i["answer"][0] for group in qr["item"] for i in group["item"]}


def ext(node: dict, url_end: str) -> list[dict]:
    return [e for e in node.get("extension", []) if e["url"].endswith(url_end)]


def test_fhir_bundle_is_409_until_the_case_is_ready_then_describes_the_stored_files(env):
    client, tokens, _, state = env
    name, data = "office_note.txt", sample_case_files("c01_")[0][1]
    case_id = client.post("/api/cases", headers=tokens["ina"], files=[("files", (name, data))]).json()["id"]
    r = client.get(f"/api/cases/{case_id}/fhir", headers=tokens["rev"])
    assert r.status_code == 409
    assert r.json() == {"error": {"status": 409, "message": "case is queued, not ready"}}
    for _ in range(10):  # earlier tests may have left cases queued before this one
        if worker.process_one(state.factory, state.data_dir) in (case_id, None):
            break
    r = client.get(f"/api/cases/{case_id}/fhir", headers=tokens["ina"])  # any role that may read the case
    assert r.status_code == 200 and r.headers["content-type"] == "application/fhir+json"
    doc = resource(fhir.validate(r.json()), "DocumentReference")
    attachment = doc["content"][0]["attachment"]
    assert attachment["title"] == name and attachment["contentType"] == "text/plain"
    assert attachment["size"] == len(data)
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(data).digest()).decode()
    # the attachment's url is the authenticated API download of the very bytes uploaded
    path = attachment["url"].removeprefix("http://testserver")
    assert path.startswith(f"/api/cases/{case_id}/documents/")
    assert client.get(path).status_code == 401
    got = client.get(path, headers=tokens["rev"])
    assert got.status_code == 200 and got.content == data
    assert client.get(f"/api/cases/{case_id}/documents/999999", headers=tokens["rev"]).status_code == 404
    events = client.get("/api/audit", params={"case_id": case_id}, headers=tokens["ada"]).json()["events"]
    assert any(e["action"] == "document_downloaded" and e["detail"] == f"{name} (api)" for e in events)


def test_fhir_bundle_answers_the_questionnaire_from_the_stored_review(env):
    client, tokens, ready, _ = env
    review = client.get(f"/api/cases/{ready}", headers=tokens["rev"]).json()["review"]
    r = client.get(f"/api/cases/{ready}/fhir", headers=tokens["rev"])
    assert r.status_code == 200, r.text
    bundle = fhir.validate(r.json())
    qr = resource(bundle, "QuestionnaireResponse")
    assert qr["identifier"]["value"] == ready and qr["subject"]["identifier"]["value"] == "XJH448812"
    got = answers(qr)
    for ind in review["indications"]:
        assert got[ind["id"]]["valueCoding"]["code"] == ind["status"], ind["id"]
        quotes = [q["valueString"] for e in ext(got[ind["id"]], "/evidence") for q in ext(e, "quote")]
        assert quotes == [f["text"] for f in ind["evidence"]]
    for item in review["documentation"]:
        assert got[item["id"]]["valueCoding"]["code"] == item["status"], item["id"]
    assert got["recommendation"]["valueCoding"]["code"] == review["recommendation"] == "likely_meets_criteria"
    assert got["rationale"]["valueString"] == review["rationale"] and not ext(got["rationale"], "draft-rationale")
    # a packet's parts each have a DocumentReference linking to the uploaded file they came from
    docs = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference"]
    assert [d["description"] for d in docs] == [d["name"] for d in review["documents"]]
    url = docs[0]["content"][0]["attachment"]["url"].removeprefix("http://testserver")
    assert client.get(url, headers=tokens["rev"]).content == sample_upload()[1]
    events = client.get("/api/audit", params={"case_id": ready}, headers=tokens["ada"]).json()["events"]
    assert any(e["action"] == "case_viewed" and e["detail"] == "api fhir" and e["user"] == "rev" for e in events)


EDITED = "Recurrence versus radiation necrosis at the resection margin (MRI 03/01/2026, p. 2): covered indication 1."


def test_a_reviewers_rationale_is_stored_beside_the_draft_and_answers_in_the_bundle(env):
    client, tokens, ready, _ = env
    draft = client.get(f"/api/cases/{ready}", headers=tokens["rev"]).json()["review"]["rationale"]
    url = f"/api/cases/{ready}/decision"
    r = client.post(url, headers=tokens["rev"], json={"decision": "approve", "rationale": EDITED + "\r\n"})
    assert r.status_code == 201 and r.json()["rationale"] == EDITED and r.json()["by"] == "rev"
    # a later decision without a rationale does not take the reviewer's text away
    assert client.post(url, headers=tokens["ada"], json={"decision": "approve"}).json()["rationale"] is None
    history = client.get(f"/api/cases/{ready}/decisions", headers=tokens["rev"]).json()["decisions"]
    assert [d["rationale"] for d in history[-2:]] == [EDITED, None]
    assert client.get(f"/api/cases/{ready}", headers=tokens["rev"]).json()["review"]["rationale"] == draft
    bundle = fhir.validate(client.get(f"/api/cases/{ready}/fhir", headers=tokens["rev"]).json())
    answer = answers(resource(bundle, "QuestionnaireResponse"))["rationale"]
    assert answer["valueString"] == EDITED
    assert [e["valueString"] for e in ext(answer, "draft-rationale")] == [draft]
    origin = ext(answer, "information-origin")[0]
    assert {"url": "source", "valueCode": "override"} in origin["extension"]
    assert "'display': 'rev'" in str(origin)
    csv = client.get("/api/audit.csv", headers=tokens["ada"]).text
    assert "approve; overrides: none; rationale: edited" in csv and EDITED not in csv


def test_upload_takes_urgency_and_received_at_and_the_case_answers_its_clock(env):
    client, tokens, _, _ = env
    r = client.post(
        "/api/cases",
        headers=tokens["ina"],
        files=[("files", sample_upload())],
        data={"urgency": "expedited", "received_at": "2026-03-03T09:05:00-05:00"},
    )
    assert r.status_code == 201, r.text
    assert (r.json()["urgency"], r.json()["received_at"], r.json()["due_at"]) == (
        "expedited", "2026-03-03T14:05:00Z", "2026-03-06T14:05:00Z")  # fmt: skip
    got = client.get(f"/api/cases/{r.json()['id']}", headers=tokens["rev"]).json()
    assert {k: got[k] for k in ("urgency", "received_at", "due_at", "decided_at")} == {
        "urgency": "expedited", "received_at": "2026-03-03T14:05:00Z", "due_at": "2026-03-06T14:05:00Z",
        "decided_at": None}  # fmt: skip
    plain = client.post("/api/cases", headers=tokens["ina"], files=[("files", sample_upload())]).json()
    assert plain["urgency"] == "standard" and plain["received_at"].endswith("Z") and plain["decided_at"] is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("urgency", "urgent-ish", "urgency: must be one of expedited, standard"),
        ("received_at", "yesterday", "received_at: not a date and time"),
        ("received_at", "2026-03-03", "received_at: not a date and time"),
        ("received_at", "2999-01-01T00:00:00Z", "received_at: in the future"),
    ],
)
def test_a_bad_urgency_or_received_at_is_a_400_in_the_one_error_shape(env, field, value, message):
    client, tokens, _, _ = env
    r = client.post("/api/cases", headers=tokens["ina"], files=[("files", sample_upload())], data={field: value})
    assert r.status_code == 400
    assert r.json()["error"]["status"] == 400 and r.json()["error"]["message"].startswith(message)


def test_sort_due_lists_undecided_cases_soonest_due_first(env):
    client, tokens, _, _ = env
    made = {}
    for name, urgency, received in [
        ("standard-early", "standard", "2026-03-01T08:00:00Z"),  # due 03-08 08:00
        ("expedited-late", "expedited", "2026-03-06T09:00:00Z"),  # due 03-09 09:00
        ("expedited-early", "expedited", "2026-03-02T09:00:00Z"),  # due 03-05 09:00
    ]:
        r = client.post("/api/cases", headers=tokens["ina"], files=[("files", sample_upload())],
                        data={"urgency": urgency, "received_at": received})  # fmt: skip
        made[r.json()["id"]] = name
    listed = client.get("/api/cases?sort=due", headers=tokens["rev"]).json()["cases"]
    assert [made[c["id"]] for c in listed if c["id"] in made] == ["expedited-early", "standard-early", "expedited-late"]
    assert all(c["decision"] is None for c in listed)
    dues = [c["due_at"] for c in listed]
    assert dues == sorted(dues)
