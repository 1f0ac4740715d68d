"""Issue 12 (web security): reads scoped by role, tokens that end for good, login limits, uploads that make
an anonymous client cost nothing, a formula-safe audit CSV, one error shape, hosts, purge."""

import csv
import io
import re
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
from extractor.web.deps import LoginLimiter, SharedLoginLimiter
from tests.helpers import (
    PASSWORD,
    PG_URL,
    add_users,
    backends,
    bearer,
    fresh_url,
    login,
    make_pdf,
    needs,
    prefilled,
    sample_upload,
)


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


@pytest.mark.parametrize("backend", backends())
def test_login_limits_hold_across_server_instances_sharing_one_database(backend, tmp_path):
    """Two instances of the server on one database (as behind a load balancer): a guesser who spreads tries
    over both is stopped at the same count as against one, and a cleared count lets the right password in
    on the other. On PostgreSQL the counters are shared by default ("auto"); on SQLite when asked."""
    url = fresh_url(backend, tmp_path)
    counters = "auto" if backend == "postgresql" else "database"
    apps = [
        create_app(Settings(data_dir=tmp_path / f"i{i}", login_counters=counters), db_url=url, workers=0)
        for i in range(2)
    ]
    assert all(isinstance(a.state.extractor.limiter, SharedLoginLimiter) for a in apps)
    add_users(apps[0].state.extractor.factory)
    clients = [TestClient(a) for a in apps]

    def attempt(i: int, password: str = "wrong") -> int:
        return clients[i % 2].post("/api/token", data={"username": "rev", "password": password}).status_code

    assert [attempt(i) for i in range(5)] == [401] * 5  # the limit (5 per name) spread over both instances
    assert attempt(0, PASSWORD) == attempt(1, PASSWORD) == 429
    limiter = apps[1].state.extractor.limiter
    with apps[0].state.extractor.factory() as s:
        store.clear_failures(s, "name", "rev")
        s.commit()
    assert attempt(1, PASSWORD) == 200 and not limiter.blocked("testclient", "rev")
    assert isinstance(create_app(Settings(data_dir=tmp_path / "m"), workers=0).state.extractor.limiter, LoginLimiter)


def test_shared_login_counters_stay_bounded(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, login_counters="database", login_tracked_keys=20), workers=0)
    limiter = app.state.extractor.limiter
    for i in range(200):
        limiter.failed(f"10.0.{i}.1", f"name{i}")
    assert limiter.tracked() <= 40
    for _ in range(5):
        limiter.failed("10.9.9.9", "victim")
    assert limiter.blocked("10.8.8.8", "victim")  # the most recent are kept


# --- 4. an anonymous client cannot make the server work -----------------------------------------------


