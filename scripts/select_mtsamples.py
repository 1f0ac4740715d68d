"""Fixed choice of the MTSamples notes to label (../shared/eval/mtsamples), made before any was read.

Order within each pool is by sha1 of "label-<sample>", so the choice depends on the sample number
alone; the split is the corpus's own `split` column and never changes.
"""

import csv
import hashlib
import sys
from pathlib import Path

BRAIN = {"brain_tumor", "brain_lesion_mass", "brain_surgery", "head_radiation", "cns_infection",
         "demyelination_ms", "brain_mri"}
QUOTA = {("dev", "brain"): 36, ("dev", "other"): 10, ("dev", "control"): 10,
         ("test", "brain"): 22, ("test", "other"): 6, ("test", "control"): 6}
# Third round (2026-12-02): the next notes in the same order, past every note labelled so far.
QUOTA3 = {("dev", "brain"): 14, ("dev", "other"): 3, ("dev", "control"): 3,
          ("test", "brain"): 12, ("test", "other"): 2, ("test", "control"): 2}


def pool(row: dict[str, str]) -> str:
    groups = set(filter(None, row["groups"].split(";")))
    if row["selection"] != "concept_match":
        return "control"
    return "brain" if groups & BRAIN else "other"


def choose(rows: list[dict[str, str]], quota: dict, skip: set[str]) -> list[dict[str, str]]:
    taken: dict[tuple[str, str], int] = {}
    out = []
    for r in rows:
        key = (r["split"], pool(r))
        if r["sample"] not in skip and taken.get(key, 0) < quota[key]:
            taken[key] = taken.get(key, 0) + 1
            out.append({"sample": r["sample"], "path": r["path"], "split": r["split"], "pool": key[1]})
    out.sort(key=lambda r: (r["split"], int(r["sample"])))
    print(f"{len(out)} notes chosen: {taken}")
    return out


def write(path: str, out: list[dict[str, str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["sample", "path", "split", "pool"])
        w.writeheader()
        w.writerows(out)


def main() -> None:
    """`select_mtsamples.py [CORPUS] [--round3]`: round 3 skips every note already labelled."""
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    corpus = Path(args[0] if args else "../shared/eval/mtsamples")
    rows = list(csv.DictReader((corpus / "index.csv").open(encoding="utf-8")))
    rows.sort(key=lambda r: hashlib.sha1(f"label-{r['sample']}".encode()).hexdigest())
    if "--round3" not in sys.argv:
        write("labels/mtsamples/selection.csv", choose(rows, QUOTA, set()))
        return
    labelled = {p.stem for split in ("dev", "test") for p in Path("labels/mtsamples", split).glob("*.json")}
    write("labels/mtsamples/selection_round3.csv", choose(rows, QUOTA3, labelled))


if __name__ == "__main__":
    main()
