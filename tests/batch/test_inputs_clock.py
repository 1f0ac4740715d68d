"""The backfill manifest's optional clock columns: urgency and received_at, checked per row."""

from datetime import datetime

from extractor.batch.inputs import discover


def test_manifest_urgency_and_received_at_reach_the_case_and_bad_values_are_row_errors(tmp_path):
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_text("Office note.\n")
    (tmp_path / "m.csv").write_text(
        "case_id,path,request_date,urgency,received_at\n"
        "one,a.txt,2025-03-01,Expedited,2025-03-01T08:00:00Z\n"
        "one,b.txt,,,\n"
        "two,c.txt,,standard,2025-03-02 09:30\n"
        "three,c.txt,,urgent-ish,\n"
        "four,c.txt,,,yesterday\n"
        "five,c.txt,,,\n"
    )
    cases = {c.case_id: c for c in discover(tmp_path / "m.csv")}
    assert (cases["one"].urgency, cases["one"].received_at) == ("expedited", datetime(2025, 3, 1, 8, 0))
    assert len(cases["one"].files) == 2 and cases["one"].error is None
    assert (cases["two"].urgency, cases["two"].received_at) == ("standard", datetime(2025, 3, 2, 9, 30))
    assert "urgency must be one of expedited, standard" in cases["three"].error
    assert "received_at is not a date and time" in cases["four"].error
    assert (cases["five"].urgency, cases["five"].received_at, cases["five"].error) == (None, None, None)
