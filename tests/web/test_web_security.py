"""Issue 12 (web security): reads scoped by role, tokens that end for good, login limits, uploads that make
an anonymous client cost nothing, a formula-safe audit CSV, one error shape, hosts, purge."""

import pytest
from fastapi.testclient import TestClient

from extractor import store
from extractor.config import Settings
from extractor.web import create_app, worker
from tests.helpers import PASSWORD, add_users, bearer, login, sample_upload


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """Two intake users (ina, ivy) with one case each, ina's processed to ready; a reviewer and an admin."""
    data = tmp_path_factory.mktemp("security")
    app = create_app(Settings(data_dir=data), workers=0)
    state = app.state.extractor
    add_users(state.factory)
    with state.factory() as s:
        store.add_user(s, "ivy", "intake", PASSWORD)
        s.commit()
    with TestClient(app) as client:
        tokens = {name: bearer(client, name) for name in ("ina", "ivy", "rev", "ada")}
        mine = client.post("/api/cases", headers=tokens["ina"], files=[("files", ("ina-note.pdf", sample_upload()[1]))])
        theirs = client.post(
            "/api/cases", headers=tokens["ivy"], files=[("files", ("ivy-secret.txt", b"Glioblastoma. MRS."))]
        )
        assert mine.status_code == theirs.status_code == 201
        mine, theirs = mine.json()["id"], theirs.json()["id"]
        assert worker.process_one(state.factory, state.data_dir) == mine
        yield app, client, tokens, mine, theirs


def document_id(state, case_id: str) -> int:
    with state.factory() as s:
        return store.get_case(s, case_id).documents[0].id


# --- 1. one read policy -----------------------------------------------------------------------------


def test_an_intake_user_lists_and_reads_only_their_own_cases(env):
    app, client, tokens, mine, theirs = env
    listed = {c["id"] for c in client.get("/api/cases", headers=tokens["ina"]).json()["cases"]}
    assert listed == {mine}
    assert {c["id"] for c in client.get("/api/cases", headers=tokens["ivy"]).json()["cases"]} == {theirs}
    assert {mine, theirs} <= {c["id"] for c in client.get("/api/cases", headers=tokens["rev"]).json()["cases"]}
    own = client.get(f"/api/cases/{mine}", headers=tokens["ina"])
    assert own.status_code == 200 and own.json()["review"]["recommendation"]
    assert client.get(f"/api/cases/{mine}/fhir", headers=tokens["ina"]).status_code == 200
    nothing = client.get("/api/cases/no-such-case", headers=tokens["ina"]).json()
    for path in ("", "/fhir", "/decisions", f"/documents/{document_id(app.state.extractor, theirs)}"):
        r = client.get(f"/api/cases/{theirs}{path}", headers=tokens["ina"])
        assert r.status_code == 404 and r.json() == nothing, (path, r.text)  # no oracle: as a case that is not
    for who in ("rev", "ada"):
        assert client.get(f"/api/cases/{theirs}", headers=tokens[who]).status_code == 200


def test_an_intake_user_never_reads_documents_or_decisions_even_of_their_own_case(env):
    app, client, tokens, mine, _ = env
    doc = document_id(app.state.extractor, mine)
    assert client.get(f"/api/cases/{mine}/documents/{doc}", headers=tokens["ina"]).status_code == 403
    assert client.get(f"/api/cases/{mine}/decisions", headers=tokens["ina"]).status_code == 403
    assert client.get(f"/api/cases/{mine}/documents/{doc}", headers=tokens["rev"]).status_code == 200
    assert client.get(f"/api/cases/{mine}/decisions", headers=tokens["rev"]).status_code == 200


def test_the_intake_pages_show_only_the_users_own_uploads(env):
    app, _, _, mine, theirs = env
    page = TestClient(app)
    login(page, "ina")
    r = page.get("/intake")
    assert r.status_code == 200 and "ina-note.pdf" in r.text
    assert "ivy-secret.txt" not in r.text and theirs[:8] not in r.text
    assert set(page.get("/intake/statuses").json()) == {mine}
    assert page.get(f"/intake?case={theirs}").status_code == 404
    assert page.get(f"/cases/{theirs}").status_code == 404
    assert page.get(f"/cases/{mine}").status_code == 403  # the case page shows the documents
    assert page.get(f"/cases/{mine}/documents/{document_id(app.state.extractor, mine)}").status_code == 403
    assert page.get(f"/cases/{mine}/fhir").status_code == 200
    assert page.get(f"/cases/{theirs}/fhir").status_code == 404
    admin = TestClient(app)
    login(admin, "ada")
    assert {mine, theirs} <= set(admin.get("/intake/statuses").json())


# --- 2. tokens that end for good ---------------------------------------------------------------------


def new_user(client, tokens, name: str, role: str = "reviewer") -> None:
    r = client.post("/api/users", headers=tokens["ada"], json={"name": name, "role": role, "password": PASSWORD})
    assert r.status_code == 201, r.text


def test_reactivating_a_user_revives_none_of_their_old_tokens_or_sessions(env):
    app, client, tokens, *_ = env
    new_user(client, tokens, "temp.rev")
    old = bearer(client, "temp.rev")
    browser = TestClient(app)
    login(browser, "temp.rev")
    assert browser.get("/queue").status_code == 200
    for active in (False, True):
        r = client.patch("/api/users/temp.rev", headers=tokens["ada"], json={"active": active})
        assert r.status_code == 200 and r.json()["active"] is active
    assert client.get("/api/cases", headers=old).status_code == 401
    assert browser.get("/queue", follow_redirects=False).status_code == 303  # back to the login page
    assert client.get("/api/cases", headers=bearer(client, "temp.rev")).status_code == 200  # a new login works


def test_delete_token_revokes_the_presented_token_only(env):
    client = env[1]
    one, two = bearer(client, "rev"), bearer(client, "rev")
    assert client.delete("/api/token", headers=one).status_code == 204
    assert client.get("/api/cases", headers=one).status_code == 401
    assert client.delete("/api/token", headers=one).status_code == 401
    assert client.get("/api/cases", headers=two).status_code == 200


def test_changing_a_password_revokes_every_token(env):
    _, client, tokens, *_ = env
    new_user(client, tokens, "temp.pw")
    old = bearer(client, "temp.pw")
    r = client.patch("/api/users/temp.pw", headers=tokens["ada"], json={"password": "another long password"})
    assert r.status_code == 200, r.text
    assert client.get("/api/cases", headers=old).status_code == 401
    assert client.post("/api/token", data={"username": "temp.pw", "password": PASSWORD}).status_code == 401
    r = client.post("/api/token", data={"username": "temp.pw", "password": "another long password"})
    assert r.status_code == 200
    assert client.patch("/api/users/temp.pw", headers=tokens["ada"], json={"password": "short"}).status_code == 422
    assert client.patch("/api/users/temp.pw", headers=tokens["rev"], json={"password": PASSWORD}).status_code == 403
