"""Where a faxed copy loses against its text: each rendered sample's text-PDF, fax and rotated-fax reviews
compared with its text review, outcome and finding by finding.

A finding is matched on its concept, its ConText flags and its words (letters and digits only, lower
case: OCR's line breaks and spacing are not differences). Also compared: the request's CPT codes, date
of birth and member id. Prints one block per case and exits 1 when any outcome differs.
Usage: python scripts/compare_fax.py [CASE_DIR ...]   (default: every case with fax/packet.pdf)
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FLAGS = ("negated", "historical", "hypothetical", "family", "uncertain")
REQUEST = ("cpt_codes", "date_of_birth", "member_id")


def versions(case: Path) -> dict[str, list[Path]]:
    """The case's files in each form it was rendered to."""
    from extractor.evaluate import case_files

    out = {"text": case_files(case), "pdf": sorted((case / "pdf").glob("*.pdf"))}
    for name in ("packet", "rotated"):
        if (case / "fax" / f"{name}.pdf").is_file():
            out["fax" if name == "packet" else "rotated"] = [case / "fax" / f"{name}.pdf"]
    return out


def key(finding) -> tuple:
    words = re.sub(r"[^a-z0-9]", "", finding.text.lower())
    return (finding.concept, words, *(name for name in FLAGS if getattr(finding, name)))


def outcome(review) -> tuple:
    return review.recommendation, tuple(sorted((i.id, i.status) for i in review.indications))


def compare(case: Path) -> bool:
    """Print what each version loses or adds against the text; True when every outcome equals the text's."""
    from extractor.case import prefill

    labels = json.loads((case / "labels.json").read_text(encoding="utf-8"))
    when = date.fromisoformat(labels["request_date"])
    reviews = {kind: prefill(files, request_date=when).review for kind, files in versions(case).items()}
    text = reviews["text"]
    want = Counter(key(f) for f in text.findings)
    same = True
    print(f"{case.name}: text {text.recommendation}, {len(text.findings)} findings")
    for kind, review in reviews.items():
        if kind == "text":
            continue
        got = Counter(key(f) for f in review.findings)
        lost, extra = want - got, got - want
        equal = outcome(review) == outcome(text)
        same &= equal
        request = [k for k in REQUEST if getattr(review.request, k) != getattr(text.request, k)]
        turned = {d.name: d.page_rotation for d in review.documents if d.page_rotation}
        print(
            f"  {kind:8s} outcome {'same' if equal else 'DIFFERENT: ' + str(outcome(review))}; "
            f"findings lost {sum(lost.values())}, extra {sum(extra.values())}"
            + (f"; request differs: {request}" if request else "")
            + (f"; pages turned {turned}" if turned else "")
        )
        for k, n in lost.items():
            print(f"    lost  {n}x {k}")
        for k, n in extra.items():
            print(f"    extra {n}x {k}")
        for k in request:
            print(f"    {k}: text {getattr(text.request, k)!r}, {kind} {getattr(review.request, k)!r}")
    return same


def main(argv: list[str]) -> int:
    cases = [Path(a).resolve() for a in argv] or sorted(
        p for p in (ROOT / "sample_notes").iterdir() if (p / "fax" / "packet.pdf").is_file()
    )
    results = [compare(case) for case in cases]
    print(f"{sum(results)}/{len(results)} cases: every version gives the text's outcome")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
