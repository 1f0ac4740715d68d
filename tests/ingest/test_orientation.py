"""Fax pages fed upside down or sideways are read the right way up (real Tesseract with its OSD data), shown
the right way up on the case page, and pages that still read as noise give no findings and a warning."""

import importlib.util
import io
import random
import re
import subprocess
from datetime import date
from difflib import SequenceMatcher

import pytest
from PIL import Image, ImageOps

from extractor.case import prefill
from extractor.ingest.ocr import Line, OcrResult
from extractor.ingest.orientation import dictionary_words, doubtful, is_noise, parse_osd, sideways
from extractor.web.page_images import page_png, page_rotation, shown_sizes
from tests.helpers import ROOT, image_page_pdf

_spec = importlib.util.spec_from_file_location("render_samples", ROOT / "scripts" / "render_samples.py")
rs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rs)

NOTE = [
    "NEURO-ONCOLOGY OFFICE VISIT              Date of service: 03/02/2026",
    "Patient Name: Robert Hale   DOB: 04/11/1961   Member ID: XJH448812",
    "HISTORY OF PRESENT ILLNESS:",
    "Left frontal glioblastoma s/p gross total resection in 2024 and chemoradiation",
    "to 60 Gy. No seizures since surgery. No history of stroke, abscess or demyelinating",
    "disease. Mother had Alzheimer disease.",
    "IMPRESSION:",
    "New enhancing lesion at the resection margin, recurrence versus radiation necrosis.",
    "PLAN:",
    "Request MR spectroscopy (CPT 76390) to distinguish tumor recurrence from treatment",
    "effect. Conventional perfusion was nondiagnostic.",
    "Maria Lopez, MD",
]
WHEN = date(2026, 3, 12)


def _page(lines: list[str], seed: int = 5) -> Image.Image:
    return rs.fax_page(lines, "MAR-02-2026 10:14  FROM: NEURO ONC  P.001/001", seed)


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _outcome(review) -> tuple:
    return review.recommendation, {i.id: i.status for i in review.indications}


@pytest.fixture(scope="module")
def upright(tmp_path_factory):
    path = tmp_path_factory.mktemp("upright") / "note.pdf"
    path.write_bytes(image_page_pdf(_page(NOTE)))
    return prefill([path], request_date=WHEN).review


@pytest.mark.parametrize("fed", [90, 180, 270])
def test_a_turned_page_reads_as_the_upright_page(fed, upright, tmp_path):
    """The page fed turned `fed` degrees counter-clockwise is turned back `fed` degrees clockwise and gives
    the upright page's findings and review."""
    path = tmp_path / "note.pdf"
    path.write_bytes(image_page_pdf(_page(NOTE).rotate(fed, expand=True)))
    review = prefill([path], request_date=WHEN).review
    doc = review.documents[0]
    assert doc.page_rotation == {1: fed} and not doc.noise_pages
    assert doc.ocr_confidence[1] >= 80
    want = {(f.concept, _norm(f.text), f.negated, f.family) for f in upright.findings}
    assert {(f.concept, _norm(f.text), f.negated, f.family) for f in review.findings} == want
    assert _outcome(review) == _outcome(upright)
    assert review.request.cpt_codes == ["76390"] and review.request.member_id == "XJH448812"


def test_an_upright_page_is_not_turned(upright):
    assert upright.documents[0].page_rotation == {} and upright.documents[0].ocr_confidence[1] >= 80


def test_an_upright_page_costs_no_orientation_detection(monkeypatch, tmp_path):
    """OSD runs only on a doubtful first reading (mean confidence under `ocr_orientation_below`, or sideways
    text): an upright page never pays for it."""
    from extractor.ingest import orientation

    def no_osd(*args, **kwargs):
        raise AssertionError("OSD ran on an upright page")

    monkeypatch.setattr(orientation, "run_osd", no_osd)
    monkeypatch.setenv("EXTRACTOR_PDF_ISOLATION", "false")  # read in this process, where run_osd is patched
    path = tmp_path / "note.pdf"
    path.write_bytes(image_page_pdf(_page(NOTE)))
    assert prefill([path], request_date=WHEN).review.documents[0].page_rotation == {}


