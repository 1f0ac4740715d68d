"""Urgency and receipt read from the documents: a checked cover-sheet box or stamp, a fax header's time."""

from datetime import UTC, datetime

import pytest

from extractor import knowledge
from extractor.config import get_settings
from extractor.guideline.receipt import fax_received_at, urgent_in, with_clock
from extractor.schemas import RequestDetails

COVER = """FAX COVER SHEET
To: Utilization Management        From: Neuro-Oncology Clinic
Pages: 3 (including cover)
{box} URGENT    [ ] ROUTINE
Please review the attached request for MR spectroscopy.
"""


@pytest.mark.parametrize(
    "text",
    [
        COVER.format(box="[X]"),
        COVER.format(box="[x]"),
        COVER.format(box="☒"),
        COVER.format(box="[X|"),  # a checked box as Tesseract often reads it
        "Review requested: EXPEDITED [X]   STANDARD [ ]",
        "[ ] Standard   [X] Expedited",
        "*** URGENT ***",
        "STAT REQUEST",
        "Priority: STAT",
        "Request type: Expedited",
        "Expedited review requested for this patient.",
        "Please expedite: patient symptomatic, MRI shows an enlarging lesion.",  # a cover sheet's plea
        "PLEASE RUSH",
        "We are requesting an expedited review of this MRS request.",
    ],
)
def test_a_marked_request_is_urgent(text):
    assert urgent_in([text])


@pytest.mark.parametrize(
    "text",
    [
        COVER.format(box="[ ]"),
        COVER.format(box="☐"),
        "Impression: no urgent findings.",
        "This request is not urgent.",
        "Non-urgent follow-up in 3 months.",
        "[X] Standard   [ ] Urgent",
        "Urgent [ ]   Standard [X]",
        "Standard [X]   Expedited [ ]",
        "Not expedited review requested.",
        "Seen at urgent care on 3/1 for headache.",
        "Patient was given stat dose of dexamethasone.",
        "We are not requesting an expedited review.",
        "Expedite the follow-up visit if symptoms worsen.",
    ],
)
def test_prose_or_an_unchecked_box_is_not_urgent(text):
    assert not urgent_in([text])


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("12/03/2026 14:05 FROM: Neuro Clinic   TO: 555-0100   PAGE 1/3", datetime(2026, 12, 3, 14, 5, tzinfo=UTC)),
        ("Received: Dec 3 2026 2:05PM", datetime(2026, 12, 3, 14, 5, tzinfo=UTC)),
        ("Dec-03-2026 02:05PM  From: Neuro Clinic  P.001/003", datetime(2026, 12, 3, 14, 5, tzinfo=UTC)),
        ("Fax received 12/03/2026 at 14:05", datetime(2026, 12, 3, 14, 5, tzinfo=UTC)),
        ("Sent: 12/03/2026 2:05:13 PM -0500  Page 1 of 3", datetime(2026, 12, 3, 19, 5, 13, tzinfo=UTC)),
        ("2026-12-03 09:05 FAX 555-0100 Neuro Clinic", datetime(2026, 12, 3, 9, 5, tzinfo=UTC)),
    ],
)
def test_the_fax_header_gives_the_transmission_time(header, expected):
    assert fax_received_at([header + "\nPatient: Jane Roe\nDOB: 01/02/1960"]) == expected


def test_dates_that_are_not_a_fax_header_give_no_receipt():
    assert fax_received_at(["DOB: 12/03/1960", "Date of service: 12/03/2026", "Seen 12/03/2026 at clinic"]) is None


def test_a_header_without_a_zone_is_read_in_the_fax_timezone(monkeypatch):
    monkeypatch.setenv("EXTRACTOR_FAX_TIMEZONE", "America/New_York")
    assert get_settings().fax_timezone == "America/New_York"
    assert fax_received_at(["Received: Dec 3 2026 2:05PM"]) == datetime(2026, 12, 3, 19, 5, tzinfo=UTC)