def raw_request(base: str, head: str, body: bytes = b"", wait: float = 5.0) -> tuple[str, float]:
    """Send a request's head and the start of its body, then nothing: (the status line, seconds to it)."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=wait) as sock:
        start = time.monotonic()
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        try:
            answer = sock.recv(4096).decode("latin1")
        except TimeoutError:
            return "no answer", time.monotonic() - start
        return answer.split("\r\n", 1)[0], time.monotonic() - start


UPLOAD_HEAD = (
    "POST {path} HTTP/1.1\nHost: 127.0.0.1\n{auth}Content-Type: multipart/form-data; boundary=b\n"
    "Content-Length: 10000000\n"
)
PART = b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.pdf"\r\n\r\n%PDF-1.4\n'


def test_credentials_are_checked_before_an_upload_body_is_read(tmp_path):
    app = fresh_app(tmp_path, body_idle_seconds=20)
    with live(app) as base:
        for path, expected in (("/api/cases", "401"), ("/intake/upload", "303")):
            status, took = raw_request(base, UPLOAD_HEAD.format(path=path, auth=""), PART)
            assert expected in status and took < 3, (path, status, took)
        token = httpx.post(base + "/api/token", data={"username": "rev", "password": PASSWORD}).json()
        auth = f"Authorization: Bearer {token['access_token']}\n"
        status, took = raw_request(base, UPLOAD_HEAD.format(path="/api/cases", auth=auth), PART)
        assert "403" in status and took < 3  # the wrong role: no body read either


def test_a_stalled_upload_body_is_cut_off(tmp_path):
    app = fresh_app(tmp_path, body_idle_seconds=1)
    with live(app) as base:
        token = httpx.post(base + "/api/token", data={"username": "ina", "password": PASSWORD}).json()
        auth = f"Authorization: Bearer {token['access_token']}\n"
        status, took = raw_request(base, UPLOAD_HEAD.format(path="/api/cases", auth=auth), PART, wait=8)
        assert "408" in status and 0.9 < took < 5, (status, took)
        # a body that keeps flowing is not cut off
        r = httpx.post(base + "/api/cases", headers={"Authorization": f"Bearer {token['access_token']}"},
                       files=[("files", sample_upload())], timeout=30)  # fmt: skip
        assert r.status_code == 201


def test_an_over_long_name_or_password_is_refused_before_hashing_and_hashing_is_bounded(tmp_path):
    app = fresh_app(tmp_path, password_hash_workers=1, password_hash_waiting=0, password_hash_wait_seconds=0.2)
    with TestClient(app) as client, app.state.extractor.hashing.slot():  # the one hashing slot is taken
        r = client.post("/api/token", data={"username": "rev", "password": PASSWORD})
        assert r.status_code == 503 and r.headers["retry-after"] == "1" and r.json()["error"]["status"] == 503
        for name, password in (("rev", "p" * 5000), ("x" * 101, PASSWORD)):
            r = client.post("/api/token", data={"username": name, "password": password})
            assert r.status_code == 401  # answered without waiting for the pool: nothing was hashed
    with TestClient(app) as client:
        assert client.post("/api/token", data={"username": "rev", "password": PASSWORD}).status_code == 200
        r = client.post("/api/token", data={"username": "rev", "password": "p" * (2 * 1024 * 1024)})
        assert r.status_code == 413  # a login body is small: 1 MiB at most


# --- 5. the audit CSV ---------------------------------------------------------------------------------


def test_the_audit_csv_neutralises_formulas_in_every_cell(env):
    app, client, tokens, *_ = env
    hostile = ["=HYPERLINK(1)", "+1+1", "-2", "@SUM(A1)", "\t=1", "\r=1"]
    with app.state.extractor.factory() as s:
        for value in hostile:
            s.add(store.AuditEvent(username=value, action=value, case_id=value, detail=value, client=value))
        s.commit()
    rows = list(csv.reader(io.StringIO(client.get("/api/audit.csv", headers=tokens["ada"]).text)))
    cells = [c for row in rows[1:] for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    for value in hostile:
        assert sum(c == "'" + value for c in cells) == 5  # every text cell of the row, kept readable


# --- 6. the rest ----------------------------------------------------------------------------------------


def test_the_login_forms_csrf_token_is_minted_fresh_never_echoed(env):
    app = env[0]
    browser = TestClient(app)
    browser.cookies.set("extractor_login_csrf", "planted-by-an-attacker")
    page = browser.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert token != "planted-by-an-attacker" and "planted-by-an-attacker" not in page.headers["set-cookie"]
    assert token in page.headers["set-cookie"]
    form = {"username": "rev", "password": PASSWORD, "csrf_token": token}
    r = browser.post("/login", data=form, follow_redirects=False)
    assert r.status_code == 303


def test_list_views_and_decision_reads_are_audited(env):
    app, client, tokens, mine, _ = env
    client.get("/api/cases", headers=tokens["rev"])
    client.get(f"/api/cases/{mine}/decisions", headers=tokens["rev"])
    reviewer = TestClient(app)
    login(reviewer, "rev")
    reviewer.get("/queue")
    with app.state.extractor.factory() as s:
        listed = [e.detail for e in store.audit_events(s, action="cases_listed") if e.username == "rev"]
        read = [e.case_id for e in store.audit_events(s, action="decisions_viewed")]
    assert any(d.startswith("api ") for d in listed) and any(d.startswith("queue ") for d in listed)
    assert mine in read


def test_every_error_has_the_one_shape(env, caplog):
    app, client, tokens, mine, _ = env
    for method, path, status in (("get", "/api/nothing-here", 404), ("put", "/api/cases", 405),
                                 ("get", "/api/cases?sort=sideways", 422)):  # fmt: skip
        r = client.request(method, path, headers=tokens["rev"])
        assert r.status_code == status and set(r.json()) == {"error"}, (path, r.text)
        assert r.json()["error"]["status"] == status and r.json()["error"]["message"]
    r = client.get("/fhir/Nothing", headers=tokens["rev"])
    assert r.status_code == 404 and r.json()["resourceType"] == "OperationOutcome"
    # a stored review that no longer parses: a bug's 500 answers in the shape too, and logs no content
    with app.state.extractor.factory() as s:
        row = s.get(store.ReviewRow, mine)
        kept, row.review_json = row.review_json, '{"patient": "SECRET PATIENT TEXT"}'
        row.created_at = store.utcnow()  # a new review: no cached Bundle answers for it
        s.commit()
    try:
        quiet = TestClient(app, raise_server_exceptions=False)
        with caplog.at_level("ERROR"):
            r = quiet.get(f"/api/cases/{mine}/fhir", headers=tokens["rev"])
        assert r.status_code == 500 and r.json() == {"error": {"status": 500, "message": "internal error"}}
        assert "ValidationError" in caplog.text and "SECRET PATIENT TEXT" not in caplog.text
    finally:
        with app.state.extractor.factory() as s:
            row = s.get(store.ReviewRow, mine)
            row.review_json, row.created_at = kept, store.utcnow()
            s.commit()


def test_an_unknown_host_is_refused_and_bundle_links_use_the_configured_base_url(env):
    app, client, tokens, mine, _ = env
    r = client.get("/api/cases", headers={**tokens["rev"], "Host": "attacker.example"})
    assert r.status_code == 400 and r.json()["error"]["status"] == 400
    assert client.get("/healthz", headers={"Host": "10.0.0.5"}).status_code == 200  # a probe by address
    assert client.get("/api/cases", headers={**tokens["rev"], "Host": "localhost:8000"}).status_code == 200
    state = app.state.extractor
    public = create_app(
        Settings(data_dir=state.data_dir, public_base_url="https://mrs.example.org/"), db_url=state.url, workers=0
    )
    with TestClient(public) as other:
        bundle = other.get(f"/api/cases/{mine}/fhir", headers=bearer(other, "rev")).json()
    urls = [e["resource"]["content"][0]["attachment"]["url"] for e in bundle["entry"]
            if e["resource"]["resourceType"] == "DocumentReference"]  # fmt: skip
    assert urls and all(u.startswith(f"https://mrs.example.org/api/cases/{mine}/documents/") for u in urls)


def test_imported_case_ids_are_validated(tmp_path):
    _, factory = store.open_store(store.default_url(tmp_path))
    _, review, _ = prefilled("c01_gbm_recurrence_vs_necrosis")
    with factory() as s:
        for bad in ("../../etc", "=cmd()", "<script>", "", "x" * 201, "-flag", "a b"):
            with pytest.raises(store.StoreError, match="case id"):
                store.save_imported_case(s, bad, [("n.txt", b"note")], review, tmp_path)
        assert store.save_imported_case(s, "c01_glioma.2026-03", [], review, tmp_path).status == "ready"


def test_a_failed_intake_leaves_no_files_behind(tmp_path):
    _, factory = store.open_store(store.default_url(tmp_path))
    with factory() as s, pytest.raises(store.StoreError):
        store.create_case(s, None, [("a.pdf", make_pdf([["x"]])), ("b.bin", b"\x00\xff" * 100)], tmp_path)
    assert list((tmp_path / "uploads").iterdir()) == []


def test_an_admin_purges_a_case_and_its_files(env):
    app, client, tokens, *_ = env
    state = app.state.extractor
    r = client.post("/api/cases", headers=tokens["ina"], files=[("files", ("purge-me.txt", b"Glioma. MRS asked."))])
    case_id = r.json()["id"]
    with state.factory() as s:
        stored = [store.stored_path(state.data_dir, d) for d in store.get_case(s, case_id).documents]
    assert all(p.is_file() for p in stored)
    for who in ("ina", "rev"):
        assert client.delete(f"/api/cases/{case_id}", headers=tokens[who]).status_code == 403
    r = client.delete(f"/api/cases/{case_id}", headers=tokens["ada"])
    assert r.status_code == 200 and r.json()["files_removed"] == 1
    assert not any(p.exists() for p in stored)
    assert client.get(f"/api/cases/{case_id}", headers=tokens["ada"]).status_code == 404
    assert client.delete(f"/api/cases/{case_id}", headers=tokens["ada"]).status_code == 404
    with state.factory() as s:
        purged = store.audit_events(s, case_id=case_id, action="case_purged")
    assert [e.username for e in purged] == ["ada"]


@needs(bool(PG_URL), "PostgreSQL (EXTRACTOR_TEST_PG_URL)")
def test_the_read_policy_revocation_and_purge_hold_on_postgresql(tmp_path):
    app = create_app(Settings(data_dir=tmp_path), db_url=fresh_url("postgresql", tmp_path), workers=0)
    add_users(app.state.extractor.factory)
    with app.state.extractor.factory() as s:
        store.add_user(s, "ivy", "intake", PASSWORD)
        s.commit()
    with TestClient(app) as client:
        ina, ivy, ada = bearer(client, "ina"), bearer(client, "ivy"), bearer(client, "ada")
        mine = client.post("/api/cases", headers=ina, files=[("files", ("n.txt", b"Glioma. MRS."))]).json()["id"]
        assert [c["id"] for c in client.get("/api/cases", headers=ina).json()["cases"]] == [mine]
        assert client.get("/api/cases", headers=ivy).json()["cases"] == []
        assert client.get(f"/api/cases/{mine}", headers=ivy).status_code == 404
        for active in (False, True):
            assert client.patch("/api/users/ivy", headers=ada, json={"active": active}).status_code == 200
        assert client.get("/api/cases", headers=ivy).status_code == 401
        assert client.delete(f"/api/cases/{mine}", headers=ada).json()["files_removed"] == 1
        assert client.get(f"/api/cases/{mine}", headers=ina).status_code == 404