def test_an_upright_page_read_with_low_confidence_costs_no_orientation_detection(monkeypatch, tmp_path):
    """A faxed lab report (dot leaders, a table) reads under `ocr_orientation_below` but in real words: it is
    upright, and OSD (which costs more than the page's OCR) does not run on it."""
    from extractor.ingest import orientation

    def no_osd(*args, **kwargs):
        raise AssertionError("OSD ran on an upright page")

    monkeypatch.setattr(orientation, "run_osd", no_osd)
    monkeypatch.setenv("EXTRACTOR_PDF_ISOLATION", "false")  # read in this process, where run_osd is patched
    labs = rs.wrap(rs.read_text(ROOT / "sample_notes" / "c03_gbm_pseudoprogression_bom" / "labs.txt"), rs.FAX_WRAP)
    start = next(i for i, line in enumerate(labs) if line.startswith("Collected:"))
    page = rs.fax_page(["Case reference 0009", *labs[start : start + 24]], "MAR-02-2026 10:14  P.001/001  REF 9", 9009)
    path = tmp_path / "labs.pdf"
    rs.save_fax([page], path)
    doc = prefill([path], request_date=WHEN).review.documents[0]
    assert doc.ocr_confidence[1] < 70 and doc.page_rotation == {} and not doc.noise_pages


def test_a_turned_page_is_shown_upright_with_its_boxes_on_its_words(tmp_path):
    """The case page's image of a page fed sideways is rendered turned as OCR read it: Tesseract, given
    only the pixels under a finding's box in that image, reads the finding's words."""
    path = tmp_path / "note.pdf"
    data = image_page_pdf(_page(NOTE).rotate(90, expand=True))
    path.write_bytes(data)
    result = prefill([path], request_date=WHEN)
    review = result.review
    turned = review.documents[0].page_rotation
    sizes = shown_sizes(result.documents[0].page_sizes, turned)
    (width, height) = sizes[0][:2]
    assert page_rotation(sizes[0]) == 90 and width < height  # a portrait page again
    png = page_png(path, tmp_path / "renders", 1, page_rotation(sizes[0]))
    image = Image.open(io.BytesIO(png))
    scale = image.width / width
    assert abs(image.height / height - scale) < 0.01
    finding = next(f for f in review.findings if f.concept == "BRAIN_TUMOR")
    x0, top, x1, bottom = finding.bbox
    crop = image.crop(tuple(int(v * scale) for v in (x0 - 3, top - 3, x1 + 3, bottom + 3)))
    crop = crop.resize((crop.width * 3, crop.height * 3))
    crop.save(tmp_path / "crop.png")
    read = subprocess.run(
        ["tesseract", str(tmp_path / "crop.png"), "stdout", "--psm", "7"], capture_output=True, text=True, check=True
    ).stdout
    assert SequenceMatcher(None, _norm(read), _norm(finding.text)).ratio() >= 0.75, (finding.text, read)


def _two_pages(tmp_path, second: Image.Image):
    path = tmp_path / "fax.pdf"
    rs.save_fax([_page(NOTE[:6] + NOTE[8:]), second], path)
    return path


def _random_letters(seed: int) -> list[str]:
    """Clean print of no language at all, with "AD" strewn in: what an OCR'd scribble or noise reads as."""
    rng = random.Random(seed)
    letters = "BCDFGHJKLMNPQRSTVWXZ"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(3, 6))) for _ in range(90)]
    lines = [" ".join(words[i : i + 9]) for i in range(0, 90, 9)]
    return [line.replace(" ", " AD ", 1) for line in lines]


