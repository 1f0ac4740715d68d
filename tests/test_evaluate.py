"""`extractor evaluate` on labelled real notes: matching by position, precision, spurious listing, thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor import evaluate_notes
from extractor.cli import main as cli_main
from tests.helpers import needs

NOTE = "IMPRESSION:\nLeft frontal glioblastoma.\nThe glioblastoma is unchanged in size.\n"
NONE = {"indications": [], "documentation": []}


def _finding(concept: str, text: str, start: int, document: str = "note.txt", **flags: bool) -> dict:
    return {"concept": concept, "text": text, "document": document, "start": start, "end": start + len(text), **flags}


def test_match_by_position_pairs_overlapping_spans_of_the_same_concept_only():
    labels = [_finding("BRAIN_TUMOR", "glioblastoma", 100), _finding("BRAIN_LESION", "mass", 10)]
    predicted = [
        _finding("BRAIN_TUMOR", "glioblastoma", 10),  # same text, elsewhere in the note: not a match
        _finding("BRAIN_TUMOR", "frontal glioblastoma", 92),  # overlaps the labelled span
        _finding("BRAIN_TUMOR", "mass", 10),  # right place, wrong concept
    ]
    pairs = evaluate_notes.match_by_position(labels, predicted)
    assert pairs[0][1] is predicted[1]
    assert pairs[1][1] is None


def test_match_by_position_uses_each_prediction_once():
    labels = [_finding("STROKE", "stroke", 5), _finding("STROKE", "stroke", 5)]
    pairs = evaluate_notes.match_by_position(labels, [_finding("STROKE", "stroke", 5)])
    assert [p is not None for _, p in pairs] == [True, False]


def test_thresholds_name_each_figure_below_its_floor():
    result = {"recommendation_accuracy": 0.95, "finding_recall": 0.7, "finding_precision": None}
    failed = evaluate_notes.below_thresholds(
        result, {"min_recommendation": 0.9, "min_recall": 0.85, "min_precision": 0.9, "min_checklist": None}
    )
    assert len(failed) == 2
    assert failed[0].startswith("finding_recall 0.700 < 0.850")
    assert "finding_precision n/a" in failed[1]


@pytest.fixture
def labelled(tmp_path: Path) -> tuple[Path, Path]:
    """A one-note corpus and a label that names only the first of the note's two glioblastoma mentions."""
    corpus, labels = tmp_path / "corpus", tmp_path / "labels"
    (corpus / "neurology").mkdir(parents=True)
    labels.mkdir()
    (corpus / "neurology" / "note.txt").write_text(NOTE, encoding="utf-8")
    first = NOTE.index("glioblastoma")
    label = {
        "case_id": "mts-1",
        "path": "neurology/note.txt",
        "request_date": "2026-03-12",
        "recommendation": "needs_clinical_review",
        "indications": [{"id": "recurrence_vs_treatment_effect", "status": "not_found"}],
        "findings": [_finding("BRAIN_TUMOR", "glioblastoma", first, **dict.fromkeys(("negated", "uncertain"), False))],
        "documentation": [{"id": "clinician", "status": "missing"}],
    }
    (labels / "1.json").write_text(json.dumps(label), encoding="utf-8")
    return corpus, labels


def test_evaluate_labels_scores_precision_and_lists_spurious_with_offsets(labelled):
    corpus, labels = labelled
    assert evaluate_notes.is_label_dir(labels)
    result = evaluate_notes.evaluate_labels(labels, corpus)
    second = NOTE.index("glioblastoma", NOTE.index("glioblastoma") + 1)
    assert result["finding_recall"] == 1.0
    assert result["finding_precision"] == 0.5
    assert result["scores"][0].spurious == [f'BRAIN_TUMOR "glioblastoma" (note.txt:{second})']
    assert result["recommendation_accuracy"] == 1.0
    assert result["documentation_accuracy"] == 1.0
    assert result["flag_accuracy"]["negated"] == 1.0


def test_cli_exits_non_zero_under_a_min_threshold(labelled, capsys):
    corpus, labels = labelled
    assert cli_main(["evaluate", str(labels), "--corpus", str(corpus), "--min-recall", "0.9"]) == 0
    out = capsys.readouterr().out
    assert "finding precision        50.0%" in out
    assert "spurious BRAIN_TUMOR" in out
    assert cli_main(["evaluate", str(labels), "--corpus", str(corpus), "--min-precision", "0.9"]) == 1
    assert "finding_precision 0.500 < 0.900" in capsys.readouterr().err


