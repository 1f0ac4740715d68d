"""What one read costs the store, on each backend: counted SQL statements and commits (never timings).

At 20 concurrent readers one server process's latency follows its CPU per read, much of it the store's work
(docs/benchmarks.md has what each part costs): each read checks its token, asks the read policy, reads, and
writes one audit row, in one transaction with one commit. These counts keep it so; the audit row is there for
another session once the answer is back."""

import argparse
import gc
import hashlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace

import anyio.to_thread
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select, update

from extractor import store
from extractor.config import Settings
from extractor.web import commands, create_app, worker
from tests.helpers import PASSWORD, SAMPLE_PAGES, add_users, backends, bearer, fresh_url, login, make_pdf


@dataclass
class Seen:
    statements: list[str] = field(default_factory=list)
    commits: int = 0
    orm_loads: int = 0  # ORM objects built from rows
    hops: int = 0  # calls into the worker-thread pool


@contextmanager
def counting(engine) -> Iterator[Seen]:
    seen = Seen()
    to_thread = anyio.to_thread.run_sync  # what Starlette's and FastAPI's run_in_threadpool call

    def statement(conn, cursor, sql, *args) -> None:
        seen.statements.append(" ".join(sql.split())[:80])

    def commit(conn) -> None:
        seen.commits += 1

    def load(target, context) -> None:
        seen.orm_loads += 1

    async def hop(*args, **kwargs):
        seen.hops += 1
        return await to_thread(*args, **kwargs)

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    event.listen(store.Base, "load", load, propagate=True)
    anyio.to_thread.run_sync = hop
    try:
        yield seen
    finally:
        anyio.to_thread.run_sync = to_thread
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)
        event.remove(store.Base, "load", load)


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
        # Core statements (no ORM object built), one worker-thread hop from the event loop
        assert seen.orm_loads == 0 and seen.hops == 1, seen
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


def test_the_counters_see_orm_objects_and_hops(env):
    """The zeros above can fail: a route through the ORM user and its dependency (the decisions list) counts."""
    client, _, rev, (case_id, _), state = env
    with counting(state.factory.kw["bind"]) as seen:
        assert client.get(f"/api/cases/{case_id}/decisions", headers=rev).status_code == 200
    assert seen.orm_loads >= 2 and seen.hops >= 2, seen


def test_the_review_read_refuses_an_expired_token_and_an_inactive_user(env):
    """api_reader's own checks, whatever revoked the token or not: past its expiry, or its user deactivated."""
    client, _, _, (case_id, _), state = env
    for change in ("expired", "inactive"):
        token = bearer(client, "ina")  # an intake user reads their own upload
        assert client.get(f"/api/cases/{case_id}", headers=token).status_code == 200
        with state.factory() as s:
            digest = hashlib.sha256(token["Authorization"].split()[1].encode()).hexdigest()
            if change == "expired":
                s.execute(update(store.Token).where(store.Token.token_hash == digest).values(
                    expires_at=store.utcnow() - timedelta(seconds=1)))  # fmt: skip
            else:
                s.execute(update(store.User).where(store.User.name == "ina").values(active=False))
            s.commit()
        r = client.get(f"/api/cases/{case_id}", headers=token)
        assert r.status_code == 401 and r.json()["error"]["status"] == 401, change
        with state.factory() as s:
            s.execute(update(store.User).where(store.User.name == "ina").values(active=True))
            s.commit()


def test_an_intake_user_reads_only_their_own_case_through_the_core_read(env):
    client, _, _, (case_id, _), state = env
    assert client.get(f"/api/cases/{case_id}", headers=bearer(client, "ina")).status_code == 200
    with state.factory() as s:
        if s.scalar(select(store.User).where(store.User.name == "ivy")) is None:
            store.add_user(s, "ivy", "intake", PASSWORD)
            s.commit()
    other = bearer(client, "ivy")
    for path in (f"/api/cases/{case_id}", "/api/cases/no-such-case"):
        r = client.get(path, headers=other)
        assert r.status_code == 404 and r.json()["error"]["message"] == "no such case", path


def test_serve_freezes_what_startup_made_out_of_the_garbage_collector(tmp_path, monkeypatch):
    """A full collection under load walked every object the imports and the app made (90-150 ms with every
    request stopped, docs/benchmarks.md); `serve` freezes them just before it serves."""
    seen = {}

    def fake_server(app, host, port):
        seen["frozen"], seen["switch"] = gc.get_freeze_count(), sys.getswitchinterval()
        return SimpleNamespace(run=lambda: None)

    monkeypatch.setattr(commands, "server", fake_server)
    switch, umask = sys.getswitchinterval(), os.umask(0o022)  # serve tightens the umask: restored after
    os.umask(umask)
    gc.unfreeze()
    args = argparse.Namespace(data_dir=tmp_path / "data", db=None, demo=None, workers=0, host="127.0.0.1", port=0)
    try:
        assert commands.cmd_serve(args) == 0
    finally:
        gc.unfreeze()
        sys.setswitchinterval(switch)
        os.umask(umask)
    assert seen["frozen"] > 50_000 and seen["switch"] == 0.0005, seen
