"""The backfill as a least-privilege reader and writer: what it writes is private, it reads only what it was
given, it stores reviews with care, and it runs once per state."""

import os
import subprocess

from tests.batch.test_batch import BIN, EPILEPSY, RECURRENCE, lines_of
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
        "case_id,path\n"
        f"up,../elsewhere/other_patient.txt\nabsolute,{secret / 'other_patient.txt'}\ninside,good.txt\n"
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
