"""`extractor backfill` as operations run it: real processes, real Dask, real SQLite, real kills."""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import make_pdf

BIN = Path(sys.executable).parent

# A treated glioblastoma with a new lesion: recurrence versus radiation necrosis (covered, supported).
RECURRENCE = """NEURO-ONCOLOGY OFFICE VISIT
Date of Service: 03/02/2026
Date of request: 03/05/2026
Ordering Physician: Maria Delgado, MD

HISTORY OF PRESENT ILLNESS:
Left frontal glioblastoma s/p resection in 2024 and chemoradiation to 60 Gy. MRI brain shows a new
enhancing lesion at the resection margin, recurrence versus radiation necrosis.

PLAN: Request MR spectroscopy (CPT 76390).
Electronically signed by: Maria Delgado, MD
"""

# A ring-enhancing lesion with abscess versus glioma in the differential: only the tumor-versus-non-tumor
# indication (added in the July 2019 revision) can support it.
ABSCESS_VS_GLIOMA = """NEUROLOGY CONSULT
Ordering Physician: Sam Ortiz, MD

HISTORY OF PRESENT ILLNESS:
MRI brain shows a ring-enhancing lesion in the right parietal lobe. Differential diagnosis includes
brain abscess versus high-grade glioma.

PLAN: MR spectroscopy (CPT 76390) to distinguish tumor from abscess.
Electronically signed by: Sam Ortiz, MD
"""

# Seizures only: experimental/investigational.
EPILEPSY = """NEUROLOGY OFFICE NOTE
Ordering Physician: Ann Lee, MD
Patient with temporal lobe epilepsy and mesial temporal sclerosis. Request MR spectroscopy.
Electronically signed by: Ann Lee, MD
"""


