"""Reading notes: encodings, bad files, hard-wrapped text and the offset map back to the source."""

import pytest

from extractor.errors import DocumentError
from extractor.ingest.document import classify
from extractor.ingest.files import decode_text
from extractor.nlp.normalize import rejoin

NOTE = "Assessment: recurrence versus radiation necrosis \u2013 \u201cquestion\u201d.\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "latin-1"])
def test_decodes_common_encodings(encoding):
    text = NOTE if encoding != "latin-1" else NOTE.replace("\u2013", "-").replace("\u201c", '"').replace("\u201d", '"')
    assert decode_text(text.encode(encoding)).lstrip("\ufeff") == text


@pytest.mark.parametrize(
    "data,reason",
    [
        (b"", "empty"),
        (b"   \n\t", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
        (bytes(range(256)) * 20, "binary"),
    ],
)
def test_bad_bytes_are_refused(data, reason):
    with pytest.raises(DocumentError, match=reason):
        decode_text(data)


def test_rejoin_keeps_headers_fields_and_list_items():
    text = (
        "HISTORY OF PRESENT ILLNESS:\nDOB: 01/02/1960\n- item one\n- item two\n"
        "A sentence that is long enough to look like a wrapped line in a fixed-width fax page\n"
        "continues here on the next line.\n"
    )
    joined, src = rejoin(text)
    assert "ILLNESS:\nDOB" in joined and "1960\n- item one\n- item two" in joined
    assert "fax page continues" in joined
    assert len(joined) == len(src)
    assert all(joined[i] == text[src[i]] or joined[i] == " " for i in range(len(joined)))


def test_rejoin_mends_hyphen_broken_words_but_keeps_real_hyphens():
    text = (
        "Imaging shows a large heterogeneous enhancing mass concerning for radia-\n"
        "tion necrosis rather than a low-\ngrade glioma in this patient today.\n"
    )
    joined, src = rejoin(text)
    assert "radiation necrosis" in joined
    assert "low-grade glioma" in joined
    start = joined.index("radiation")
    assert text[src[start] : src[start + len("radiation") - 1] + 1] == "radia-\ntion"


def test_rejoin_handles_crlf():
    joined, _ = rejoin("Line one of a note\r\nLine two\r\n")
    assert "\r" not in joined


def test_classify_document_types():
    assert (
        classify("FAX COVER SHEET\nTo: Utilization Review\nFrom: Clinic\nPages (including cover): 4\n") == "cover_sheet"
    )
    assert (
        classify(
            "MRI BRAIN WITH AND WITHOUT CONTRAST\nTECHNIQUE: ...\nCOMPARISON: 01/01/2026\nFINDINGS:\nIMPRESSION:\n"
        )
        == "imaging_report"
    )
    assert classify("NEURO-ONCOLOGY OFFICE VISIT\nHISTORY OF PRESENT ILLNESS:\nASSESSMENT AND PLAN:\n") == "office_note"


def test_classify_tie_goes_to_the_type_whose_title_opens_the_document():
    """A consult's first page quotes lab values: as many lab cues as consult cues, the title decides."""
    page = (
        "CEDAR VALLEY NEUROLOGY\nNEW PATIENT CONSULTATION\nPatient: Gregory Lindqvist\n"
        "HISTORY OF PRESENT ILLNESS: fevers; MRI brain shows a ring-enhancing lesion.\n"
        "Creatinine 0.9 mg/dL, eGFR > 90.\nASSESSMENT: abscess versus high-grade glioma.\n"
    )
    assert classify(page) == "consult_note"


def test_rejoin_a_sentence_ending_before_a_colon_is_no_field_label():
    """A line "encephalitis. Repeat MRI 03/09/2026: ..." continues the sentence of the line before (a
    fax's line breaks fell there and the sentence "for possible encephalitis" lost its hedge)."""
    text = "She completed 14 days of empiric acyclovir for possible\nencephalitis. Repeat MRI 03/09/2026: larger."
    assert rejoin(text)[0] == text.replace("\n", " ")
    assert rejoin("Plan of care\nNeuro: negative")[0] == "Plan of care\nNeuro: negative"
