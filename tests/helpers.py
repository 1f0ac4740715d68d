"""Shared pieces of the tests: the repo's sample folders, a sample case prefilled once, a small PDF writer,
a store on SQLite or PostgreSQL with users, and the CLI run as a subprocess."""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from extractor import store

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_notes"
KIT = ROOT.parent / "shared" / "eval" / "negex_kit"


def mentioned(mentions, label: str, text: str) -> bool:
    """Whether some mention of `label` contains `text` (case-insensitive)."""
    return any(m.label == label and text.lower() in m.text.lower() for m in mentions)


def flags(text: str, label: str, word: str | None = None) -> set[str]:
    """The ConText flags of the first `label` mention (containing `word`) that `extract` finds in `text`."""
    from extractor.nlp.extract import extract  # lazy, as in `prefilled`: the store and web tests load no NLP
    from extractor.schemas import FLAGS

    m = find(extract(text).mentions, label, word)
    return {f for f in FLAGS if getattr(m, f)}


def checklist(tmp_path: Path, text: str, request_date: date = date(2026, 3, 12)) -> dict[str, str]:
    """The documentation checklist (item -> present/missing) of `text` prefilled as one note."""
    from extractor.case import prefill

    note = tmp_path / "note.txt"
    note.write_text(text, encoding="utf-8")
    return {d.id: d.status for d in prefill([note], request_date=request_date).review.documentation}


def find(mentions, label, text=None):
    """The first mention of `label` (and, if given, containing `text`)."""
    for m in mentions:
        if m.label == label and (text is None or text.lower() in m.text.lower()):
            return m
    raise AssertionError(f"no {label} {text or ''} in {[(m.label, m.text) for m in mentions]}")


GUIDELINE_MD = ROOT.parent / "shared" / "guideline" / "NIA_CG_003_brain_mrs.md"


@functools.cache
def prefilled(case_name: str):
    """One sample case read and prefilled once per test session: (labels, review, documents by name)."""
    from extractor.case import prefill_documents, read_documents
    from extractor.evaluate import case_files

    folder = SAMPLES / case_name
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    docs, failed = read_documents(case_files(folder))
    review = prefill_documents(docs, failed, request_date=date.fromisoformat(labels["request_date"]))
    return labels, review, {d.name: d for d in docs}


def sample_case_names() -> list[str]:
    return sorted(p.name for p in SAMPLES.iterdir() if (p / "labels.json").is_file())


