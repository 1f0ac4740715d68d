"""Date rules against the request date (models/pipeline.json recent_days, old_document_days)."""

from datetime import date, timedelta

from extractor import knowledge
from extractor.guideline.dates import date_findings
from extractor.schemas import Finding

REQUEST = date(2026, 3, 12)


def _finding(concept: str, sentence: str, *, dated: str | None = None, document: str = "note.txt") -> Finding:
    return Finding(concept=concept, text=concept, document=document, page=1, start=0, end=1,
                   sentence=sentence, historical=dated is not None, dated=dated)  # fmt: skip


def test_a_dated_cue_within_recent_days_of_the_request_is_current():
    recent = _finding("EPILEPSY", "She had two seizures in 02/2026.", dated="in 02/2026")
    old = _finding("EPILEPSY", "She had a seizure in 2019.", dated="in 2019")
    date_findings([recent, old], {}, REQUEST)
    assert (recent.historical, old.historical) == (False, True)


def test_the_recent_window_is_the_configured_one():
    days = knowledge.pipeline_config().recent_days
    edge = REQUEST - timedelta(days=days + 31)
    late = _finding("EPILEPSY", "Seizure.", dated=f"in {edge.month:02d}/{edge.year}")
    date_findings([late], {}, REQUEST)
    assert late.historical


def test_a_treatment_told_in_a_document_dated_long_before_the_request_is_past():
    cfg = knowledge.pipeline_config()
    concept = cfg.old_document_historical[0]
    old_doc = (REQUEST - timedelta(days=cfg.old_document_days + 1)).isoformat()
    new_doc = (REQUEST - timedelta(days=cfg.old_document_days - 1)).isoformat()
    told_then = _finding(concept, "Subtotal resection performed.", document="path_2019.txt")
    told_now = _finding(concept, "Subtotal resection performed.", document="op_note.txt")
    lesion = _finding("BRAIN_LESION", "Enhancing lesion.", document="path_2019.txt")
    date_findings([told_then, told_now, lesion], {"path_2019.txt": old_doc, "op_note.txt": new_doc}, REQUEST)
    assert (told_then.historical, told_now.historical, lesion.historical) == (True, False, False)