def test_cli_lists_a_note_whose_only_error_is_a_flag(labelled, capsys):
    """Regression: a note right on recommendation, findings and checklist but wrong on a flag was not listed."""
    corpus, labels = labelled
    label = json.loads((labels / "1.json").read_text(encoding="utf-8"))
    second = NOTE.index("glioblastoma", NOTE.index("glioblastoma") + 1)
    # the labeller calls the repeat mention "unchanged in size" historical; the extractor reads it as current
    label["findings"].append(_finding("BRAIN_TUMOR", "glioblastoma", second, historical=True))
    (labels / "1.json").write_text(json.dumps(label), encoding="utf-8")
    assert cli_main(["evaluate", str(labels), "--corpus", str(corpus)]) == 0
    out = capsys.readouterr().out
    assert "mts-1 neurology/note.txt" in out
    assert f'flag BRAIN_TUMOR "glioblastoma" (note.txt:{second}): historical expected True' in out


def test_cli_json_output(labelled, capsys):
    corpus, labels = labelled
    assert cli_main(["evaluate", str(labels), "--corpus", str(corpus), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["finding_precision"] == 0.5
    assert data["notes"][0]["spurious"]


def test_missing_corpus_is_an_error(tmp_path, capsys):
    (tmp_path / "1.json").write_text(json.dumps({"path": "x.txt", **NONE}), encoding="utf-8")
    assert evaluate_notes.main(tmp_path, tmp_path / "nowhere", {}) == 2
    assert "--corpus" in capsys.readouterr().err


LABELS = Path(__file__).resolve().parent.parent / "labels" / "mtsamples"
CORPUS = evaluate_notes.default_corpus(LABELS)


@needs(CORPUS is not None, "the MTSamples notes (../shared/eval/mtsamples)")
@pytest.mark.parametrize("label_file", sorted(LABELS.glob("*/*.json")), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_real_note_labels_point_at_their_text(label_file: Path):
    label = json.loads(label_file.read_text(encoding="utf-8"))
    note = (CORPUS / label["path"]).read_text(encoding="utf-8")
    for f in label["findings"]:
        assert note[f["start"] : f["end"]] == f["text"], f
        assert f["document"] == Path(label["path"]).name


@needs(CORPUS is not None, "the MTSamples notes (../shared/eval/mtsamples)")
def test_the_held_out_real_notes_keep_their_reported_figures():
    """CI holds the test split at the figures the README reports (measured once, never tuned on).

    Floors are the measured values rounded down to two places: a rule change that costs a case or a
    finding on notes nobody tuned against fails here. Precision is 0.85 since the split's last three
    brain notes were labelled blind (2026-12-03: 0.639 on those three, the other 50 unchanged at 0.891).
    Round 8 added 14 blind-labelled other-pool notes (67 in all: recommendation 0.955, recall 0.882,
    precision 0.857, checklist 0.937; the 53 earlier notes unchanged, docs/evaluation.md).
    Round 10 added 26 blind-labelled notes from the specialties that write about the brain (93 in all,
    2026-12-03 fifth session: recommendation 0.957, recall 0.903, precision 0.872, checklist 0.935).
    """
    floors = ["--min-recommendation", "0.95", "--min-recall", "0.90", "--min-precision", "0.87"]
    floors += ["--min-checklist", "0.93"]
    assert cli_main(["evaluate", str(LABELS / "test"), *floors]) == 0


WRITTEN = LABELS.parent / "written"


@pytest.mark.parametrize("label_file", sorted(WRITTEN.glob("*.json")), ids=lambda p: p.stem)
def test_written_note_labels_point_at_their_text(label_file: Path):
    """The written notes (labels/written/notes) are ours, so this needs no ../shared."""
    label = json.loads(label_file.read_text(encoding="utf-8"))
    note = (WRITTEN / "notes" / label["path"]).read_text(encoding="utf-8")
    assert label["findings"], label_file.name
    for f in label["findings"]:
        assert note[f["start"] : f["end"]] == f["text"], f