def backfill(*args, env=None, timeout=240):
    return subprocess.run(
        [str(BIN / "extractor"), "backfill", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def lines_of(path: Path) -> list[dict]:
    raw = path.read_bytes()
    assert raw.endswith(b"\n"), "torn last line"
    return [json.loads(line) for line in raw.decode().splitlines()]


def assert_one_line_per_case(path: Path, expected: set[str]) -> list[dict]:
    rows = lines_of(path)
    ids = [r["case_id"] for r in rows]
    assert len(ids) == len(set(ids)), f"written twice: {sorted(i for i in ids if ids.count(i) > 1)}"
    assert set(ids) == expected
    for r in rows:
        assert r["status"] in ("ok", "error")
        assert ("review" in r) == (r["status"] == "ok") and ("error" in r) == (r["status"] == "error")
    return rows


def by_id(rows: list[dict]) -> dict[str, dict]:
    return {r["case_id"]: r for r in rows}


# --- hostile input, crash quarantine, retry -----------------------------------------------------------


def test_bad_and_hostile_files_never_sink_the_batch_and_a_worker_killer_is_quarantined(tmp_path):
    cases = tmp_path / "cases"
    cases.mkdir()
    (cases / "good.txt").write_text(RECURRENCE)
    (cases / "empty.txt").write_bytes(b"")
    (cases / "binary.txt").write_bytes(bytes(range(256)) * 20)
    (cases / "damaged.pdf").write_bytes(make_pdf([["Glioblastoma, recurrence versus necrosis."]])[:150])
    os.mkfifo(cases / "pipe.txt")  # reading a FIFO would hang: it must never be opened
    mixed = cases / "mixed_case"
    mixed.mkdir()
    (mixed / "note.txt").write_text(ABSCESS_VS_GLIOMA)
    (mixed / "scan.pdf").write_bytes(b"%PDF-1.4 truncated")
    (cases / "empty_folder").mkdir()
    (cases / "crash.txt").write_text(EPILEPSY)
    out = tmp_path / "results.jsonl"
    expected = {
        "good.txt",
        "empty.txt",
        "binary.txt",
        "damaged.pdf",
        "pipe.txt",
        "mixed_case",
        "empty_folder",
        "crash.txt",
    }

    # One attempt: a worker's death also fails the cases queued behind the killer; only the killer,
    # run again alone, may be quarantined.
    env = {"EXTRACTOR_TEST_CRASH_FILE": "crash.txt", "EXTRACTOR_BACKFILL_MAX_ATTEMPTS": "1"}
    proc = backfill(cases, "--out", out, "--workers", "1", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    rows = by_id(assert_one_line_per_case(out, expected))
    assert rows["good.txt"]["review"]["recommendation"] == "likely_meets_criteria"
    assert rows["mixed_case"]["status"] == "ok"  # one damaged document does not sink its case
    docs = {d["name"]: d["error"] for d in rows["mixed_case"]["review"]["documents"]}
    assert docs["note.txt"] is None and docs["scan.pdf"]
    assert rows["empty.txt"]["error"] == "no document could be read: empty.txt: file is empty"
    assert "binary" in rows["binary.txt"]["error"]
    assert "damaged.pdf" in rows["damaged.pdf"]["error"]
    assert rows["pipe.txt"]["error"] == "not a regular file"
    assert rows["empty_folder"]["error"] == "case folder has no files"
    assert rows["crash.txt"]["error"] == "quarantined after 1 attempt: the worker process died on this case each time"
    assert "quarantined (worker died): 1" in " ".join(proc.stdout.split()).replace(" │ ", ": ")
    report = (tmp_path / "results.report.html").read_text()
    assert "<svg" in report and "quarantined (worker died)" in report

    # The quarantine holds on a plain rerun (nothing is reprocessed) ...
    again = backfill(cases, "--out", out, "--workers", "1", env=env)
    assert again.returncode == 0, again.stderr
    assert out.read_bytes().count(b"\n") == len(expected)
    assert by_id(lines_of(out))["crash.txt"]["status"] == "error"
    # ... and --retry-failed, once the cause is gone, replaces the error line with the review.
    fixed = backfill(cases, "--out", out, "--workers", "1", "--retry-failed")
    assert fixed.returncode == 0, fixed.stderr
    rows = by_id(assert_one_line_per_case(out, expected))
    assert rows["crash.txt"]["review"]["recommendation"] == "experimental_investigational"
    assert rows["empty.txt"]["status"] == "error"


def test_db_stores_every_review_in_the_app_database_once_with_its_documents(tmp_path):
    from extractor import store

    cases = tmp_path / "in"
    cases.mkdir()
    (cases / "a.txt").write_text(EPILEPSY)
    (cases / "b").mkdir()
    (cases / "b" / "note.txt").write_text(RECURRENCE)
    (cases / "bad.txt").write_bytes(b"")
    (cases / "c.pdf").write_bytes(make_pdf([RECURRENCE.splitlines()]))
    app = tmp_path / "app"
    app.mkdir()
    url = f"sqlite:///{app / 'extractor.db'}"
    for _ in range(2):  # a re-run stores nothing twice
        proc = backfill(cases, "--out", tmp_path / "o.jsonl", "--db", url, "--workers", "1")
        assert proc.returncode == 0, proc.stderr
    _, factory = store.open_store(url)
    with factory() as s:
        stored = {c.id: c for c in store.list_cases(s)}
        assert set(stored) == {"a.txt", "b", "c.pdf"}  # the unreadable case has an error line, not a review
        for case_id, case in stored.items():
            assert case.status == "ready" and case.source == "import"
            review = json.loads(store.load_review_json(s, case_id))
            assert review["recommendation"] and len(review["indications"]) == 6
            (doc,) = case.documents
            source = {"a.txt": cases / "a.txt", "b": cases / "b" / "note.txt", "c.pdf": cases / "c.pdf"}[case_id]
            assert store.stored_path(app, doc).read_bytes() == source.read_bytes()
        # the PDF's reading came with it: the first view of the case reads no PDF
        cached = s.execute(sa.select(store.cache_table.c.sha256)).scalars().all()
        assert cached == [stored["c.pdf"].documents[0].sha256]


def test_missing_input_is_a_one_line_error(tmp_path):
    proc = backfill(tmp_path / "nope", "--out", tmp_path / "o.jsonl")
    assert proc.returncode == 2 and proc.stderr.strip() == f"error: {tmp_path / 'nope'}: no such file or folder"


# --- kill and resume ---------------------------------------------------------------------------------


def make_cases(folder: Path, n: int) -> set[str]:
    folder.mkdir()
    notes = [RECURRENCE, ABSCESS_VS_GLIOMA, EPILEPSY]
    for i in range(n):
        (folder / f"case{i:03d}.txt").write_text(notes[i % 3].replace("Date of Service", f"Visit {i}\nDate of Service"))
    return {f"case{i:03d}.txt" for i in range(n)}


def test_kill_at_any_moment_then_rerun_gives_exactly_one_line_per_case(tmp_path):
    cases = tmp_path / "cases"
    expected = make_cases(cases, 90)
    out = tmp_path / "results.jsonl"
    kills = 0
    for threshold in (5, 30):
        proc = subprocess.Popen(
            [str(BIN / "extractor"), "backfill", str(cases), "--out", str(out), "--workers", "1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                if out.exists() and out.read_bytes().count(b"\n") >= threshold:
                    os.kill(proc.pid, signal.SIGKILL)  # the backfill process itself, mid-run
                    kills += 1
                    break
                time.sleep(0.05)
            proc.wait(timeout=30)
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # its worker processes too, so none outlives the test
            except ProcessLookupError:
                pass
        partial = lines_of(out)
        assert len(partial) < len(expected)
        assert len({r["case_id"] for r in partial}) == len(partial)
    assert kills == 2

    # A kill in the middle of a write leaves a torn line: the rerun must cut it, not keep it.
    with out.open("ab") as fh:
        fh.write(b'{"case_id": "case089.txt", "status": "ok", "review": {"schema_ver')
    proc = backfill(cases, "--out", out, "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    rows = assert_one_line_per_case(out, expected)
    assert all(r["status"] == "ok" for r in rows)

    # A finished job: a rerun writes nothing and starts no workers.
    before = out.read_bytes()
    started = time.monotonic()
    proc = backfill(cases, "--out", out, "--workers", "1")
    assert proc.returncode == 0 and out.read_bytes() == before
    assert time.monotonic() - started < 20

    # The output lost: rebuilt from the state, no case processed again.
    out.unlink()
    proc = backfill(cases, "--out", out, "--workers", "1")
    assert proc.returncode == 0 and out.read_bytes() == before

    # One case changed: only it is processed again, and its line is replaced, not added.
    (cases / "case002.txt").write_text(RECURRENCE)
    proc = backfill(cases, "--out", out, "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    rows = by_id(assert_one_line_per_case(out, expected))
    assert rows["case002.txt"]["review"]["recommendation"] == "likely_meets_criteria"


# --- manifest and guideline versions -------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifest_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("manifest")
    docs = root / "docs"
    docs.mkdir()
    (docs / "abscess.txt").write_text(ABSCESS_VS_GLIOMA)
    (docs / "recurrence.txt").write_text(RECURRENCE)
    (docs / "labs.txt").write_text("LABORATORY REPORT\nWBC 14.2 (high). CRP elevated.\n")
    manifest = root / "manifest.csv"
    with manifest.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "path", "request_date"])
        w.writerow(["abscess-2019", "docs/abscess.txt", "2019-03-01"])
        w.writerow(["abscess-2024", "docs/abscess.txt", "2024-05-01"])
        w.writerow(["two-docs", "docs/recurrence.txt", "2023-02-10"])
        w.writerow(["two-docs", str(docs / "labs.txt"), ""])
        w.writerow(["missing-file", "docs/nowhere.txt", "2023-01-01"])
        w.writerow(["bad-date", "docs/recurrence.txt", "2023-13-45"])
        w.writerow(["", "docs/recurrence.txt", "2023-01-01"])
        w.writerow(["no-path", "", ""])
        w.writerow(["undated", "docs/recurrence.txt"])
    out = root / "results.jsonl"
    proc = backfill(manifest, "--out", out, "--workers", "1")
    assert proc.returncode == 0, proc.stderr
    return proc, by_id(lines_of(out))


def test_manifest_bad_rows_each_get_an_error_line_and_the_rest_run(manifest_run):
    proc, rows = manifest_run
    assert set(rows) == {
        "abscess-2019",
        "abscess-2024",
        "two-docs",
        "missing-file",
        "bad-date",
        "manifest-line-8",
        "no-path",
        "undated",
    }
    assert rows["missing-file"]["error"] == "manifest line 6: nowhere.txt: no such file or folder"
    assert rows["bad-date"]["error"] == "manifest line 7: request_date is not a date (YYYY-MM-DD)"
    assert rows["manifest-line-8"]["error"] == "manifest line 8: empty case_id"
    assert rows["no-path"]["error"] == "manifest line 9: empty path"
    two = rows["two-docs"]["review"]
    assert [d["name"] for d in two["documents"]] == ["recurrence.txt", "labs.txt"]
    assert two["request"]["request_date"] == "2023-02-10" and two["request"]["request_date_source"] == "given"
    assert rows["undated"]["review"]["request"]["request_date_source"] == "documents"
    assert "bad manifest row" in proc.stdout


def test_guideline_version_follows_the_request_date_end_to_end(manifest_run):
    """Same documents, two request dates: before July 2019 there was no tumor-versus-non-tumor indication."""
    _, rows = manifest_run
    old, new = rows["abscess-2019"]["review"], rows["abscess-2024"]["review"]
    assert old["guideline"]["version"] == "pre-2019-07" and old["guideline"]["effective_to"] == "2019-06-30"
    assert new["guideline"]["version"] == "2021-02"
    status = {r: {i["id"]: i["status"] for i in rows[r]["review"]["indications"]} for r in rows if "review" in rows[r]}
    assert status["abscess-2024"]["tumor_vs_nontumor"] == "supported"
    assert status["abscess-2019"]["tumor_vs_nontumor"] == "not_found"
    assert len(status["abscess-2019"]) == 6  # every review lists all six indications
    assert new["recommendation"] == "likely_meets_criteria"
    assert old["recommendation"] == "needs_clinical_review"
    missing = next(i["missing"] for i in old["indications"] if i["id"] == "tumor_vs_nontumor")
    assert "July 2019" in missing[0]


# --- a real Dask cluster -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dask_tls(folder: Path) -> tuple[list[str], dict[str, str]]:
    """A certificate for a test's Dask scheduler and workers: their TLS options, and the Dask configuration
    (as DASK_* variables) the backfill reaches them with."""
    from distributed.security import Security

    temporary = Security.temporary()
    cert, key = folder / "dask-cert.pem", folder / "dask-key.pem"
    cert.write_text(temporary.tls_ca_file)
    key.write_text(temporary.tls_client_key)
    key.chmod(0o600)
    options = ["--tls-ca-file", str(cert), "--tls-cert", str(cert), "--tls-key", str(key)]
    env = {
        "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": str(cert),
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": str(cert),
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": str(key),
    }
    return options, env


def test_backfill_runs_on_an_existing_dask_scheduler_and_worker(tmp_path):
    cases = tmp_path / "cases"
    expected = make_cases(cases, 6)
    port = free_port()
    address = f"tls://127.0.0.1:{port}"
    tls, tls_env = dask_tls(tmp_path)
    logs = tmp_path / "dask.log"
    procs = []
    try:
        with logs.open("w") as log:
            procs.append(
                subprocess.Popen(
                    [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
                     "--protocol", "tls", *tls],
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
            )
            procs.append(
                subprocess.Popen(
                    [
                        str(BIN / "dask"),
                        "worker",
                        address,
                        "--nthreads",
                        "1",
                        "--nworkers",
                        "1",
                        "--host",
                        "127.0.0.1",
                        "--no-dashboard",
                        "--name",
                        "backfill-test-worker",
                        *tls,
                    ],
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
            )
        out = tmp_path / "results.jsonl"
        proc = backfill(cases, "--out", out, "--scheduler", address, env=tls_env)
        assert proc.returncode == 0, proc.stderr + logs.read_text()
        rows = assert_one_line_per_case(out, expected)
        assert all(r["status"] == "ok" for r in rows)

        from distributed import Client
        from distributed.security import Security

        cert, key = tls_env["DASK_DISTRIBUTED__COMM__TLS__CA_FILE"], tls_env["DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY"]
        security = Security(tls_ca_file=cert, tls_client_cert=cert, tls_client_key=key, require_encryption=True)
        with Client(address, timeout="10s", security=security) as client:
            ran = client.run_on_scheduler(lambda dask_scheduler: sorted(dask_scheduler.task_prefixes))
            workers = [w["name"] for w in client.scheduler_info()["workers"].values()]
        assert "cases" in ran  # the cases ran through this scheduler ...
        assert workers == ["backfill-test-worker"]  # ... on the one worker we started
    finally:
        for p in reversed(procs):
            try:
                os.killpg(p.pid, signal.SIGTERM)
                p.wait(timeout=15)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(p.pid, signal.SIGKILL)


def test_unreachable_scheduler_is_a_one_line_error(tmp_path):
    make_cases(tmp_path / "cases", 1)
    address = f"tls://127.0.0.1:{free_port()}"
    proc = backfill(
        tmp_path / "cases",
        "--out",
        tmp_path / "o.jsonl",
        "--scheduler",
        address,
        env={"EXTRACTOR_BACKFILL_CONNECT_SECONDS": "2", **dask_tls(tmp_path)[1]},
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().startswith("error: cannot reach the Dask scheduler at tls://127.0.0.1:")
    assert "Traceback" not in proc.stderr


def test_a_scheduler_without_tls_is_refused_with_one_line(tmp_path):
    make_cases(tmp_path / "cases", 1)
    plain = backfill(tmp_path / "cases", "--out", tmp_path / "o.jsonl", "--scheduler", "tcp://127.0.0.1:8786")
    assert plain.returncode == 2 and plain.stderr.strip() == (
        "error: --scheduler tcp://127.0.0.1:8786: must be a tls:// address (Dask traffic carries note text)"
    )
    bare = backfill(tmp_path / "cases", "--out", tmp_path / "o.jsonl", "--scheduler", "tls://127.0.0.1:8786")
    assert bare.returncode == 2
    assert bare.stderr.strip().startswith("error: --scheduler tls://127.0.0.1:8786: no TLS configuration; set ")


def test_a_worker_outside_our_cluster_rebuilds_its_pipeline_every_n_cases(tmp_path, monkeypatch):
    """Regression: memory held by the pipeline grows with every case; a long-running worker rebuilds it."""
    from extractor.batch import task
    from extractor.config import Settings
    from extractor.nlp import pipeline

    monkeypatch.setattr(task, "_worker_settings", lambda: Settings(backfill_reload_every=2))
    note = tmp_path / "note.txt"
    note.write_text(EPILEPSY)
    task._cases_in_process[0] = 1
    first = pipeline.load()
    result = task.score_case("c1", [str(note)], "2024-01-01")
    assert pipeline.load() is not first
    assert result["status"] == "ok" and result["recommendation"] == "experimental_investigational"
    assert "replace_worker" not in result


def test_local_workers_are_replaced_every_n_cases_without_losing_a_case(tmp_path):
    """20 cases, not 12: the worker may finish its whole window (8 cases) before its first restart, and with
    12 the second request could come with the last case, after which there is nothing left to restart for
    (a loaded CI run counted 1)."""
    cases = tmp_path / "cases"
    expected = make_cases(cases, 20)
    out = tmp_path / "results.jsonl"
    env = {"EXTRACTOR_BACKFILL_RELOAD_EVERY": "4", "EXTRACTOR_BACKFILL_CASES_PER_TASK": "1"}
    proc = backfill(cases, "--out", out, "--workers", "1", env=env)
    assert proc.returncode == 0, proc.stderr
    rows = assert_one_line_per_case(out, expected)
    assert all(r["status"] == "ok" for r in rows)
    replaced = int(proc.stdout.split("Worker processes replaced to bound memory: ")[1].split()[0])
    assert replaced >= 2, proc.stdout[-2000:]


def test_output_inside_the_input_folder_is_not_taken_for_cases(tmp_path):
    (tmp_path / "a.txt").write_text(EPILEPSY)
    out = tmp_path / "results.jsonl"
    for _ in range(2):
        proc = backfill(tmp_path, "--out", out, "--workers", "1")
        assert proc.returncode == 0, proc.stderr
        assert_one_line_per_case(out, {"a.txt"})
    assert (tmp_path / "results.report.html").exists()


def test_out_that_is_a_folder_is_a_one_line_error(tmp_path):
    (tmp_path / "a.txt").write_text(EPILEPSY)
    proc = backfill(tmp_path, "--out", tmp_path)
    assert proc.returncode == 2 and proc.stderr.strip() == f"error: {tmp_path}: --out is a folder, not a file"


# --- the output file against the state (no workers needed) ---------------------------------------------


def finished_state(tmp_path, n=4):
    """A state whose n cases are finished but not yet written."""
    import sqlalchemy as sa

    from extractor.batch import output, state

    engine = state.state_engine(str(tmp_path / "state.sqlite"))
    with engine.begin() as conn:
        conn.execute(
            state.cases_table.insert(),
            [
                {
                    "case_id": f"c{i}",
                    "seq": i,
                    "content_hash": "h",
                    "pipeline_version": "p",
                    "guideline_key": "g",
                    "status": "error",
                    "attempts": 0,
                    "quarantined": False,
                    "written": False,
                    "stored": False,
                    "line": output.result_line(f"c{i}", {"status": "error", "error": f"reason {i}"}),
                }
                for i in range(n)
            ],
        )
    return engine, output.Output(tmp_path / "out.jsonl", engine), sa


def test_lines_written_just_before_a_kill_are_adopted_not_written_again(tmp_path):
    engine, output, sa = finished_state(tmp_path)
    from extractor.batch.state import cases_table

    assert output.append_unwritten() == 4
    # killed after the fsync of the last two lines, before they were marked written
    with engine.begin() as conn:
        conn.execute(sa.update(cases_table).where(cases_table.c.seq >= 2).values(written=False, out_end=None))
    output.reconcile()
    assert output.append_unwritten() == 0
    assert_one_line_per_case(output.path, {"c0", "c1", "c2", "c3"})


def test_an_output_replaced_by_another_file_is_rebuilt_from_the_state(tmp_path):
    _, output, _ = finished_state(tmp_path)
    output.append_unwritten()
    original = output.path.read_bytes()
    output.path.write_bytes(original.replace(b'"c3"', b'"x3"'))  # same length, but not the line we wrote last
    output.reconcile()
    assert output.path.read_bytes() == original
    output.path.write_bytes(original[: len(original) // 2])  # truncated
    output.reconcile()
    assert output.path.read_bytes() == original


def test_report_charts_recommendations_by_month_and_escapes_text(tmp_path):
    from extractor.batch.summary import Summary, write_report

    summary = Summary(
        total=4,
        ok=3,
        failed=1,
        recommendations={"likely_meets_criteria": 2, "needs_clinical_review": 1},
        failures={"unreadable: <binary>": 1},
        by_month={"2019-03": {"needs_clinical_review": 1}, "2024-05": {"likely_meets_criteria": 2}},
    )
    path = tmp_path / "r.html"
    write_report(path, summary, "cases/")
    page = path.read_text()
    assert page.count("<rect") == 2 + 3  # one bar per (month, recommendation) and three legend keys
    assert "<title>2019-03 needs_clinical_review: 1</title>" in page
    assert "unreadable: &lt;binary&gt;" in page and "<binary>" not in page
    assert "<script" not in page and "http" not in page.replace("http://www.w3.org/2000/svg", "")


def test_rescoring_a_case_without_a_receipt_time_does_not_move_its_clock(tmp_path):
    """Regression: without a manifest `received_at` the review said "received" at the moment the backfill read
    the case, so every re-score moved the clock (and a cached re-score differed from a full read)."""
    from extractor.batch import task

    note = tmp_path / "note.txt"
    note.write_text(EPILEPSY)
    os.utime(note, (1_767_261_600, 1_767_261_600))  # 2026-01-01T10:00:00Z: the file landed then
    first = task.score_case("c1", [str(note)], "2026-01-02")
    time.sleep(1.1)
    again = task.score_case("c1", [str(note)], "2026-01-02")
    request = json.loads(first["review"])["request"]
    assert (request["received_at"], request["received_at_source"]) == ("2026-01-01T10:00:00Z", "upload")
    assert json.loads(again["review"])["request"] == request
