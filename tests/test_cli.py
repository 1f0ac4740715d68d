"""The command line as a user runs it: real files, real process, one-line errors, exit codes."""

import json
from pathlib import Path

import pytest

from tests.helpers import run

NOTE = """NEURO-ONCOLOGY OFFICE VISIT
Patient Name: Hale, Robert
DOB: 04/09/1961
Member ID: NIA4418821
Date of Service: 03/02/2026
Ordering Physician: Maria Delgado, MD

HISTORY OF PRESENT ILLNESS:
Left frontal glioblastoma s/p GTR in 2024 and chemoradiation to 60 Gy. MRI brain 02/20/2026 shows a new
enhancing lesion at the resection margin, recurrence versus radiation necrosis.

ASSESSMENT AND PLAN:
Request MR spectroscopy (CPT 76390).

Electronically signed by: Maria Delgado, MD
"""


@pytest.fixture
def note(tmp_path) -> Path:
    p = tmp_path / "note.txt"
    p.write_text(NOTE, encoding="utf-8")
    return p


def test_prefill_json_matches_the_contract(note):
    out = run("prefill", note, "--request-date", "2026-03-10")
    assert out.returncode == 0, out.stderr
    review = json.loads(out.stdout)
    assert review["schema_version"] == "1"
    assert review["guideline"]["id"] == "NIA_CG_003"
    assert review["recommendation"] == "likely_meets_criteria"
    assert review["indications"][0]["id"] == "recurrence_vs_treatment_effect"
    assert review["request"]["cpt_codes"] == ["76390"]
    assert review["request"]["patient_name"] == "Robert Hale"
    assert review["request"]["date_of_birth"] == "1961-04-09"
    assert review["request"]["member_id"] == "NIA4418821"
    assert review["request"]["ordering_clinician"] == "Maria Delgado, MD"
    f = next(x for x in review["findings"] if x["concept"] == "TREATMENT_EFFECT")
    assert NOTE[f["start"] : f["end"]] == "radiation necrosis" and f["uncertain"] and not f["negated"]
    assert set(f) >= {
        "concept",
        "text",
        "document",
        "page",
        "start",
        "end",
        "bbox",
        "section",
        "sentence",
        "negated",
        "historical",
        "hypothetical",
        "family",
        "uncertain",
    }
    assert review["documents"][0]["sha256"] and review["documents"][0]["error"] is None


def test_text_format_is_readable(note):
    out = run("prefill", note, "--format", "text", "--request-date", "2026-03-10")
    assert out.returncode == 0
    assert "recurrence_vs_treatment_effect" in out.stdout and "supported" in out.stdout
    assert '"radiation necrosis"' in out.stdout and "[uncertain]" in out.stdout


@pytest.mark.parametrize("content,reason", [(b"", "file is empty"), (b"\x00\x01\x02\x03binary\x00" * 50, "binary")])
def test_unreadable_file_alone_exits_2_with_one_line(tmp_path, content, reason):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(content)
    out = run("prefill", bad)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"error: bad.txt: {reason}" if reason == "file is empty" else "error: bad.txt: binary file, not text or PDF"
    ]
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_missing_file_and_directory(tmp_path):
    out = run("prefill", tmp_path / "nope.txt")
    assert out.returncode == 2 and out.stderr.strip() == "error: nope.txt: no such file"
    out = run("prefill", tmp_path)
    assert out.returncode == 2 and "is a directory" in out.stderr


def test_bad_file_beside_good_one_is_listed_and_case_goes_on(tmp_path, note):
    bad = tmp_path / "scan.txt"
    bad.write_bytes(b"\x00" * 100)
    out = run("prefill", note, bad, "--request-date", "2026-03-10")
    assert out.returncode == 0
    review = json.loads(out.stdout)
    docs = {d["name"]: d for d in review["documents"]}
    assert docs["scan.txt"]["error"] == "binary file, not text or PDF"
    assert docs["note.txt"]["error"] is None
    assert review["recommendation"] == "likely_meets_criteria"
    assert "warning: scan.txt" in out.stderr


def test_cp1252_and_bom_notes_are_read(tmp_path):
    a = tmp_path / "a.txt"
    a.write_bytes(
        ("Impression: \u201crecurrence\u201d versus radiation necrosis \u2013 GBM s/p XRT.\n").encode("cp1252")
    )
    b = tmp_path / "b.txt"
    b.write_text("Ddx includes abscess.\n", encoding="utf-8-sig")
    out = run("prefill", a, b)
    assert out.returncode == 0, out.stderr
    texts = {(f["document"], f["text"]) for f in json.loads(out.stdout)["findings"]}
    assert ("a.txt", "radiation necrosis") in texts and ("b.txt", "abscess") in texts


def test_three_megabyte_note_is_read_not_refused(tmp_path):
    big = tmp_path / "big.txt"
    para = (
        "Follow-up for left temporal glioblastoma status post resection and radiotherapy; stable appearance "
        "without new enhancement today and no new neurological deficits on examination.\n\n"
    )
    big.write_text(
        para * (3_000_000 // len(para) + 1) + "New enhancing lesion, recurrence versus radiation necrosis.\n"
    )
    assert big.stat().st_size > 3_000_000
    out = run("prefill", big)
    assert out.returncode == 0, out.stderr
    review = json.loads(out.stdout)
    assert review["recommendation"] == "likely_meets_criteria"
    assert any(f["concept"] == "TREATMENT_EFFECT" and f["start"] > 3_000_000 for f in review["findings"])


def test_bad_request_date_is_a_usage_error(note):
    out = run("prefill", note, "--request-date", "yesterday")
    assert out.returncode == 2 and "not a date" in out.stderr and "Traceback" not in out.stderr


def test_no_note_text_in_error_output(tmp_path):
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"Patient Jane Secret has glioblastoma")
    out = run("prefill", secret)
    assert out.returncode == 2 and "Jane" not in out.stderr and "glioblastoma" not in out.stderr


@pytest.mark.parametrize("fmt", ["html", "json", "fhir"])
def test_prefill_reads_each_pdf_once_whatever_the_format(tmp_path, monkeypatch, capsys, fmt):
    """Regression: `--format html` re-read (and re-OCR'd) every file to show its text."""
    from extractor import cli
    from extractor.ingest import files
    from tests.helpers import SAMPLE_PAGES, make_pdf

    paths = []
    for i in range(2):
        path = tmp_path / f"part{i}.pdf"
        path.write_bytes(make_pdf(SAMPLE_PAGES[i::2]))
        paths.append(path)
    reads: list[int] = []
    real = files.read_reading

    def counted(data, settings=None):
        reads.append(len(data))
        return real(data, settings)

    monkeypatch.setattr(files, "read_reading", counted)
    assert cli.main(["prefill", *map(str, paths), "--format", fmt, "--request-date", "2026-03-05"]) == 0
    out = capsys.readouterr().out
    assert len(reads) == 2
    assert "glioblastoma" in out


def test_python_dash_m_extractor_is_the_extractor_command(note):
    """`python -m extractor` said "'extractor' is a package and cannot be directly executed"."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "extractor", "prefill", str(note), "--request-date", "2026-03-10"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    same = run("prefill", note, "--request-date", "2026-03-10")
    assert json.loads(out.stdout)["recommendation"] == json.loads(same.stdout)["recommendation"]
    bad = subprocess.run([sys.executable, "-m", "extractor", "prefill", str(note.parent / "missing.txt")],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert bad.returncode != 0 and "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
