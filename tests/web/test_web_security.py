"""Issue 12 (web security): reads scoped by role, tokens that end for good, login limits, uploads that make
an anonymous client cost nothing, a formula-safe audit CSV, one error shape, hosts, purge."""

import socket
import threading
import time
from contextlib import contextmanager

import httpx
import pytest
from fastapi.testclient import TestClient

from extractor import store
from extractor.config import Settings
from extractor.web import commands, create_app, worker
from extractor.web.deps import LoginLimiter
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


@contextmanager
def live(app):
    """The app served as `extractor serve` serves it (commands.server), on a free port of 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = commands.server(app, "127.0.0.1", port, log_level="warning")
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def fresh_app(tmp_path, **settings):
    app = create_app(Settings(data_dir=tmp_path, **settings), workers=0)
    add_users(app.state.extractor.factory)
    return app


def audit_clients(app, action: str) -> list[str]:
    with app.state.extractor.factory() as s:
        return [e.client for e in store.audit_events(s, action=action)]


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


# --- 3. login limits that hold ------------------------------------------------------------------------


def test_a_forged_x_forwarded_for_neither_escapes_the_limit_nor_forges_the_audit(tmp_path):
    app = fresh_app(tmp_path, login_max_failures=3)
    with live(app) as base:
        codes = [
            httpx.post(base + "/api/token", data={"username": "rev", "password": "guess"},
                       headers={"X-Forwarded-For": f"10.0.0.{i}"}, timeout=10).status_code
            for i in range(5)
        ]  # fmt: skip
    assert codes == [401, 401, 401, 429, 429]
    assert set(audit_clients(app, "login_failed")) == {"127.0.0.1"}


def test_behind_a_trusted_proxy_the_limit_holds_per_name_across_clients_and_per_client_across_names(tmp_path):
    app = fresh_app(tmp_path, login_max_failures=3, login_max_failures_per_client=4, trusted_proxies=["127.0.0.1"])
    with live(app) as base:

        def attempt(name: str, client: str, password: str = "guess") -> int:
            data = {"username": name, "password": password}
            r = httpx.post(base + "/api/token", data=data, headers={"X-Forwarded-For": client}, timeout=10)
            return r.status_code

        assert [attempt("rev", f"10.0.0.{i}") for i in range(4)] == [401, 401, 401, 429]  # one name, many clients
        assert attempt("rev", "10.0.0.9", PASSWORD) == 429  # blocked before the password is checked
        assert [attempt(f"user{i}", "10.1.1.1") for i in range(5)] == [401, 401, 401, 401, 429]  # one client
        assert attempt("ada", "10.1.1.1", PASSWORD) == 429
        assert attempt("ada", "10.2.2.2", PASSWORD) == 200  # another client is not held up
    assert {"10.0.0.0", "10.0.0.1", "10.0.0.2", "10.1.1.1"} <= set(audit_clients(app, "login_failed"))


def test_the_login_limiter_remembers_a_bounded_number_of_names_and_clients():
    limiter = LoginLimiter(3, 300, per_client=1_000_000, max_keys=50)
    for i in range(2000):
        limiter.failed(f"10.{i // 250}.{i % 250}.1", f"name{i}")
    assert limiter.tracked() <= 100
    for _ in range(3):
        limiter.failed("10.9.9.9", "victim")
    assert limiter.blocked("10.8.8.8", "victim")  # the most recent are kept