def test_given_beats_documents_beats_default():
    base = RequestDetails(request_date="2026-12-03", request_date_source="today")
    faxed = ["12/03/2026 14:05 FROM: Clinic PAGE 1/2\n[X] URGENT"]
    upload = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)
    found = with_clock(base, faxed, uploaded_at=upload)
    assert (found.urgency, found.urgency_source) == ("expedited", "documents")
    assert (found.received_at, found.received_at_source) == ("2026-12-03T14:05:00Z", "documents")
    given = with_clock(base, faxed, "standard", datetime(2026, 12, 2, 10, 0), upload)
    assert (given.urgency, given.urgency_source, given.received_at, given.received_at_source) == (
        "standard", "given", "2026-12-02T10:00:00Z", "given")  # fmt: skip
    ahead = with_clock(base, ["12/05/2026 14:05 FROM: Clinic PAGE 1/2"], uploaded_at=upload)
    assert (ahead.received_at, ahead.received_at_source) == ("2026-12-04T08:00:00Z", "upload")  # clock runs ahead
    plain = with_clock(base, ["Office note. No urgent findings."], uploaded_at=upload)
    assert (plain.urgency, plain.urgency_source) == ("standard", "default")
    assert (plain.received_at, plain.received_at_source) == ("2026-12-04T08:00:00Z", "upload")


def test_the_patterns_are_data_that_must_compile(tmp_path, monkeypatch):
    fields = knowledge.request_fields()
    assert fields.urgent and fields.fax_received
    import json
    import shutil

    from extractor.errors import KnowledgeError

    for item in knowledge.models_dir().iterdir():
        (shutil.copytree if item.is_dir() else shutil.copy)(item, tmp_path / item.name)
    data = json.loads((tmp_path / "request_fields.json").read_text())
    data["urgent"].append("([X] URGENT")
    (tmp_path / "request_fields.json").write_text(json.dumps(data))
    monkeypatch.setenv("EXTRACTOR_MODELS_DIR", str(tmp_path))
    knowledge.request_fields.cache_clear()
    try:
        with pytest.raises(KnowledgeError, match=r"request_fields\.json"):
            knowledge.request_fields()
    finally:
        knowledge.request_fields.cache_clear()


def test_a_scanned_cover_sheet_read_by_tesseract_gives_urgency_and_the_fax_time():
    """A 200 dpi fax page drawn like the sample faxes and OCR'd by real Tesseract: the checked box and the
    transmission header (taken off the document's text, kept for the clock) reach the review's request."""
    import sys

    from extractor.case import prefill_documents
    from extractor.config import Settings
    from extractor.ingest.sandbox import read_pdf
    from tests.helpers import ROOT, image_page_pdf

    sys.path.insert(0, str(ROOT / "scripts"))
    import render_samples

    header = "DEC-03-2026 14:05   FROM: NEURO CLINIC   (312) 555-0192   TO: 18005550147   P.001/002"
    lines = ["FAX COVER SHEET", "", "To: Utilization Management", "[X] URGENT      [ ] ROUTINE", "",
             "Re: MR spectroscopy request. Glioblastoma s/p chemoradiation; recurrence versus necrosis."]  # fmt: skip
    docs = read_pdf("cover.pdf", image_page_pdf(render_samples.fax_page(lines, header, 7)), Settings())
    assert docs[0].ocr_pages == [1] and "URGENT" in docs[0].text
    assert docs[0].fax_headers and "FROM" not in docs[0].text  # off the text: no finding comes from it
    request = prefill_documents(docs, [], uploaded_at=datetime(2026, 12, 4, 9, 0, tzinfo=UTC)).request
    assert (request.urgency, request.urgency_source) == ("expedited", "documents")
    assert (request.received_at, request.received_at_source) == ("2026-12-03T14:05:00Z", "documents")
    unchecked = [line.replace("[X]", "[ ]") for line in lines]
    docs = read_pdf("cover.pdf", image_page_pdf(render_samples.fax_page(unchecked, header, 7)), Settings())
    assert urgent_in([docs[0].text]) is False
