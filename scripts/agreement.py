"""Inter-annotator agreement between two folders of real-note labels (labels/mtsamples/<split>/*.json).

Why: a precision figure against one labeller's findings means little until we know how far two careful
humans agree on the same notes. The first folder is the reference; the second is scored against it with
the very position matching `extractor evaluate` uses (extractor.evaluate_notes.match_by_position), so
"recall"/"precision" here read like the extractor's. Also: recommendation, indication-status and
checklist agreement, per-flag agreement on matched findings, and Cohen's kappa.
Usage: python scripts/agreement.py FIRST_DIR SECOND_DIR [--json] [--details]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.evaluate_notes import match_by_position, tally_findings  # noqa: E402
from extractor.schemas import FLAGS  # noqa: E402


@dataclass
class NotePair:
    """One note both folders hold: the second's findings tallied against the first's (tally_findings' shape)."""

    key: str
    first: dict
    second: dict
    pairs: list[tuple[dict, dict | None]] = field(default_factory=list)
    flag_counts: Counter = field(default_factory=Counter)
    flag_correct: Counter = field(default_factory=Counter)
    flag_errors: list[str] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)


def load(directory: Path) -> dict[str, dict]:
    """Labels by the note they name (`path`), so two folders pair up whatever their files are called."""
    out = {}
    for p in sorted(directory.glob("*.json")):
        label = json.loads(p.read_text(encoding="utf-8"))
        out[label["path"]] = label
    return out


def _where(f: dict) -> str:
    return f'{f["concept"]} "{f["text"]}" ({f["document"]}:{f["start"]})'


def kappa(first: list[str], second: list[str]) -> float | None:
    """Cohen's kappa of two raters' labels on the same items; None when chance agreement is total."""
    n = len(first)
    if n == 0:
        return None
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / n
    c1, c2 = Counter(first), Counter(second)
    expected = sum(c1[k] * c2[k] for k in c1.keys() | c2.keys()) / (n * n)
    if expected == 1:
        return None
    return (observed - expected) / (1 - expected)


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def _statuses(label: dict, key: str) -> dict[str, str]:
    return {item["id"]: item["status"] for item in label.get(key, [])}


def _agreement(notes: list[NotePair], key: str) -> dict:
    """Agreement over (note, item) pairs both labels hold, overall and per item id."""
    per: dict[str, list[bool]] = {}
    for n in notes:
        a, b = _statuses(n.first, key), _statuses(n.second, key)
        for item in a.keys() & b.keys():
            per.setdefault(item, []).append(a[item] == b[item])
    every = [ok for oks in per.values() for ok in oks]
    return {
        "agreement": _ratio(sum(every), len(every)),
        "items": len(every),
        "by_item": {item: _ratio(sum(oks), len(oks)) for item, oks in sorted(per.items())},
    }


def compare(first_dir: Path, second_dir: Path) -> dict:
    """All figures for the notes both folders label, the first folder taken as the reference."""
    first, second = load(first_dir), load(second_dir)
    notes = []
    for key in sorted(first.keys() & second.keys()):
        n = NotePair(key, first[key], second[key])
        n.pairs = match_by_position(n.first.get("findings", []), n.second.get("findings", []))
        tally_findings(n, n.pairs, n.second.get("findings", []), _where)
        notes.append(n)
    by_concept: dict[str, Counter] = {}
    for n in notes:
        for lab, other in n.pairs:
            c = by_concept.setdefault(lab["concept"], Counter())
            c["first"] += 1
            c["matched"] += other is not None
        for f in n.second.get("findings", []):
            by_concept.setdefault(f["concept"], Counter())["second"] += 1
    flag_counts: Counter = Counter()
    flag_correct: Counter = Counter()
    flag_kappa = {}
    for n in notes:
        flag_counts.update(n.flag_counts)
        flag_correct.update(n.flag_correct)
    for flag in FLAGS:
        a = [str(bool(lab.get(flag))) for n in notes for lab, o in n.pairs if o is not None]
        b = [str(bool(o.get(flag))) for n in notes for _, o in n.pairs if o is not None]
        flag_kappa[flag] = kappa(a, b)
    matched = sum(o is not None for n in notes for _, o in n.pairs)
    recs = ([n.first["recommendation"] for n in notes], [n.second["recommendation"] for n in notes])
    return {
        "notes": len(notes),
        "first_findings": sum(len(n.first.get("findings", [])) for n in notes),
        "second_findings": sum(len(n.second.get("findings", [])) for n in notes),
        "matched": matched,
        "recall": _ratio(matched, sum(len(n.pairs) for n in notes)),
        "precision": _ratio(matched, sum(len(n.second.get("findings", [])) for n in notes)),
        "by_concept": {
            c: {
                "first": v["first"],
                "second": v["second"],
                "matched": v["matched"],
                "recall": _ratio(v["matched"], v["first"]),
                "precision": _ratio(v["matched"], v["second"]),
            }
            for c, v in sorted(by_concept.items())
        },
        "recommendation_agreement": _ratio(sum(a == b for a, b in zip(*recs, strict=True)), len(notes)),
        "recommendation_kappa": kappa(*recs),
        "indications": _agreement(notes, "indications"),
        "checklist": _agreement(notes, "documentation"),
        "flag_agreement": {f: _ratio(flag_correct[f], flag_counts[f]) for f in FLAGS},
        "flag_kappa": flag_kappa,
        "pairs": notes,
    }


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.1%}"


