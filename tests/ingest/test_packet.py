"""Fax packets: transmission headers dropped, the packet split into typed documents, OCR only where needed."""

import io
import sys
from pathlib import Path

import pypdfium2 as pdfium

from extractor.config import Settings
from extractor.ingest.ocr import Line
from extractor.ingest.packet import PageText, assemble, drop_fax_headers, split_packet
from extractor.ingest.sandbox import read_pdf
from tests.helpers import ROOT, image_page_pdf, make_pdf

sys.path.insert(0, str(ROOT / "scripts"))
import render_samples


def page(number: int, *lines: str) -> PageText:
    return PageText(number, [Line(text, [None] * len(text)) for text in lines])


def texts(p: PageText) -> list[str]:
    return [line.text for line in p.lines]


def test_fax_header_on_every_page_is_dropped_but_a_repeated_patient_line_is_kept():
    pages = [
        page(
            n,
            f"FEB-18-2026 10:1{n} FROM: LAKESHORE CANCER (312) 555-0192 TO: 18005550147 P.00{n}/003",
            "Patient: Denise Okafor DOB: 11/23/1958",
            "Surveillance MRI shows the treated right parietal lesion has enlarged.",
        )
        for n in (1, 2, 3)
    ]
    pages[2].lines[0] = Line("FEB-18-2026 1O:13 FR0M: LAKESH0RE CANCER (312) 555-0192 TO: 18005550147 P.003/003", [])
    drop_fax_headers(pages)
    for p in pages:
        assert texts(p) == [
            "Patient: Denise Okafor DOB: 11/23/1958",
            "Surveillance MRI shows the treated right parietal lesion has enlarged.",
        ]
        assert p.dropped and "P.00" in p.dropped[0]


def test_a_single_fax_like_line_is_not_a_repeated_header():
    pages = [page(1, "From: Samuel Whitcomb, MD", "Re: prior authorization"), page(2, "IMPRESSION:", "Stable.")]
    drop_fax_headers(pages)
    assert texts(pages[0]) == ["From: Samuel Whitcomb, MD", "Re: prior authorization"]


def test_packet_splits_where_a_document_title_opens_a_page():
    pages = [
        page(1, "LAKESHORE CANCER INSTITUTE", "FAX TRANSMITTAL", "To: NIA Utilization Management"),
        page(2, "NORTH SHORE IMAGING CENTER", "MRI BRAIN WITHOUT AND WITH CONTRAST", "FINDINGS:"),
        page(3, "vasogenic edema has increased. No new enhancing lesion elsewhere.", "IMPRESSION:"),
        page(4, "LAKESHORE CANCER INSTITUTE - THORACIC ONCOLOGY", "OFFICE VISIT", "HISTORY OF PRESENT ILLNESS:"),
    ]
    assert [[p.number for p in part] for part in split_packet(pages)] == [[1], [2, 3], [4]]


def test_split_documents_keep_the_file_page_numbers_and_types():
    pages = [
        page(1, "FAX COVER SHEET", "To: NIA", "From: Northside Internal Medicine", "Pages: 3 (including cover)"),
        page(2, "MRI BRAIN WITH AND WITHOUT CONTRAST", "TECHNIQUE: multiplanar", "COMPARISON: none", "IMPRESSION:"),
        page(3, "Enhancing right frontal lesion, glioma versus metastasis."),
    ]
    docs = assemble("fax.pdf", "0" * 64, pages, min_confidence=70)
    assert [(d.name, d.doc_type, d.first_page, d.pages) for d in docs] == [
        ("fax.pdf#1", "cover_sheet", 1, 1),
        ("fax.pdf#2", "imaging_report", 2, 2),
    ]
    mri = docs[1]
    assert mri.page_of(mri.text.index("glioma")) == 3 and mri.source == "fax.pdf"


