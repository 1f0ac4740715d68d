"""What one read costs the store, on each backend: counted SQL statements and commits (never timings).

At 20 concurrent readers one server process's latency follows its CPU per read, much of it the store's work
(docs/benchmarks.md has what each part costs): each read checks its token, asks the read policy, reads, and
writes one audit row, in one transaction with one commit. These counts keep it so; the audit row is there for
another session once the answer is back."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from extractor import store
from extractor.config import Settings
from extractor.web import create_app, worker
from tests.helpers import SAMPLE_PAGES, add_users, backends, bearer, fresh_url, login, make_pdf


@dataclass
class Seen:
    statements: list[str] = field(default_factory=list)
    commits: int = 0


@contextmanager
def counting(engine) -> Iterator[Seen]:
    seen = Seen()

    def statement(conn, cursor, sql, *args) -> None:
        seen.statements.append(" ".join(sql.split())[:80])

    def commit(conn) -> None:
        seen.commits += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


@pytest.fixture(scope="module", params=backends())
def env(request, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("reads")
    url = fresh_url(request.param, tmp)
    app = create_app(Settings(data_dir=tmp / "data"), db_url=url, workers=0)
    state = app.state.extractor
    add_users(state.factory)
    with TestClient(app) as client:
        intake = bearer(client, "ina")
        ids = []
        for i in range(2):
            pages = [list(p) for p in SAMPLE_PAGES]
            pages[0].append(f"Reference {i}")  # two different files, two cases
            r = client.post("/api/cases", headers=intake, files=[("files", ("packet.pdf", make_pdf(pages)))])
            ids.append(r.json()["id"])
        while worker.process_one(state.factory, state.data_dir):
            pass
        pages = TestClient(app)
        login(pages, "rev")
        yield client, pages, bearer(client, "rev"), ids, state
    state.factory.kw["bind"].dispose()


def last_audit(state, case_id: str) -> store.AuditEvent:
    with state.factory() as s:  # another session: the row was committed before the answer
        return store.audit_events(s, case_id=case_id, limit=1)[0]


def test_an_api_review_read_is_three_statements_and_one_commit(env):
    client, _, rev, (case_id, _), state = env
    engine = state.factory.kw["bind"]
    for _ in range(2):  # the first read of a case costs the same as the next
        with counting(engine) as seen:
            r = client.get(f"/api/cases/{case_id}", headers=rev)
        assert r.status_code == 200 and r.json()["review"]["recommendation"]
        # the token, the case and its review (read policy), the audit row
        assert len(seen.statements) == 3, seen.statements
        assert seen.commits == 1
        assert seen.statements[-1].startswith("INSERT INTO audit_events")
        event = last_audit(state, case_id)
        assert (event.action, event.username, event.detail) == ("case_viewed", "rev", "api")


def test_a_case_page_read_is_one_commit_and_six_statements_at_most(env):
    _, pages, _, (_, case_id), state = env
    engine = state.factory.kw["bind"]
    with counting(engine) as cold:  # never shown before: its documents and review are read to draw it
        r = pages.get(f"/cases/{case_id}")
    assert r.status_code == 200 and "Robert Hale" in r.text
    with counting(engine) as warm:  # drawn from the fragments cache
        assert pages.get(f"/cases/{case_id}").status_code == 200
    assert len(cold.statements) <= 6, cold.statements
    # the session, the case (read policy), the review's time (is the cached drawing current?), the audit row;
    # no decisions query for a case never decided
    assert len(warm.statements) == 4, warm.statements
    assert cold.commits == warm.commits == 1
    assert last_audit(state, case_id).action == "case_viewed"


def test_a_revoked_token_fails_at_the_next_read(env):
    client, _, _, (case_id, _), _ = env
    token = bearer(client, "rev")
    assert client.get(f"/api/cases/{case_id}", headers=token).status_code == 200
    assert client.delete("/api/token", headers=token).status_code == 204
    assert client.get(f"/api/cases/{case_id}", headers=token).status_code == 401
