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
