"""scripts/select_mtsamples.py: the later labelling rounds are exactly what the fixed rule chooses.

Each round's notes were chosen from the sample number alone (sha1 order, per-split pool quotas, for rounds 9
and 10 the specialties that write about the brain) before any was read; re-running the rule over the corpus
index, skipping the notes labelled before the round, must give the committed selection file row for row.
"""

import csv
import hashlib
import importlib.util
import sys

import pytest

from extractor import evaluate_notes
from tests.helpers import ROOT, needs

SPEC = importlib.util.spec_from_file_location("select_mtsamples", ROOT / "scripts" / "select_mtsamples.py")
select = importlib.util.module_from_spec(SPEC)
sys.modules["select_mtsamples"] = select
SPEC.loader.exec_module(select)

LABELS = ROOT / "labels" / "mtsamples"
CORPUS = evaluate_notes.default_corpus(LABELS)


def _rows(path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@needs(CORPUS is not None, "the MTSamples notes (../shared/eval/mtsamples)")
@pytest.mark.parametrize("number", [7, 8, 9, 10])
def test_a_round_is_what_the_fixed_rule_chooses(number: int):
    rows = _rows(CORPUS / "index.csv")
    rows.sort(key=lambda r: hashlib.sha1(f"label-{r['sample']}".encode()).hexdigest())
    labelled = {p.stem for split in ("dev", "test") for p in (LABELS / split).glob("*.json")}
    later = {
        r["sample"]
        for n in select.ROUNDS
        if n >= number and (LABELS / f"selection_round{n}.csv").exists()
        for r in _rows(LABELS / f"selection_round{n}.csv")
    }
    chosen = select.choose(rows, select.ROUNDS[number], labelled - later, select.ROUND_SPECIALTIES.get(number))
    assert chosen == _rows(LABELS / f"selection_round{number}.csv")


@needs(CORPUS is not None, "the MTSamples notes (../shared/eval/mtsamples)")
def test_rounds_9_and_10_hold_only_brain_writing_specialties_and_are_all_labelled():
    index = {r["sample"]: r for r in _rows(CORPUS / "index.csv")}
    for number, split in ((9, "dev"), (10, "test")):
        for r in _rows(LABELS / f"selection_round{number}.csv"):
            assert index[r["sample"]]["folder_specialty"] in select.NEURO_SPECIALTIES
            assert r["split"] == split and (LABELS / split / f"{r['sample']}.json").is_file()