def _num(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def print_report(res: dict, details: bool, console) -> None:
    from rich.table import Table

    console.print(f"[bold]Agreement[/bold] over {res['notes']} notes (first = reference)")
    top = Table(show_header=True)
    top.add_column("figure")
    top.add_column("value", justify="right")
    top.add_row(
        "findings first / second / matched", f"{res['first_findings']} / {res['second_findings']} / {res['matched']}"
    )
    top.add_row("finding recall (second vs first)", _pct(res["recall"]))
    top.add_row("finding precision (second vs first)", _pct(res["precision"]))
    top.add_row("recommendation agreement", _pct(res["recommendation_agreement"]))
    top.add_row("recommendation Cohen's kappa", _num(res["recommendation_kappa"]))
    top.add_row(f"indication-status agreement ({res['indications']['items']})", _pct(res["indications"]["agreement"]))
    for item, v in res["indications"]["by_item"].items():
        top.add_row(f"  {item}", _pct(v))
    top.add_row(f"checklist agreement ({res['checklist']['items']})", _pct(res["checklist"]["agreement"]))
    for item, v in res["checklist"]["by_item"].items():
        top.add_row(f"  {item}", _pct(v))
    for flag in FLAGS:
        top.add_row(
            f"flag {flag} (agreement, kappa)", f"{_pct(res['flag_agreement'][flag])}, {_num(res['flag_kappa'][flag])}"
        )
    console.print(top)
    table = Table(title="Per concept")
    for col in ("concept", "first", "second", "matched", "recall", "precision"):
        table.add_column(col, justify="left" if col == "concept" else "right")
    for c, v in res["by_concept"].items():
        table.add_row(c, str(v["first"]), str(v["second"]), str(v["matched"]), _pct(v["recall"]), _pct(v["precision"]))
    console.print(table)
    if not details:
        return
    for n in res["pairs"]:
        rec = (n.first["recommendation"], n.second["recommendation"])
        lines = [f"    only first: {m}" for m in n.missed] + [f"    only second: {m}" for m in n.spurious]
        lines += [f"    flag {e}" for e in n.flag_errors]
        for key in ("indications", "documentation"):
            a, b = _statuses(n.first, key), _statuses(n.second, key)
            lines += [f"    {key} {i}: {a[i]} / {b[i]}" for i in sorted(a.keys() & b.keys()) if a[i] != b[i]]
        if lines or rec[0] != rec[1]:
            console.print(f"{n.key}: recommendation {rec[0]} / {rec[1]}", markup=False)
            for line in lines:
                console.print(line, markup=False)


def as_json(res: dict) -> dict:
    return {k: v for k, v in res.items() if k != "pairs"}


def main(argv: list[str] | None = None) -> int:
    from rich.console import Console

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("first", type=Path, help="reference label folder")
    ap.add_argument("second", type=Path, help="label folder scored against it")
    ap.add_argument("--json", action="store_true", help="print the figures as JSON")
    ap.add_argument("--details", action="store_true", help="list every disagreement, note by note")
    args = ap.parse_args(argv)
    res = compare(args.first, args.second)
    if res["notes"] == 0:
        print(f"error: no note is labelled in both {args.first} and {args.second}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(as_json(res), indent=1))
    else:
        print_report(res, args.details, Console(highlight=False, soft_wrap=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
