"""Evaluation: labelled sample cases field by field, and the NegEx/ConText kit next to medspaCy's default."""

from __future__ import annotations

import csv
import json
import re
import sys
import warnings
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from extractor.case import prefill
from extractor.evaluate_notes import below_thresholds, tally_findings
from extractor.nlp.normalize import collapse_spaces
from extractor.nlp.pipeline import load, quiet_library_logs
from extractor.schemas import FLAGS

CASE_SKIP = {"labels.json", "README.md"}


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip().lower()


def case_files(case_dir: Path, suffixes: tuple[str, ...] = (".txt",)) -> list[Path]:
    return sorted(p for p in case_dir.iterdir() if p.is_file() and p.name not in CASE_SKIP and p.suffix in suffixes)


def match_findings(labels: list[dict], predicted: list[dict]) -> list[tuple[dict, dict | None]]:
    """Pair each labelled finding with a predicted one: same document and concept, texts that contain one
    another, taken in order of appearance."""
    used: set[int] = set()
    pairs = []
    for lab in labels:
        hit = None
        for i, pred in enumerate(predicted):
            if i in used or pred["concept"] != lab["concept"] or pred["document"] != lab["document"]:
                continue
            a, b = _norm(lab["text"]), _norm(pred["text"])
            if a in b or b in a:
                hit = i
                break
        if hit is not None:
            used.add(hit)
        pairs.append((lab, predicted[hit] if hit is not None else None))
    return pairs


@dataclass
class CaseScore:
    case_id: str
    recommendation: tuple[str, str]
    indications: dict[str, tuple[str, str]]
    matched: int
    labelled: int
    predicted: int
    flag_errors: list[str] = field(default_factory=list)
    flag_counts: Counter = field(default_factory=Counter)
    flag_correct: Counter = field(default_factory=Counter)
    missed: list[str] = field(default_factory=list)
    spurious: list[str] = field(default_factory=list)
    documentation: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def wrong(self) -> bool:
        return self.recommendation[0] != self.recommendation[1] or any(a != b for a, b in self.indications.values())


def score_case(case_dir: Path, files: list[Path] | None = None) -> tuple[CaseScore, dict]:
    labels = json.loads((case_dir / "labels.json").read_text(encoding="utf-8"))
    req = date.fromisoformat(labels["request_date"]) if labels.get("request_date") else None
    review = prefill(files or case_files(case_dir), request_date=req).review.model_dump()
    predicted = review["findings"]
    pairs = match_findings(labels.get("findings", []), predicted)
    got = {i["id"]: i["status"] for i in review["indications"]}
    s = CaseScore(
        case_id=labels.get("case_id", case_dir.name),
        recommendation=(labels["recommendation"], review["recommendation"]),
        indications={i["id"]: (i["status"], got.get(i["id"], "?")) for i in labels["indications"]},
        matched=sum(1 for _, p in pairs if p is not None),
        labelled=len(pairs),
        predicted=len(predicted),
    )
    tally_findings(s, pairs, predicted, lambda f: f'{f["concept"]} "{f["text"]}" ({f["document"]})')
    got_doc = {d["id"]: d["status"] for d in review["documentation"]}
    s.documentation = {d["id"]: (d["status"], got_doc.get(d["id"], "?")) for d in labels.get("documentation", [])}
    return s, review


def evaluate_cases(directory: Path) -> dict:
    cases = sorted(p for p in directory.iterdir() if (p / "labels.json").is_file())
    scores = [score_case(c)[0] for c in cases]
    n = len(scores)
    ind_total = sum(len(s.indications) for s in scores)
    flag_counts: Counter = Counter()
    flag_correct: Counter = Counter()
    for s in scores:
        flag_counts.update(s.flag_counts)
        flag_correct.update(s.flag_correct)
    labelled = sum(s.labelled for s in scores)
    matched = sum(s.matched for s in scores)
    predicted = sum(s.predicted for s in scores)
    doc_total = sum(len(s.documentation) for s in scores)
    return {
        "cases": n,
        "recommendation_accuracy": sum(s.recommendation[0] == s.recommendation[1] for s in scores) / n if n else 0.0,
        "indication_accuracy": sum(a == b for s in scores for a, b in s.indications.values()) / ind_total
        if ind_total
        else 0.0,
        "finding_recall": matched / labelled if labelled else 0.0,
        "finding_precision": matched / predicted if predicted else 0.0,
        "flag_accuracy": {f: flag_correct[f] / flag_counts[f] for f in FLAGS if flag_counts[f]},
        "documentation_accuracy": sum(a == b for s in scores for a, b in s.documentation.values()) / doc_total
        if doc_total
        else None,
        "scores": scores,
    }


