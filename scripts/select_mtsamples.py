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


def pool(row: dict[str, str]) -> str:
    groups = set(filter(None, row["groups"].split(";")))
    if row["selection"] != "concept_match":
        return "control"
    return "brain" if groups & BRAIN else "other"


def main() -> None:
    corpus = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/eval/mtsamples")
    rows = list(csv.DictReader((corpus / "index.csv").open(encoding="utf-8")))
    rows.sort(key=lambda r: hashlib.sha1(f"label-{r['sample']}".encode()).hexdigest())
    taken: dict[tuple[str, str], int] = {}
    out = []
    for r in rows:
        key = (r["split"], pool(r))
        if taken.get(key, 0) < QUOTA[key]:
            taken[key] = taken.get(key, 0) + 1
            out.append({"sample": r["sample"], "path": r["path"], "split": r["split"], "pool": key[1]})
    out.sort(key=lambda r: (r["split"], int(r["sample"])))
    with open("labels/mtsamples/selection.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["sample", "path", "split", "pool"])
        w.writeheader()
        w.writerows(out)
    print(f"{len(out)} notes chosen: {taken}")


if __name__ == "__main__":
    main()
