"""Evaluation on labelled real notes (labels/mtsamples/<split>/*.json): findings matched by position.

A label names its note by `path` inside a corpus folder (../shared/eval/mtsamples); the notes are never
copied into the repository. Matching by character span (not by text) is what makes precision honest: a
"tumor" found in the wrong sentence is spurious even when the note has a labelled "tumor" elsewhere.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path

from extractor.case import prefill
from extractor.schemas import FLAGS

CORPUS_PARTS = ("shared", "eval", "mtsamples")


def is_label_dir(directory: Path) -> bool:
    """A folder of real-note labels (one JSON per note with a `path`), not of sample case folders."""
    for p in sorted(directory.glob("*.json")):
        try:
            return "path" in json.loads(p.read_text(encoding="utf-8"))
        except (ValueError, OSError):
            return False
    return False


def default_corpus(directory: Path) -> Path | None:
    """The notes folder: ../shared/eval/mtsamples seen from the labels, the working directory or the repo."""
    starts = [directory.resolve(), Path.cwd().resolve(), Path(__file__).resolve().parent]
    for start in starts:
        for base in (start, *start.parents):
            for candidate in (base.joinpath(*CORPUS_PARTS), base.parent.joinpath(*CORPUS_PARTS)):
                if candidate.is_dir():
                    return candidate
    return None


def match_by_position(labels: list[dict], predicted: list[dict]) -> list[tuple[dict, dict | None]]:
    """Pair each labelled finding with the unused predicted finding of the same concept and document whose
    span overlaps it most; a prediction overlapping nothing labelled stays unpaired (spurious)."""
    used: set[int] = set()
    pairs: list[tuple[dict, dict | None]] = []
    for lab in labels:
        best, best_overlap = None, 0
        for i, pred in enumerate(predicted):
            if i in used or pred["concept"] != lab["concept"] or pred["document"] != lab["document"]:
                continue
            overlap = min(lab["end"], pred["end"]) - max(lab["start"], pred["start"])
            if overlap > best_overlap:
                best, best_overlap = i, overlap
        if best is not None:
            used.add(best)
        pairs.append((lab, predicted[best] if best is not None else None))
    return pairs


def _where(f: dict) -> str:
    return f'{f["concept"]} "{f["text"]}" ({f["document"]}:{f["start"]})'


@dataclass
class NoteScore:
    """One labelled note against its prefilled review."""

    case_id: str
    path: str
    recommendation: tuple[str, str]
    indications: dict[str, tuple[str, str]]
    documentation: dict[str, tuple[str, str]]
    labelled: int
    predicted: int
    matched: int
    flag_counts: Counter = field(default_factory=Counter)
    flag_correct: Counter = field(default_factory=Counter)
    flag_errors: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)


def score_note(label: dict, corpus: Path) -> NoteScore:
    note = corpus / label["path"]
    req = date.fromisoformat(label["request_date"]) if label.get("request_date") else None
    review = prefill([note], request_date=req).review.model_dump()
    predicted = review["findings"]
    pairs = match_by_position(label.get("findings", []), predicted)
    got_ind = {i["id"]: i["status"] for i in review["indications"]}
    got_doc = {d["id"]: d["status"] for d in review["documentation"]}
    s = NoteScore(
        case_id=label.get("case_id", note.stem),
        path=label["path"],
        recommendation=(label["recommendation"], review["recommendation"]),
        indications={i["id"]: (i["status"], got_ind.get(i["id"], "?")) for i in label["indications"]},
        documentation={d["id"]: (d["status"], got_doc.get(d["id"], "?")) for d in label.get("documentation", [])},
        labelled=len(pairs),
        predicted=len(predicted),
        matched=sum(p is not None for _, p in pairs),
    )
    tally_findings(s, pairs, predicted, _where)
    return s


def tally_findings(s, pairs: list[tuple[dict, dict | None]], predicted: list[dict], where) -> None:
    """Spurious, missed and per-flag counts of one scored case (sample case or real note) into `s`."""
    paired = {id(p) for _, p in pairs if p is not None}
    s.spurious = [where(p) for p in predicted if id(p) not in paired]
    for lab, pred in pairs:
        if pred is None:
            s.missed.append(where(lab))
            continue
        for flag in FLAGS:
            s.flag_counts[flag] += 1
            if bool(lab.get(flag, False)) == bool(pred[flag]):
                s.flag_correct[flag] += 1
            else:
                s.flag_errors.append(f"{where(lab)}: {flag} expected {bool(lab.get(flag, False))}")


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def evaluate_labels(directory: Path, corpus: Path) -> dict:
    """Per-split figures over every label file in `directory`."""
    labels = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))]
    scores = [score_note(lab, corpus) for lab in labels]
    flag_counts: Counter = Counter()
    flag_correct: Counter = Counter()
    for s in scores:
        flag_counts.update(s.flag_counts)
        flag_correct.update(s.flag_correct)
    inds = [a == b for s in scores for a, b in s.indications.values()]
    docs = [a == b for s in scores for a, b in s.documentation.values()]
    return {
        "cases": len(scores),
        "recommendation_accuracy": _ratio(sum(s.recommendation[0] == s.recommendation[1] for s in scores), len(scores)),
        "indication_accuracy": _ratio(sum(inds), len(inds)),
        "finding_recall": _ratio(sum(s.matched for s in scores), sum(s.labelled for s in scores)),
        "finding_precision": _ratio(sum(s.matched for s in scores), sum(s.predicted for s in scores)),
        "flag_accuracy": {f: flag_correct[f] / flag_counts[f] for f in FLAGS if flag_counts[f]},
        "documentation_accuracy": _ratio(sum(docs), len(docs)),
        "documentation_item_accuracy": {
            item: _ratio(
                sum(a == b for s in scores for i, (a, b) in s.documentation.items() if i == item),
                sum(1 for s in scores if item in s.documentation),
            )
            for item in sorted({i for s in scores for i in s.documentation})
        },
        "scores": scores,
    }


THRESHOLDS = {
    "min_recommendation": "recommendation_accuracy",
    "min_recall": "finding_recall",
    "min_precision": "finding_precision",
    "min_checklist": "documentation_accuracy",
}


def below_thresholds(result: dict, minimums: dict[str, float | None]) -> list[str]:
    """The figures that fall below their `--min-*` floor (a missing figure counts as below)."""
    failed = []
    for option, key in THRESHOLDS.items():
        floor = minimums.get(option)
        if floor is None:
            continue
        value = result.get(key)
        if value is None or value < floor:
            shown = "n/a" if value is None else f"{value:.3f}"
            failed.append(f"{key} {shown} < {floor:.3f} (--{option.replace('_', '-')})")
    return failed


def as_json(result: dict) -> dict:
    out = {k: v for k, v in result.items() if k != "scores"}
    out["notes"] = [
        {**asdict(s), "flag_counts": dict(s.flag_counts), "flag_correct": dict(s.flag_correct)}
        for s in result["scores"]
    ]
    return out


def print_report(result: dict, directory: Path, console) -> None:
    def pct(v: float | None) -> str:
        return "n/a" if v is None else f"{v:.1%}"

    print_ = console.print
    print_(f"[bold]Labelled real notes[/bold] ({result['cases']} in {directory})")
    print_(f"  recommendation accuracy  {pct(result['recommendation_accuracy'])}")
    print_(f"  indication accuracy      {pct(result['indication_accuracy'])}")
    print_(f"  finding recall           {pct(result['finding_recall'])}")
    print_(f"  finding precision        {pct(result['finding_precision'])}")
    for flag, acc in result["flag_accuracy"].items():
        print_(f"  flag accuracy {flag:<13}{pct(acc)}")
    print_(f"  checklist accuracy       {pct(result['documentation_accuracy'])}")
    for item, acc in result["documentation_item_accuracy"].items():
        print_(f"    {item:<27}{pct(acc)}")
    for s in result["scores"]:
        wrong_doc = {k: v for k, v in s.documentation.items() if v[0] != v[1]}
        wrong_ind = {k: v for k, v in s.indications.items() if v[0] != v[1]}
        wrong_rec = s.recommendation[0] != s.recommendation[1]
        if not (wrong_rec or wrong_ind or wrong_doc or s.missed or s.spurious or s.flag_errors):
            continue
        mark = "red" if wrong_rec else "yellow"
        print_(
            f"[bold {mark}]{s.case_id}[/bold {mark}] {s.path}: recommendation expected {s.recommendation[0]}, "
            f"got {s.recommendation[1]}"
        )
        for ind, (want, got) in wrong_ind.items():
            print_(f"    indication {ind}: expected {want}, got {got}", markup=False)
        for item, (want, got) in wrong_doc.items():
            print_(f"    checklist {item}: expected {want}, got {got}", markup=False)
        for m in s.missed:
            print_(f"    missed {m}", markup=False)
        for m in s.spurious:
            print_(f"    spurious {m}", markup=False)
        for e in s.flag_errors:
            print_(f"    flag {e}", markup=False)


def main(directory: Path, corpus: Path | None, minimums: dict[str, float | None], json_out: bool = False) -> int:
    """Score the labels in `directory`; exit 1 when a figure is below its floor, 2 when the notes are missing."""
    import sys

    from rich.console import Console

    corpus = corpus or default_corpus(directory)
    if corpus is None or not corpus.is_dir():
        print("error: notes folder not found (../shared/eval/mtsamples); pass --corpus DIR", file=sys.stderr)
        return 2
    result = evaluate_labels(directory, corpus)
    if json_out:
        print(json.dumps(as_json(result), indent=1))
    else:
        print_report(result, directory, Console(highlight=False, soft_wrap=True))
    failed = below_thresholds(result, minimums)
    for line in failed:
        print(f"below threshold: {line}", file=sys.stderr)
    return 1 if failed else 0