def rendered_files(case_dir: Path) -> dict[str, list[Path]]:
    """The rendered versions of a sample case (scripts/render_samples.py): text-layer PDFs, fax packet, and the
    packet fed upside down or sideways page by page."""
    out = {}
    if pdfs := sorted((case_dir / "pdf").glob("*.pdf")):
        out["text-layer PDF"] = pdfs
    if (case_dir / "fax" / "packet.pdf").is_file():
        out["fax (OCR)"] = [case_dir / "fax" / "packet.pdf"]
    if (case_dir / "fax" / "rotated.pdf").is_file():
        out["rotated fax (OCR)"] = [case_dir / "fax" / "rotated.pdf"]
    return out


def evaluate_rendered(directory: Path) -> dict[str, dict]:
    """Recommendation, indication and checklist accuracy of each rendered version against the labels."""
    results: dict[str, list[CaseScore]] = {}
    for case in sorted(p for p in directory.iterdir() if (p / "labels.json").is_file()):
        for kind, files in rendered_files(case).items():
            results.setdefault(kind, []).append(score_case(case, files)[0])
    summary = {}
    for kind, scores in results.items():
        inds = [a == b for s in scores for a, b in s.indications.values()]
        docs = [a == b for s in scores for a, b in s.documentation.values()]
        summary[kind] = {
            "cases": len(scores),
            "recommendation_accuracy": sum(s.recommendation[0] == s.recommendation[1] for s in scores) / len(scores),
            "indication_accuracy": sum(inds) / len(inds) if inds else 0.0,
            "documentation_accuracy": sum(docs) / len(docs) if docs else None,
            "wrong": [s.case_id for s in scores if s.wrong],
        }
    return summary


# --- NegEx / ConText kit ----------------------------------------------------------------------------

KIT_FILE = "rsAnnotations-1-120-random.tsv"


