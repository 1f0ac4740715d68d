"""Rendered sample cases: the text, text-layer PDF, fax image PDF and rotated fax of a case give the same review.

The PDFs are made by scripts/render_samples.py (fax: 200 dpi, 1-bit, skewed, speckled, a fax header
on every page, all documents of the case in one packet; rotated: the same packet with each page fed
turned 90, 180 or 270 degrees) and committed beside each case's labels. scripts/compare_fax.py prints
the differences finding by finding.
"""

import json
import re
import subprocess
from datetime import date
from difflib import SequenceMatcher

import pdfplumber
import pypdfium2 as pdfium
import pytest

from extractor.case import prefill
from extractor.evaluate import case_files, rendered_files
from tests.helpers import SAMPLES

RENDERED = sorted(p for p in SAMPLES.iterdir() if (p / "fax" / "packet.pdf").is_file())


def _outcome(review):
    return review.recommendation, {i.id: i.status for i in review.indications}


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


_FAX_REVIEWS: dict = {}  # each fax is OCR'd once for the whole module (half a minute a packet)


def _fax_review(path, when: date):
    if (path, when) not in _FAX_REVIEWS:
        _FAX_REVIEWS[(path, when)] = prefill([path], request_date=when).review
    return _FAX_REVIEWS[(path, when)]


@pytest.fixture(scope="module", params=RENDERED, ids=[c.name for c in RENDERED])
def versions(request):
    case = request.param
    labels = json.loads((case / "labels.json").read_text(encoding="utf-8"))
    when = date.fromisoformat(labels["request_date"])
    return (
        case,
        labels,
        {
            "text": prefill(case_files(case), request_date=when).review,
            "pdf": prefill(sorted((case / "pdf").glob("*.pdf")), request_date=when).review,
            "fax": _fax_review(case / "fax" / "packet.pdf", when),
            "rotated": _fax_review(case / "fax" / "rotated.pdf", when),
        },
    )


def test_a_representative_subset_is_rendered():
    assert len(RENDERED) >= 5
    for case in RENDERED:
        assert len(list((case / "pdf").glob("*.pdf"))) == len(case_files(case))
        assert (case / "fax" / "rotated.pdf").is_file()


def _finding_keys(review) -> list[tuple]:
    """A finding as the reviewer weighs it: concept, words (OCR's spacing aside) and ConText flags."""
    flags = ("negated", "historical", "hypothetical", "family", "uncertain")
    return sorted((f.concept, _norm(f.text), *(getattr(f, k) for k in flags)) for f in review.findings)


def test_every_version_gives_the_text_outcome(versions):
    """The target of issue 11: text-PDF, fax and rotated fax give the text's recommendation and every
    indication's status."""
    _, _, reviews = versions
    want = _outcome(reviews["text"])
    assert {kind: _outcome(r) for kind, r in reviews.items()} == {kind: want for kind in reviews}


def test_fax_and_rotated_fax_give_the_text_findings(versions):
    """Finding by finding: no negation, history or hypothetical lost to a fax speck or a misread, and a page
    fed turned reads as the upright one."""
    _, _, reviews = versions
    want = _finding_keys(reviews["text"])
    assert _finding_keys(reviews["pdf"]) == want
    assert _finding_keys(reviews["fax"]) == want
    assert _finding_keys(reviews["rotated"]) == want


def test_rotated_fax_pages_are_turned_back(versions):
    _, _, reviews = versions
    docs = reviews["rotated"].documents
    turned = {n: r for d in docs for n, r in d.page_rotation.items()}
    assert sorted(turned) == sorted(n for d in docs for n in d.ocr_pages)
    assert set(turned.values()) <= {90, 180, 270} and len(set(turned.values())) >= 2
    assert not any(d.noise_pages for d in docs) and not reviews["fax"].documents[0].page_rotation


def test_text_pdf_and_fax_give_the_labelled_outcome(versions):
    _, labels, reviews = versions
    want = (labels["recommendation"], {i["id"]: i["status"] for i in labels["indications"]})
    assert {kind: _outcome(r) for kind, r in reviews.items()} == {kind: want for kind in reviews}


