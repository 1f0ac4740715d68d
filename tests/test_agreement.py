"""scripts/agreement.py on two tiny hand-made label folders whose figures were worked out by hand; and the
second labeller's real-note labels point at their text."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from extractor import evaluate_notes
from tests.helpers import ROOT, needs

SPEC = importlib.util.spec_from_file_location("agreement", ROOT / "scripts" / "agreement.py")
agreement = importlib.util.module_from_spec(SPEC)
sys.modules["agreement"] = agreement  # dataclasses look their module up there
SPEC.loader.exec_module(agreement)

FLAGS = ("negated", "historical", "hypothetical", "family", "uncertain")


def _f(concept: str, text: str, start: int, document: str, *flags: str) -> dict:
    return {
        "concept": concept,
        "text": text,
        "document": document,
        "start": start,
        "end": start + len(text),
        **{f: f in flags for f in FLAGS},
    }


def _label(path: str, rec: str, findings: list[dict], inds: dict[str, str], docs: dict[str, str]) -> dict:
    return {
        "path": path,
        "recommendation": rec,
        "findings": findings,
        "indications": [{"id": k, "status": v} for k, v in inds.items()],
        "documentation": [{"id": k, "status": v} for k, v in docs.items()],
    }


REC, TVN = "recurrence_vs_treatment_effect", "tumor_vs_nontumor"


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """Note a: a tumour and surgery both labelled (the surgery's historical flag disputed), a negated stroke
    only in the first, a seizure only in the second. Note b: a shared uncertain CVA plus a second CVA only
    in the second (no overlap). Note c is only in the first folder and must be ignored."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    a, b = "x/a.txt", "x/b.txt"
    labels_first = [
        _label(
            a,
            "likely_meets_criteria",
            [
                _f("BRAIN_TUMOR", "glioma", 0, "a.txt"),
                _f("PRIOR_SURGERY", "resection", 10, "a.txt", "historical"),
                _f("STROKE", "stroke", 30, "a.txt", "negated"),
            ],
            {REC: "supported", TVN: "partial"},
            {"clinician": "present", "office_visit_note": "missing"},
        ),
        _label(
            b,
            "experimental_investigational",
            [_f("STROKE", "CVA", 5, "b.txt", "uncertain")],
            {REC: "not_found", TVN: "not_found"},
            {"clinician": "missing", "office_visit_note": "present"},
        ),
        _label("x/c.txt", "needs_clinical_review", [_f("STROKE", "CVA", 0, "c.txt")], {}, {}),
    ]
    labels_second = [
        _label(
            a,
            "likely_meets_criteria",
            [
                _f("BRAIN_TUMOR", "left glioma", 0, "a.txt"),
                _f("PRIOR_SURGERY", "resection", 10, "a.txt"),
                _f("EPILEPSY", "seizure", 40, "a.txt"),
            ],
            {REC: "supported", TVN: "not_found"},
            {"clinician": "present", "office_visit_note": "missing"},
        ),
        _label(
            b,
            "needs_clinical_review",
            [_f("STROKE", "CVA", 5, "b.txt", "uncertain"), _f("STROKE", "CVA", 50, "b.txt")],
            {REC: "not_found", TVN: "not_found"},
            {"clinician": "present", "office_visit_note": "present"},
        ),
    ]
    for i, lab in enumerate(labels_first):
        (first / f"{i}.json").write_text(json.dumps(lab), encoding="utf-8")
    for i, lab in enumerate(labels_second):  # other file names: notes pair up by `path`
        (second / f"s{i}.json").write_text(json.dumps(lab), encoding="utf-8")
    return first, second


def test_hand_computed_figures(folders):
    res = agreement.compare(*folders)
    assert res["notes"] == 2
    assert (res["first_findings"], res["second_findings"], res["matched"]) == (4, 5, 3)
    assert res["recall"] == pytest.approx(3 / 4)
    assert res["precision"] == pytest.approx(3 / 5)
    by = res["by_concept"]
    assert by["STROKE"] == {"first": 2, "second": 2, "matched": 1, "recall": 0.5, "precision": 0.5}
    assert by["EPILEPSY"]["recall"] is None and by["EPILEPSY"]["precision"] == 0
    assert by["BRAIN_TUMOR"]["matched"] == 1  # overlapping spans match, as in `extractor evaluate`
    assert res["recommendation_agreement"] == 0.5
    # po = 1/2, pe = (1*1)/(2*2) = 1/4: kappa = (1/2 - 1/4) / (3/4) = 1/3
    assert res["recommendation_kappa"] == pytest.approx(1 / 3)
    assert res["indications"]["agreement"] == pytest.approx(3 / 4)
    assert res["indications"]["by_item"] == {REC: 1.0, TVN: 0.5}
    assert res["checklist"]["agreement"] == pytest.approx(3 / 4)
    assert res["checklist"]["by_item"] == {"clinician": 0.5, "office_visit_note": 1.0}
    assert res["flag_agreement"]["historical"] == pytest.approx(2 / 3)
    assert res["flag_agreement"]["uncertain"] == 1.0
    # historical: first F,T,F against second F,F,F: po = 2/3 = pe, kappa 0; negated all False: undefined
    assert res["flag_kappa"]["historical"] == pytest.approx(0.0)
    assert res["flag_kappa"]["negated"] is None
    assert res["flag_kappa"]["uncertain"] == pytest.approx(1.0)


def test_kappa_edges():
    assert agreement.kappa(["a", "b", "a"], ["a", "b", "a"]) == pytest.approx(1.0)
    # po = 0, pe = (1*1 + 1*1)/4 = 1/2: kappa = -1
    assert agreement.kappa(["a", "b"], ["b", "a"]) == pytest.approx(-1.0)
    assert agreement.kappa([], []) is None


def test_cli_prints_table_and_details(folders, capsys):
    assert agreement.main([str(folders[0]), str(folders[1]), "--details"]) == 0
    out = capsys.readouterr().out
    assert "75.0%" in out and "60.0%" in out
    assert 'only first: STROKE "stroke" (a.txt:30)' in out
    assert 'only second: EPILEPSY "seizure" (a.txt:40)' in out
    assert agreement.main([str(folders[0]), str(folders[1]), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["matched"] == 3


def test_cli_without_common_notes_is_an_error(folders, tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert agreement.main([str(folders[0]), str(empty)]) == 2
    assert "no note is labelled in both" in capsys.readouterr().err


SECOND = ROOT / "labels" / "mtsamples" / "second"
CORPUS = evaluate_notes.default_corpus(ROOT / "labels" / "mtsamples")


@needs(CORPUS is not None, "the MTSamples notes (../shared/eval/mtsamples)")
@pytest.mark.parametrize("label_file", sorted(SECOND.glob("*/*.json")), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_second_labeller_labels_point_at_their_text(label_file: Path):
    label = json.loads(label_file.read_text(encoding="utf-8"))
    note = (CORPUS / label["path"]).read_text(encoding="utf-8")
    assert [f["start"] for f in label["findings"]] == sorted(f["start"] for f in label["findings"])
    for f in label["findings"]:
        assert note[f["start"] : f["end"]] == f["text"], f
        assert f["document"] == Path(label["path"]).name
    assert len(label["indications"]) == 6 and len(label["documentation"]) == 5