def read_kit(folder: Path) -> list[dict]:
    rows = []
    with open(folder / KIT_FILE, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t")
        next(reader)
        for r in reader:
            if len(r) < 6:
                continue
            rows.append(
                {
                    "line": int(r[0]),
                    "condition": r[1],
                    "sentence": r[2],
                    "negated": r[3] == "Negated",
                    "historical": r[4] == "Historical",
                    "hypothetical": r[4] == "Not particular",
                    "family": r[5] != "Patient",
                }
            )
    return rows


def _condition_span(doc, condition: str):
    """The condition's span: the kit writes the annotated mention in capitals ("a long history of
    SCHIZOPHRENIA" after a "Schizophrenia:" heading), so a capitalised occurrence comes first."""
    words = condition.split()
    if not words:
        return None
    capitals = re.search(r"\s+".join(re.escape(w.upper()) for w in words), doc.text)
    m = capitals or re.search(r"\s+".join(re.escape(w) for w in words), doc.text, flags=re.IGNORECASE)
    if not m:
        return None
    return doc.char_span(m.start(), m.end(), label="CONDITION", alignment_mode="expand")


# the components that finish ConText's flags (the anatomy filter after them drops entities, flags none)
AFTER_CONTEXT = ("context_inner_cues",)


def kit_predictions(nlp, rows: list[dict], skip: tuple[str, ...], collapse: bool = False) -> list[dict | None]:
    """Run `nlp` on each sentence with the condition as the only entity just before ConText.

    `collapse`: read the sentence as `extract` reads a note, space runs collapsed; the compiled rules
    are written for that text (a cue like "coming   in with" is one space apart there)."""
    before = [(n, p) for n, p in nlp.pipeline if n not in skip and n != "medspacy_context" and n not in AFTER_CONTEXT]
    context = nlp.get_pipe("medspacy_context")
    after = [p for n, p in nlp.pipeline if n in AFTER_CONTEXT]
    out: list[dict | None] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row in rows:
            sentence = collapse_spaces(row["sentence"])[0] if collapse else row["sentence"]
            doc = nlp.make_doc(sentence)
            for name, pipe in before:
                if name in ("medspacy_sectionizer",):
                    continue
                doc = pipe(doc)
            span = _condition_span(doc, row["condition"])
            if span is None:
                out.append(None)
                continue
            doc.ents = [span]
            if "medspacy_sectionizer" in nlp.pipe_names and "medspacy_sectionizer" not in skip:
                doc = nlp.get_pipe("medspacy_sectionizer")(doc)
            doc = context(doc)
            for pipe in after:
                doc = pipe(doc)
            ent = doc.ents[0]
            out.append(
                {
                    "negated": ent._.is_negated,
                    "historical": ent._.is_historical,
                    "hypothetical": ent._.is_hypothetical,
                    "family": ent._.is_family,
                }
            )
    return out


def f1(rows: list[dict], preds: list[dict | None], attr: str) -> float:
    tp = fp = fn = 0
    for row, pred in zip(rows, preds, strict=True):
        p = bool(pred and pred[attr])
        if p and row[attr]:
            tp += 1
        elif p:
            fp += 1
        elif row[attr]:
            fn += 1
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


KIT_ATTRS = {
    "negated": "negated",
    "historical": "historical",
    "hypothetical": "hypothetical",
    "family": "other experiencer",
}


def evaluate_kit(folder: Path, baseline: bool = True) -> dict:
    rows = read_kit(folder)
    splits = {"dev": [r for r in rows if r["line"] % 2 == 1], "test": [r for r in rows if r["line"] % 2 == 0]}
    pipelines = {"extractor": (load(), ("medspacy_target_matcher",), True)}
    if baseline:
        import medspacy

        quiet_library_logs()
        pipelines["medspacy default"] = (medspacy.load(), ("medspacy_target_matcher",), False)
    result: dict = {}
    for name, (pipe, skip, collapse) in pipelines.items():
        for split, split_rows in splits.items():
            preds = kit_predictions(pipe, split_rows, skip, collapse)
            result[(name, split)] = {attr: f1(split_rows, preds, attr) for attr in KIT_ATTRS}
            result[(name, split)]["unmatched"] = sum(p is None for p in preds)
    return result


def default_kit_dir() -> Path | None:
    for base in (Path.cwd(), *Path.cwd().parents):
        candidate = base / "shared" / "eval" / "negex_kit"
        if (candidate / KIT_FILE).is_file():
            return candidate
        candidate = base.parent / "shared" / "eval" / "negex_kit"
        if (candidate / KIT_FILE).is_file():
            return candidate
    return None


def main(
    directory: Path,
    kit: Path | None,
    baseline: bool = True,
    minimums: dict[str, float | None] | None = None,
    json_out: bool = False,
) -> int:
    from rich.console import Console
    from rich.table import Table

    console = Console(highlight=False)
    res = evaluate_cases(directory)
    failed = below_thresholds(res, minimums or {})
    for line in failed:
        print(f"below threshold: {line}", file=sys.stderr)
    if json_out:
        print(json.dumps({k: v for k, v in res.items() if k != "scores"}, indent=1))
        return 1 if failed else 0
    console.print(f"[bold]Labelled cases[/bold] ({res['cases']} in {directory})")
    console.print(f"  recommendation accuracy  {res['recommendation_accuracy']:.1%}")
    console.print(f"  indication accuracy      {res['indication_accuracy']:.1%}")
    console.print(f"  finding recall           {res['finding_recall']:.1%}")
    console.print(f"  finding precision        {res['finding_precision']:.1%}")
    for flag, acc in res["flag_accuracy"].items():
        console.print(f"  flag accuracy {flag:<13}{acc:.1%}")
    if res["documentation_accuracy"] is not None:
        console.print(f"  documentation accuracy   {res['documentation_accuracy']:.1%}")
    for s in res["scores"]:
        if s.wrong or s.missed or s.flag_errors:
            console.print(
                f"[bold red]case {s.case_id}[/bold red]: recommendation expected {s.recommendation[0]}, "
                f"got {s.recommendation[1]}",
                markup=True,
            )
            for ind, (want, got) in s.indications.items():
                if want != got:
                    console.print(f"    indication {ind}: expected {want}, got {got}", markup=False)
            for m in s.missed:
                console.print(f"    missed {m}", markup=False)
            for e in s.flag_errors:
                console.print(f"    flag {e}", markup=False)
    for kind, r in evaluate_rendered(directory).items():
        line = (
            f"  {kind:<18} {r['cases']} cases: recommendation {r['recommendation_accuracy']:.1%}, "
            f"indications {r['indication_accuracy']:.1%}"
        )
        if r["documentation_accuracy"] is not None:
            line += f", documentation {r['documentation_accuracy']:.1%}"
        console.print(("[bold]Rendered versions[/bold]\n" if kind == "text-layer PDF" else "") + line, soft_wrap=True)
        for case_id in r["wrong"]:
            console.print(f"    [red]wrong outcome[/red]: {case_id}")
    kit = kit or default_kit_dir()
    if kit is None or not (kit / KIT_FILE).is_file():
        console.print("NegEx/ConText kit not found; pass --negex-kit DIR")
        return 1 if failed else 0
    kres = evaluate_kit(kit, baseline=baseline)
    table = Table(title=f"NegEx/ConText kit F1 ({kit})")
    table.add_column("pipeline")
    table.add_column("split")
    for label in KIT_ATTRS.values():
        table.add_column(label, justify="right")
    table.add_column("unmatched", justify="right")
    for (name, split), scores in kres.items():
        table.add_row(name, split, *(f"{scores[a]:.3f}" for a in KIT_ATTRS), str(scores["unmatched"]))
    console.print(table)
    return 1 if failed else 0