def _mixed_pdf() -> bytes:
    """Page 1 with a text layer, page 2 a fax image with none."""
    text = pdfium.PdfDocument(make_pdf([["NEURO-ONCOLOGY OFFICE VISIT", "Glioblastoma s/p chemoradiation."]]))
    image = render_samples.fax_page(
        ["MRI BRAIN WITH AND WITHOUT CONTRAST", "", "IMPRESSION:", "Findings favor radiation necrosis."], "FAX", 3
    )
    buf = io.BytesIO()
    render_samples.save_fax([image], buf)
    out = pdfium.PdfDocument.new()
    out.import_pages(text)
    out.import_pages(pdfium.PdfDocument(buf.getvalue()))
    saved = io.BytesIO()
    out.save(saved)
    return saved.getvalue()


def test_only_the_page_without_a_text_layer_is_ocrd_and_its_words_have_boxes():
    docs = read_pdf("mixed.pdf", _mixed_pdf(), Settings())
    assert [(d.doc_type, d.ocr_pages) for d in docs] == [("office_note", []), ("imaging_report", [2])]
    mri = docs[1]
    assert 50 < mri.ocr_confidence[2] <= 100 and not mri.warnings
    start = mri.text.index("necrosis")
    x0, top, x1, bottom = mri.bbox(start, start + len("necrosis"))
    assert 0 < x0 < x1 < 612 and 0 < top < bottom < 792 and mri.page_of(start) == 2


def test_low_ocr_confidence_is_a_warning_the_reviewer_sees():
    docs = read_pdf("mixed.pdf", _mixed_pdf(), Settings(ocr_min_confidence=99.9))
    assert any(w.startswith("low OCR confidence on page 2") for w in docs[1].warnings)


def test_render_script_is_deterministic(tmp_path: Path):
    case = ROOT / "sample_notes" / "c13_parkinson_fax_unsigned_note"
    first, second = tmp_path / "a.pdf", tmp_path / "b.pdf"
    render_samples.save_fax(render_samples.fax_packet(case), first)
    render_samples.save_fax(render_samples.fax_packet(case), second)
    assert first.read_bytes() == second.read_bytes()
    if Path(render_samples.FONT_PATHS[0]).is_file():  # the committed files were drawn with DejaVu Sans
        assert first.read_bytes() == (case / "fax" / "packet.pdf").read_bytes()


def test_scanned_page_with_only_a_fax_server_stamp_in_its_text_layer_is_still_ocrd():
    image = render_samples.fax_page(
        ["NEURO-ONCOLOGY OFFICE VISIT", "", "Glioblastoma s/p chemoradiation; recurrence versus necrosis."], "", 5
    )
    stamp = "02/18/2026 10:14 FROM: LAKESHORE CANCER INSTITUTE (312) 555-0192 TO: NIA P.001/001"
    docs = read_pdf("stamped.pdf", image_page_pdf(image, stamp), Settings())
    assert docs[0].ocr_pages == [1]
    assert "Glioblastoma s/p chemoradiation" in docs[0].text and docs[0].doc_type == "office_note"


def test_pages_left_when_ocr_time_is_up_are_named_and_the_rest_is_kept():
    """In-process, with a deadline already spent: the text-layer page is kept, the scan is a warning."""
    from extractor.ingest.pdf import parse_pdf

    docs = parse_pdf("mixed.pdf", _mixed_pdf(), Settings(pdf_timeout_s=0.001))
    assert [d.doc_type for d in docs] == ["office_note"]
    assert "pages not OCR'd (time limit 0.001 s): 2" in docs[0].warnings


def test_one_page_fax_loses_its_transmission_stamp_but_not_its_from_line():
    one = [page(1, "02/18/2026 10:14 FROM: LAKESHORE CANCER TO: NIA P.001/001", "From: Samuel Whitcomb, MD")]
    drop_fax_headers(one)
    assert texts(one[0]) == ["From: Samuel Whitcomb, MD"]
