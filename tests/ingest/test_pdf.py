"""Text-layer PDFs read through pdfplumber: findings carry their page and a box on it."""

import json

import pytest

from extractor.case import prefill
from tests.helpers import make_pdf, run

PAGE1 = [
    "NEURO-ONCOLOGY OFFICE VISIT",
    "Patient Name: Robert Hale",
    "HISTORY OF PRESENT ILLNESS:",
    "Left frontal glioblastoma s/p GTR in 2024 and chemoradiation.",
]
PAGE2 = [
    "IMPRESSION:",
    "New enhancing lesion at the resection margin, recurrence versus radiation",
    "necrosis. Request MR spectroscopy (CPT 76390).",
]


def test_text_layer_pdf_findings_have_page_and_bbox(tmp_path):
    pdf = tmp_path / "packet.pdf"
    pdf.write_bytes(make_pdf([PAGE1, PAGE2]))
    review = prefill([pdf]).review
    assert review.documents[0].pages == 2 and review.documents[0].error is None
    assert review.recommendation == "likely_meets_criteria"
    necrosis = next(f for f in review.findings if f.concept == "TREATMENT_EFFECT")
    assert necrosis.text == "radiation necrosis" and necrosis.page == 2 and necrosis.uncertain
    tumor = next(f for f in review.findings if f.concept == "BRAIN_TUMOR")
    assert tumor.page == 1
    x0, top, x1, bottom = tumor.bbox
    assert 50 <= x0 < x1 <= 612 and 0 < top < bottom < 792


def test_fax_banner_before_pdf_header_is_still_a_pdf(tmp_path):
    pdf = tmp_path / "fax.pdf"
    pdf.write_bytes(b"FAX SERVER 2026-03-01 12:00 PAGE 1\r\n" + make_pdf([PAGE1, PAGE2]))
    assert prefill([pdf]).review.recommendation == "likely_meets_criteria"


def test_blank_pdf_is_a_clear_error_after_ocr(tmp_path):
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(make_pdf([[]]))
    out = run("prefill", pdf)
    assert out.returncode == 2
    assert out.stderr.strip() == "error: scan.pdf: PDF has no text (no text layer, and OCR found none)"


def test_damaged_pdf_beside_a_good_note_is_listed(tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4\n" + b"\x00garbage" * 200)
    good = tmp_path / "good.pdf"
    good.write_bytes(make_pdf([PAGE1, PAGE2]))
    out = run("prefill", bad, good)
    assert out.returncode == 0, out.stderr
    docs = {d["name"]: d for d in json.loads(out.stdout)["documents"]}
    assert docs["broken.pdf"]["error"].startswith(("damaged PDF", "PDF has no"))
    assert docs["good.pdf"]["error"] is None


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_evidence_box_on_a_rotated_page_is_where_pdfplumber_sees_the_word(tmp_path, rotation):
    import pdfplumber

    pdf = tmp_path / "rotated.pdf"
    box = b"/MediaBox [0 0 612 792]"
    pdf.write_bytes(make_pdf([PAGE1]).replace(box, box + b" /Rotate %d" % rotation))
    tumor = next(f for f in prefill([pdf]).review.findings if f.concept == "BRAIN_TUMOR")
    with pdfplumber.open(pdf) as doc:
        words = doc.pages[0].extract_words()  # upside down, pdfplumber spells words backwards
        word = next(w for w in words if w["text"] in ("glioblastoma", "amotsalboilg"))
    x0, top, x1, bottom = tumor.bbox
    assert abs(x0 - word["x0"]) < 3 and abs(x1 - word["x1"]) < 3, (tumor.bbox, word)
    assert abs(top - word["top"]) < 4 and abs(bottom - word["bottom"]) < 4, (tumor.bbox, word)
