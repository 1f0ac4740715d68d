"""Shared pieces of the web and store tests: a store on SQLite or PostgreSQL, users, a sample PDF."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from extractor import store

from .conftest import SAMPLES
from .pdfgen import make_pdf

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


def backends() -> list:
    return [
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.skipif(not PG_URL, reason="EXTRACTOR_TEST_PG_URL unset")),
    ]


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