def run(*args, env_extra: dict[str, str] | None = None, **kw):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8", **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-m", "extractor.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        **kw,
    )


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def make_pdf(pages: list[list[str]], font_size: int = 10) -> bytes:
    objects: list[bytes] = []
    n_pages = len(pages)
    # 1 catalog, 2 pages, 3 font, then per page: page object, content stream
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(n_pages))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {n_pages} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, lines in enumerate(pages):
        ops = [f"BT /F1 {font_size} Tf 14 TL 50 750 Td"]
        for line in lines:
            ops.append(f"({_escape(line)}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {5 + 2 * i} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    return assemble(objects)


def assemble(objects: list[bytes], trailer_extra: bytes = b"") -> bytes:
    """A PDF from numbered object bodies (object 1 is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, trailer_extra, xref)
    return bytes(out)


def page_with_stream(stream: bytes, filters: bytes = b"", media: bytes = b"[0 0 612 792]") -> bytes:
    """A one-page PDF whose page content is `stream` (already encoded by `filters`)."""
    return assemble(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Resources << /Font << /F1 3 0 R >> >> /Contents 5 0 R >>"
            % media,
            b"<< /Length %d %s>>\nstream\n" % (len(stream), filters) + stream + b"\nendstream",
        ]
    )


def image_page_pdf(image, stamp: str | None = None, dpi: int = 200) -> bytes:
    """A one-page PDF of a 1-bit PIL image drawn over the whole page, optionally with a text-layer stamp
    at the top (as fax servers add to each received page)."""
    import zlib

    width, height = image.size
    w_pt, h_pt = width * 72 / dpi, height * 72 / dpi
    pixels = zlib.compress(image.convert("1").tobytes())
    ops = b"q %.2f 0 0 %.2f 0 0 cm /Im1 Do Q" % (w_pt, h_pt)
    if stamp:
        ops += b"\nBT /F1 8 Tf 20 %.2f Td (%s) Tj ET" % (h_pt - 12, _escape(stamp).encode("latin-1"))
    return assemble(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] "
            b"/Resources << /Font << /F1 3 0 R >> /XObject << /Im1 6 0 R >> >> /Contents 5 0 R >>" % (w_pt, h_pt),
            b"<< /Length %d >>\nstream\n" % len(ops) + ops + b"\nendstream",
            b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 1 "
            b"/Filter /FlateDecode /Length %d >>\nstream\n" % (width, height, len(pixels)) + pixels + b"\nendstream",
        ]
    )


PG_URL = os.environ.get("EXTRACTOR_TEST_PG_URL")
PASSWORD = "correct horse battery"
USERS = {"ina": "intake", "rev": "reviewer", "ada": "admin"}

# Three pages of a faxed request: office note, MRI report, radiation summary (text layer; the scanned fax
# sample of PDF intake replaces it at merge: tests use only this constant).
SAMPLE_PAGES = [
    [
        "NEURO-ONCOLOGY OFFICE VISIT   Date of service: 03/02/2026",
        "Patient Name: Robert Hale   DOB: 04/11/1961   Member ID: XJH448812",
        "Ordering: Maria Lopez, MD",
        "HISTORY OF PRESENT ILLNESS:",
        "Left frontal glioblastoma s/p gross total resection in 2024 and chemoradiation to 60 Gy.",
        "No seizures since surgery. Mother had Alzheimer disease.",
    ],
    [
        "MRI BRAIN WITH AND WITHOUT CONTRAST   03/01/2026",
        "IMPRESSION:",
        "New enhancing lesion at the resection margin, recurrence versus radiation",
        "necrosis. No abscess.",
    ],
    [
        "PLAN:",
        "Request MR spectroscopy (CPT 76390) to distinguish tumor recurrence from",
        "treatment effect. Conventional perfusion was nondiagnostic.",
        "Maria Lopez, MD",
    ],
]
SAMPLE_UPLOAD_NAME = "fax_packet.pdf"

# The file the real-browser test uploads as intake would. None: the generated 3-page text-layer PDF above.
# PDF intake's scanned fax sample replaces it at merge (its path here; the test asserts nothing specific
# to this content).
BROWSER_UPLOAD: Path | None = SAMPLES / "c02_nsclc_brain_met_srs_fax" / "fax" / "packet.pdf"


def sample_upload() -> tuple[str, bytes]:
    """The 3-page text-layer PDF the API and page tests check field by field."""
    return SAMPLE_UPLOAD_NAME, make_pdf(SAMPLE_PAGES)


def browser_upload() -> tuple[str, bytes]:
    if BROWSER_UPLOAD is not None:
        return BROWSER_UPLOAD.name, BROWSER_UPLOAD.read_bytes()
    return sample_upload()


def sample_case_files(slug: str = "c01_") -> list[tuple[str, bytes]]:
    folder = next(SAMPLES.glob(f"{slug}*"))
    return [(f.name, f.read_bytes()) for f in sorted(folder.glob("*.txt"))]


def needs(available: bool, what: str) -> pytest.MarkDecorator:
    """Skip when `what` is missing on a developer's machine; under CI (CI=true) nothing skips, so the test fails."""
    return pytest.mark.skipif(not available and not os.environ.get("CI"), reason=f"{what} not available")


def backends() -> list:
    return ["sqlite", pytest.param("postgresql", marks=needs(bool(PG_URL), "PostgreSQL (EXTRACTOR_TEST_PG_URL)"))]


def fresh_url(backend: str, tmp_path: Path) -> str:
    """An empty database: a new SQLite file, or the PostgreSQL test database with every table dropped."""
    if backend == "sqlite":
        return store.default_url(tmp_path)
    from sqlalchemy import text

    engine = store.make_engine(PG_URL)
    store.Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()
    return PG_URL


def add_users(factory) -> None:
    with factory() as session:
        for name, role in USERS.items():
            store.add_user(session, name, role, PASSWORD)
        session.commit()


def login(client, name: str) -> str:
    """Log a TestClient in through the form; returns the session's CSRF token."""
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = client.post(
        "/login", data={"username": name, "password": PASSWORD, "csrf_token": token}, follow_redirects=False
    )
    assert r.status_code == 303, r.text
    home = client.get("/", follow_redirects=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', home.text).group(1)


def bearer(client, name: str) -> dict[str, str]:
    r = client.post("/api/token", data={"username": name, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def marked(text: str) -> tuple[str, int, int]:
    """A probe sentence with its word in [brackets] -> the sentence without them and the word's offsets: which
    of two "radiation"s in a note a probe asks about."""
    start = text.index("[")
    end = text.index("]") - 1
    return text.replace("[", "").replace("]", ""), start, end


def found_at(text: str, label: str) -> bool:
    """Whether `extract` finds a `label` mention overlapping the [bracketed] word of `text`."""
    from extractor.nlp.extract import extract  # lazy, as in `flags`

    clean, start, end = marked(text)
    return any(m.label == label and m.start < end and start < m.end for m in extract(clean).mentions)
