"""Re-scoring reads each document once: after a guideline-version change the backfill takes every faxed PDF
from the state's document-text cache (no PDF read, no OCR), and gives the reviews a `--no-cache` run gives;
a file that changed is read again. Real Tesseract, real Dask, real SQLite."""

import csv
import importlib.util
import re

import pytest
import sqlalchemy as sa

from tests.batch.test_batch import backfill, by_id, lines_of
from tests.helpers import ROOT, image_page_pdf

_spec = importlib.util.spec_from_file_location("render_samples", ROOT / "scripts" / "render_samples.py")
rs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rs)

NOTES = {
    "gbm": [
        "NEURO-ONCOLOGY OFFICE VISIT        Date of service: 03/02/2026",
        "Ordering Physician: Maria Lopez, MD",
        "Left frontal glioblastoma s/p resection in 2024 and chemoradiation to 60 Gy.",
        "MRI brain: new enhancing lesion, recurrence versus radiation necrosis.",
        "PLAN: Request MR spectroscopy (CPT 76390).",
    ],
    "abscess": [
        "NEUROLOGY CONSULT",
        "Ordering Physician: Sam Ortiz, MD",
        "MRI brain shows a ring-enhancing lesion in the right parietal lobe.",
        "Differential diagnosis includes brain abscess versus high-grade glioma.",
        "PLAN: MR spectroscopy (CPT 76390) to distinguish tumor from abscess.",
    ],
}
HEADER = "MAR-02-2026 10:14  FROM: NEURO ONC  P.001/001"


def _fax(lines: list[str], seed: int) -> bytes:
    return image_page_pdf(rs.fax_page(lines, HEADER, seed))


def _manifest(path, root, day: str) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "path", "request_date"])
        w.writerow(["gbm", str(root / "gbm.pdf"), day])
        w.writerow(["abscess", str(root / "abscess.pdf"), day])
        w.writerow(["abscess", str(root / "labs.txt"), ""])


def _cache_counts(stdout: str) -> tuple[int, int]:
    found = re.search(r"PDFs from the document-text cache: (\d+); read: (\d+)", stdout)
    assert found, stdout
    return int(found[1]), int(found[2])


def _reviews(out) -> dict[str, dict]:
    return {cid: row["review"] for cid, row in by_id(lines_of(out)).items()}


def _same_review(a: dict, b: dict) -> None:
    """Field by field, so a difference names its field."""
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == b[key], key


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("rescore")
    (root / "gbm.pdf").write_bytes(_fax(NOTES["gbm"], 3))
    (root / "abscess.pdf").write_bytes(_fax(NOTES["abscess"], 4))
    (root / "labs.txt").write_text("LABORATORY REPORT\nWBC 14.2 (high). CRP elevated.\n")
    manifest = root / "manifest.csv"
    out = root / "results.jsonl"
    _manifest(manifest, root, "2024-05-01")
    first = backfill(manifest, "--out", out, "--workers", "1")
    assert first.returncode == 0, first.stderr
    before = _reviews(out)
    # the same cases, now dated before July 2019: another guideline version, so every case is scored again
    _manifest(manifest, root, "2019-03-01")
    again = backfill(manifest, "--out", out, "--workers", "1")
    assert again.returncode == 0, again.stderr
    rescored = _reviews(out)
    fresh_out = root / "fresh.jsonl"
    fresh = backfill(manifest, "--out", fresh_out, "--workers", "1", "--no-cache")
    assert fresh.returncode == 0, fresh.stderr
    return {"root": root, "manifest": manifest, "out": out, "first": first, "again": again, "fresh": fresh,
            "before": before, "rescored": rescored, "fresh_reviews": _reviews(fresh_out)}  # fmt: skip


def test_first_pass_reads_every_pdf_and_the_rescore_reads_none(runs):
    assert _cache_counts(runs["first"].stdout) == (0, 2)
    assert _cache_counts(runs["again"].stdout) == (2, 0)
    assert _cache_counts(runs["fresh"].stdout) == (0, 2)  # --no-cache reads every PDF again
    before, after = runs["before"], runs["rescored"]
    assert before["abscess"]["guideline"]["version"] == "2021-02"
    assert after["abscess"]["guideline"]["version"] == "pre-2019-07"  # the re-score did happen


def test_rescore_from_the_cache_gives_the_reviews_of_a_full_read(runs):
    rescored, fresh = runs["rescored"], runs["fresh_reviews"]
    assert rescored.keys() == fresh.keys() == {"gbm", "abscess"}
    for cid in rescored:
        _same_review(rescored[cid], fresh[cid])
    gbm = rescored["gbm"]
    assert gbm["documents"][0]["ocr_pages"] == [1]  # a faxed page: OCR'd once, its reading cached
    assert any(f["bbox"] for f in gbm["findings"])  # character boxes come back from the cache


def test_the_cache_lives_in_the_state_and_a_changed_file_is_read_again(runs):
    root, manifest, out = runs["root"], runs["manifest"], runs["out"]
    engine = sa.create_engine(f"sqlite:///{out}.state.sqlite")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM document_cache")).scalar_one() == 2
    (root / "gbm.pdf").write_bytes(_fax(NOTES["gbm"] + ["Follow-up in 4 weeks."], 3))
    changed = backfill(manifest, "--out", out, "--workers", "1")
    assert changed.returncode == 0, changed.stderr
    assert _cache_counts(changed.stdout) == (0, 1)  # only the changed case runs, and its file is read
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM document_cache")).scalar_one() == 3
    engine.dispose()