@pytest.mark.parametrize("kind", ["packet", "rotated"])
def test_fax_packet_is_split_into_its_typed_documents(versions, kind):
    _, _, reviews = versions
    text_types = [d.type for d in reviews["text"].documents]
    fax_docs = reviews["fax" if kind == "packet" else kind].documents
    assert sorted(d.type for d in fax_docs) == sorted(text_types)
    assert all(d.source == f"{kind}.pdf" and d.name.startswith(f"{kind}.pdf#") for d in fax_docs)
    assert all(d.ocr_pages and set(d.ocr_confidence) == set(d.ocr_pages) for d in fax_docs)
    assert [d.first_page for d in fax_docs] == sorted(d.first_page for d in fax_docs)


def test_fax_header_and_cover_boilerplate_are_never_evidence(versions):
    _, _, reviews = versions
    for f in reviews["fax"].findings + reviews["rotated"].findings:
        assert "18005550147" not in f.sentence and "P.00" not in f.sentence
        assert f.section != "confidentiality_notice" and "confidential" not in f.sentence.lower()


def test_text_pdf_evidence_box_lies_on_the_finding_words(versions):
    case, _, reviews = versions
    for f in reviews["pdf"].findings:
        assert f.bbox is not None, f.text
        with pdfplumber.open(case / "pdf" / f.document) as pdf:
            page = pdf.pages[f.page - 1]
            x0, top, x1, bottom = f.bbox
            words = [
                w["text"]
                for w in page.extract_words()
                if w["x1"] > x0 and w["x0"] < x1 and w["bottom"] > top and w["top"] < bottom
            ]
        assert _norm(f.text) in _norm("".join(words)), (f.text, words)


def _ocr_crop(pdf_path, page_number: int, bbox: list[float], tmp_path) -> str:
    pdf = pdfium.PdfDocument(str(pdf_path))
    scale = 300 / 72
    image = pdf[page_number - 1].render(scale=scale, grayscale=True).to_pil()
    x0, top, x1, bottom = bbox
    pad = 4
    crop = image.crop(tuple(int(v * scale) for v in (x0 - pad, top - pad, x1 + pad, bottom + pad)))
    path = tmp_path / "crop.png"
    crop.save(path)
    out = subprocess.run(["tesseract", path, "stdout", "--psm", "7"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_fax_evidence_box_lies_on_the_finding_words(tmp_path):
    """Tesseract, given only the pixels under a finding's box, reads the finding's words there."""
    case = SAMPLES / "c02_nsclc_brain_met_srs_fax"
    review = _fax_review(case / "fax" / "packet.pdf", date(2026, 2, 18))
    checked = 0
    for f in review.findings:
        if f.bbox is None or len(f.text) < 6:
            continue
        read = _ocr_crop(case / "fax" / "packet.pdf", f.page, f.bbox, tmp_path)
        assert SequenceMatcher(None, _norm(read), _norm(f.text)).ratio() >= 0.75, (f.text, read)
        checked += 1
        if checked == 6:
            break
    assert checked == 6


def test_request_details_survive_pdf_and_fax(versions):
    """Exact from the text layer; from the fax, codes, dates and ids exact, names nearly (OCR may read
    "Samuel" as "Sarnuel": names are no vocabulary words and are not repaired)."""
    _, _, reviews = versions
    exact = ("cpt_codes", "date_of_birth", "member_id")
    names = ("patient_name", "ordering_clinician")
    want = {k: getattr(reviews["text"].request, k) for k in exact + names}
    assert {k: getattr(reviews["pdf"].request, k) for k in exact + names} == want
    for kind in ("fax", "rotated"):
        fax = reviews[kind].request
        assert {k: getattr(fax, k) for k in exact} == {k: want[k] for k in exact}, kind
        for k in names:
            got = getattr(fax, k)
            assert (got is None) == (want[k] is None), k
            assert want[k] is None or SequenceMatcher(None, got, want[k]).ratio() >= 0.9, (got, want[k])


def test_evaluate_scores_every_rendered_version_including_the_rotated_fax():
    for case in RENDERED:
        assert set(rendered_files(case)) == {"text-layer PDF", "fax (OCR)", "rotated fax (OCR)"}
        assert rendered_files(case)["rotated fax (OCR)"] == [case / "fax" / "rotated.pdf"]
