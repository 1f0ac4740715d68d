"""The backfill as a least-privilege reader and writer: what it writes is private, it reads only what it was
given, it stores reviews with care, and it runs once per state."""

import os
import subprocess

import pytest

from tests.batch.test_batch import BIN, EPILEPSY, RECURRENCE, lines_of
from tests.helpers import PG_URL, needs
from tests.web.test_serve_process import assert_private


def backfill(*args, timeout=240):
    """The CLI as a real process started under the common umask 022."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXTRACTOR_")}
    return subprocess.run(
        [str(BIN / "extractor"), "backfill", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        umask=0o022,
    )


def test_everything_the_backfill_writes_is_private(tmp_path):
    cases = tmp_path / "in"
    cases.mkdir()
    (cases / "a.txt").write_text(EPILEPSY)
    (cases / "b.txt").write_text(RECURRENCE)
    out = tmp_path / "out" / "results.jsonl"
    app = tmp_path / "app"
    proc = backfill(cases, "--out", out, "--workers", "1", "--db", f"sqlite:///{app / 'extractor.db'}")
    assert proc.returncode == 0, proc.stderr
    assert {row["case_id"] for row in lines_of(out)} == {"a.txt", "b.txt"}
    names = {p.name for p in out.parent.iterdir()}
    assert {"results.jsonl", "results.jsonl.lock", "results.jsonl.state.sqlite", "results.report.html"} <= names
    assert len(list((app / "uploads").iterdir())) == 2
    assert_private(out.parent)
    assert_private(app)


def test_links_and_manifest_paths_leaving_the_input_are_error_lines_unless_allowed(tmp_path):
    secret = tmp_path / "elsewhere"
    secret.mkdir()
    (secret / "other_patient.txt").write_text(RECURRENCE)
    cases = tmp_path / "in"
    cases.mkdir()
    (cases / "good.txt").write_text(EPILEPSY)
    (cases / "alias.txt").symlink_to(cases / "good.txt")  # a link that stays inside is read
    (cases / "leak.txt").symlink_to(secret / "other_patient.txt")
    (cases / "folder").mkdir()
    (cases / "folder" / "note.txt").write_text(EPILEPSY)
    (cases / "folder" / "more").symlink_to(secret)
    out = tmp_path / "out.jsonl"
    proc = backfill(cases, "--out", out, "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    rows = {row["case_id"]: row for row in lines_of(out)}
    assert rows["good.txt"]["status"] == rows["alias.txt"]["status"] == "ok"
    assert rows["leak.txt"]["error"] == (
        "leak.txt: outside the input folder (a symbolic link); --allow-outside-input reads it"
    )
    assert rows["folder"]["error"] == "more: outside the input folder (a symbolic link); --allow-outside-input reads it"

    manifest = cases / "manifest.csv"
    manifest.write_text(
        f"case_id,path\nup,../elsewhere/other_patient.txt\nabsolute,{secret / 'other_patient.txt'}\ninside,good.txt\n"
    )
    proc = backfill(manifest, "--out", tmp_path / "manifest.jsonl", "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    rows = {row["case_id"]: row for row in lines_of(tmp_path / "manifest.jsonl")}
    assert rows["inside"]["status"] == "ok"
    outside = "other_patient.txt: outside the input folder; --allow-outside-input reads it"
    assert rows["up"]["error"].endswith(outside) and rows["absolute"]["error"].endswith(outside)

    proc = backfill(cases, "--out", tmp_path / "allowed.jsonl", "--workers", "1", "--allow-outside-input")
    assert proc.returncode == 0, proc.stderr
    rows = {row["case_id"]: row for row in lines_of(tmp_path / "allowed.jsonl")}
    assert rows["leak.txt"]["status"] == rows["folder"]["status"] == "ok"
    assert len(rows["folder"]["review"]["documents"]) == 2


def test_the_reader_never_waits_on_a_fifo_nor_follows_a_link_when_told_not_to(tmp_path):
    import threading

    from extractor.errors import DocumentError
    from extractor.ingest.files import read_file

    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    link = tmp_path / "link.txt"
    (tmp_path / "note.txt").write_text(EPILEPSY)
    link.symlink_to(tmp_path / "note.txt")
    errors: dict[str, str] = {}

    def attempt(name, path, **kw):
        try:
            read_file(path, **kw)
        except DocumentError as exc:
            errors[name] = str(exc)

    reader = threading.Thread(target=attempt, args=("fifo", fifo), daemon=True)
    reader.start()
    reader.join(5)
    if reader.is_alive():  # unblock the reader stuck in open() so the test ends
        with open(fifo, "w"):
            pass
    assert errors.get("fifo") == "not a regular file"
    attempt("link", link, follow_links=False)
    assert errors["link"] == "symbolic link (not followed)"
    assert read_file(link)[0].text.startswith("NEUROLOGY")  # the CLI and web worker still follow


def test_db_replaces_undecided_reviews_keeps_decided_ones_and_stores_only_valid_reviews(tmp_path):
    import json

    import sqlalchemy as sa

    from extractor import store
    from extractor.batch.state import cases_table

    cases = tmp_path / "in"
    cases.mkdir()
    (cases / "a.txt").write_text(EPILEPSY)
    (cases / "b.txt").write_text(EPILEPSY.replace("Ann Lee", "Bo Chen"))
    (cases / "c.txt").write_text(EPILEPSY.replace("Ann Lee", "Cy Diaz"))
    out = tmp_path / "o.jsonl"
    app = tmp_path / "app"
    url = f"sqlite:///{app / 'extractor.db'}"
    proc = backfill(cases, "--out", out, "--workers", "1", "--db", url)
    assert proc.returncode == 0, proc.stderr
    assert "Stored in the web app: 3 new, 0 re-scored reviews replaced" in proc.stdout
    _, factory = store.open_store(url)
    with factory() as s:
        reviewer = store.add_user(s, "rev", "reviewer", "correct horse battery")
        store.record_decision(s, store.get_case(s, "b.txt"), reviewer, "approve", note="looked fine")
        s.commit()
    for name in ("a.txt", "b.txt"):  # both re-scored: a new note in each
        (cases / name).write_text(RECURRENCE.replace("Maria Delgado", f"Dr {name[0].upper()}"))
    proc = backfill(cases, "--out", out, "--workers", "1", "--db", url)
    assert proc.returncode == 0, proc.stderr
    assert "Stored in the web app: 0 new, 1 re-scored reviews replaced" in proc.stdout
    assert "Kept as decided (re-scored review not stored): 1: b.txt" in proc.stdout
    with factory() as s:
        rec = {cid: json.loads(store.load_review_json(s, cid))["recommendation"] for cid in ("a.txt", "b.txt")}
        assert rec == {"a.txt": "likely_meets_criteria", "b.txt": "experimental_investigational"}
        assert store.get_case(s, "b.txt").decision == "approve"
        assert (
            store.stored_path(app, store.get_case(s, "a.txt").documents[0]).read_bytes()
            == (cases / "a.txt").read_bytes()
        )  # the new note replaced the old one

    # A review that does not validate (a state tampered with, a worker's bug) is never stored.
    engine = sa.create_engine(f"sqlite:///{out}.state.sqlite")
    with engine.begin() as conn:
        line = json.loads(conn.execute(sa.select(cases_table.c.line).where(cases_table.c.case_id == "c.txt")).scalar())
        line["review"]["recommendation"] = "deny"
        conn.execute(
            sa.update(cases_table).where(cases_table.c.case_id == "c.txt").values(line=json.dumps(line), stored=False)
        )
    engine.dispose()
    with factory() as s:
        s.delete(store.get_case(s, "c.txt"))
        s.commit()
    proc = backfill(cases, "--out", out, "--workers", "1", "--db", url)
    assert proc.returncode == 0, proc.stderr
    assert "Not stored (review did not validate): 1: c.txt" in proc.stdout
    with factory() as s:
        assert store.get_case(s, "c.txt") is None


def test_db_on_a_server_database_needs_an_explicit_data_dir(tmp_path):
    cases = tmp_path / "in"
    cases.mkdir()
    (cases / "a.txt").write_text(EPILEPSY)
    proc = backfill(cases, "--out", tmp_path / "o.jsonl", "--db", "postgresql+psycopg://u:pw@127.0.0.1:1/app")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: --db postgresql: give the web app's data dir with --data-dir (or EXTRACTOR_DATA_DIR); "
        "the cases' documents are copied there"
    )
    assert not (tmp_path / "o.jsonl").exists()


def test_two_backfills_on_one_state_database_are_refused(tmp_path):
    import signal
    import time

    from tests.batch.test_batch import make_cases

    cases = tmp_path / "cases"
    make_cases(cases, 40)
    state = tmp_path / "shared.state.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXTRACTOR_")}
    first = subprocess.Popen(
        [str(BIN / "extractor"), "backfill", str(cases), "--out", str(tmp_path / "one.jsonl"), "--state", str(state),
         "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (tmp_path / "one.jsonl.lock").exists() and time.monotonic() < deadline:
            assert first.poll() is None
            time.sleep(0.1)
        second = backfill(cases, "--out", tmp_path / "two.jsonl", "--state", state, "--workers", "1")
        assert first.poll() is None, "the first run ended before the second tried"
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    assert second.returncode == 2
    assert second.stderr.strip() == f"error: {state}: the state database is in use by another backfill"
    assert not (tmp_path / "two.jsonl").exists()


@needs(bool(PG_URL), "PostgreSQL (EXTRACTOR_TEST_PG_URL)")
def test_the_state_lock_on_postgresql_is_an_advisory_lock():
    import sqlalchemy as sa

    from extractor.batch.state import StateLock
    from extractor.errors import BackfillError

    one, two = sa.create_engine(PG_URL), sa.create_engine(PG_URL)
    first = StateLock(one, PG_URL)
    first.acquire()
    try:
        with pytest.raises(BackfillError, match=r"://extractor:\*\*\*@.*: the state database is in use"):
            StateLock(two, PG_URL).acquire()
    finally:
        first.release()
    again = StateLock(two, PG_URL)
    again.acquire()  # free once the first run ended
    again.release()
    one.dispose()
    two.dispose()


def test_the_local_cluster_talks_tls_with_certificates_of_its_own():
    from extractor.batch.cluster import Cluster

    cluster = Cluster(1, None)
    try:
        info = cluster.client.scheduler_info()
        addresses = [cluster.client.scheduler.address, *info["workers"]]
        assert addresses and all(a.startswith("tls://") for a in addresses)
        assert cluster.client.security.require_encryption
        assert cluster.client.security.tls_ca_file.startswith("-----BEGIN CERTIFICATE-----")  # in memory only
    finally:
        cluster.close()