@pytest.mark.parametrize("kind", ["upside_down_unturned", "mirrored", "random_letters"])
def test_a_page_that_reads_as_noise_gives_no_findings_and_a_warning(kind, tmp_path, monkeypatch):
    """Whatever OCR makes of the noise page, the review is the one of the readable page alone; the noise
    page is named in a warning and in the rationale, and no Alzheimer disease ("AD") comes out of it."""
    ad_page = ["ASSESSMENT:", "AD with progressive memory loss and Alzheimer disease in the family.", *NOTE[8:]]
    if kind == "upside_down_unturned":  # as when orientation detection is not available
        monkeypatch.setenv("EXTRACTOR_OCR_ORIENTATION", "false")
        noise = _page(ad_page).rotate(180)
    elif kind == "mirrored":  # no turn reads it
        noise = ImageOps.mirror(_page(ad_page).convert("L")).convert("1")
    else:
        noise = _page(_random_letters(3))
    review = prefill([_two_pages(tmp_path, noise)], request_date=WHEN).review
    alone = tmp_path / "alone.pdf"
    rs.save_fax([_page(NOTE[:6] + NOTE[8:])], alone)
    baseline = prefill([alone], request_date=WHEN).review
    doc = review.documents[0]
    assert doc.noise_pages == [2]
    assert any("page 2" in w and "noise" in w for w in doc.warnings), doc.warnings
    assert review.rationale.startswith("Not read: fax.pdf page 2")
    assert all(f.page == 1 for f in review.findings)
    assert not [f for f in review.findings if f.concept == "NEURODEGENERATIVE" and not f.family]
    assert _outcome(review) == _outcome(baseline)


def test_the_same_ad_on_a_readable_page_is_a_finding(tmp_path):
    """The control of the test above: "AD" read from a clean page is Alzheimer disease."""
    path = tmp_path / "fax.pdf"
    rs.save_fax([_page(["ASSESSMENT:", "AD with progressive memory loss.", *NOTE[8:]])], path)
    review = prefill([path], request_date=WHEN).review
    assert any(f.concept == "NEURODEGENERATIVE" and f.text == "AD" for f in review.findings)
    assert not review.documents[0].noise_pages


def test_a_noise_only_pdf_is_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "fax.pdf"
    rs.save_fax([_page(_random_letters(4))], path)
    review_error = prefill([path, ROOT / "sample_notes" / "c01_gbm_recurrence_vs_necrosis" / "office_note.txt"]).review
    failed = next(d for d in review_error.documents if d.name == "fax.pdf")
    assert failed.error.startswith("PDF has no text (page 1 (") and "noise" in failed.error


def test_osd_output_is_parsed():
    out = "Page number: 0\nOrientation in degrees: 90\nRotate: 270\nOrientation confidence: 17.97\nScript: Latin\n"
    found = parse_osd(out)
    assert (found.rotate, found.confidence) == (270, 17.97)
    assert parse_osd("Too few characters. Skipping this page\n") is None


def _result(words: list[str], confidence: float, tall: bool = False) -> OcrResult:
    text = " ".join(words)
    boxes = [None if ch == " " else ((0, 0, 1, 3) if tall else (0, 0, 3, 1)) for ch in text]
    return OcrResult([Line(text, boxes)], confidence, len(words))


def test_a_doubtful_reading_is_sideways_or_low_confidence_in_few_dictionary_words():
    words = dictionary_words()
    prose = "the patient has a history of left frontal glioblastoma treated with radiation and surgery".split() * 3
    letters = ["qzvx", "bdkl", "trpw", "mxnq"] * 6
    assert not doubtful(_result(prose, 90), 70, words, 0.15)
    assert not doubtful(_result(prose, 60), 70, words, 0.15)  # upright, hard to read: no OSD
    assert doubtful(_result(letters, 60), 70, words, 0.15)  # what an upside-down page reads as
    assert doubtful(_result(prose[:10], 60), 70, words, 0.15)  # too few words to tell
    assert doubtful(_result(prose, 92, tall=True), 70, words, 0.15)  # sideways, read with fair confidence
    assert not doubtful(_result([], 0), 70, words, 0.15)


def test_noise_is_low_confidence_or_few_dictionary_words():
    words = dictionary_words()
    prose = "the patient has a history of left frontal glioblastoma treated with radiation and surgery".split() * 3
    assert not is_noise(_result(prose, 90), 50, words, 0.15)
    assert is_noise(_result(prose, 40), 50, words, 0.15)
    assert is_noise(_result(["qzvx", "bdkl", "trpw", "mxnq"] * 6, 92), 50, words, 0.15)
    assert not is_noise(_result([], 0), 50, words, 0.15)  # blank: told as "no text found" instead


def test_sideways_text_is_told_by_its_boxes():
    assert sideways(_result(["glioblastoma", "radiation"], 90, tall=True))
    assert not sideways(_result(["glioblastoma", "radiation"], 90))
