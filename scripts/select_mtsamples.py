"""Fixed choice of the MTSamples notes to label (../shared/eval/mtsamples), made before any was read.

Order within each pool is by sha1 of "label-<sample>", so the choice depends on the sample number
alone; the split is the corpus's own `split` column and never changes.
"""

import csv
import hashlib
import sys
from pathlib import Path

BRAIN = {
    "brain_tumor",
    "brain_lesion_mass",
    "brain_surgery",
    "head_radiation",
    "cns_infection",
    "demyelination_ms",
    "brain_mri",
}
QUOTA = {
    ("dev", "brain"): 36,
    ("dev", "other"): 10,
    ("dev", "control"): 10,
    ("test", "brain"): 22,
    ("test", "other"): 6,
    ("test", "control"): 6,
}
# Later rounds (2026-12-02): the next notes in the same order, past every note labelled before the round.
ROUNDS = {
    3: {
        ("dev", "brain"): 14,
        ("dev", "other"): 3,
        ("dev", "control"): 3,
        ("test", "brain"): 12,
        ("test", "other"): 2,
        ("test", "control"): 2,
    },
    4: {
        ("dev", "brain"): 16,
        ("dev", "other"): 4,
        ("dev", "control"): 4,
        ("test", "brain"): 0,
        ("test", "other"): 0,
        ("test", "control"): 0,
    },
    5: {
        ("dev", "brain"): 21,
        ("dev", "other"): 13,
        ("dev", "control"): 2,
        ("test", "brain"): 0,
        ("test", "other"): 0,
        ("test", "control"): 0,
    },
    # 2026-12-03: the test split's last brain-screen notes (labelled blind, before any extractor run)
    6: {
        ("dev", "brain"): 0,
        ("dev", "other"): 0,
        ("dev", "control"): 0,
        ("test", "brain"): 3,
        ("test", "other"): 0,
        ("test", "control"): 0,
    },
    # 2026-12-03 (session 22): the dev split's next "other"-pool notes, where look-alikes turn spurious
    7: {
        ("dev", "brain"): 0,
        ("dev", "other"): 28,
        ("dev", "control"): 0,
        ("test", "brain"): 0,
        ("test", "other"): 0,
        ("test", "control"): 0,
    },
    # 2026-12-03 (session 22): the test split's next "other"-pool notes (its brain pool is used up), so the
    # held-out split holds the kinds of note dev now holds; the 53 earlier test notes are reported apart
    8: {
        ("dev", "brain"): 0,
        ("dev", "other"): 0,
        ("dev", "control"): 0,
        ("test", "brain"): 0,
        ("test", "other"): 14,
        ("test", "control"): 0,
    },
    # 2026-12-03 (session 23): each split's remaining "other"-pool notes from the specialties that write
    # about the brain (NEURO_SPECIALTIES), where brain-note language is; dev's to learn from, test's held out
    9: {
        ("dev", "brain"): 0,
        ("dev", "other"): 32,
        ("dev", "control"): 0,
        ("test", "brain"): 0,
        ("test", "other"): 0,
        ("test", "control"): 0,
    },
    10: {
        ("dev", "brain"): 0,
        ("dev", "other"): 0,
        ("dev", "control"): 0,
        ("test", "brain"): 0,
        ("test", "other"): 26,
        ("test", "control"): 0,
    },
}
NEURO_SPECIALTIES = {
    "Neurology",
    "Neurosurgery",
    "Radiology",
    "Discharge Summary",
    "Hematology - Oncology",
    "Emergency Room Reports",
    "SOAP / Chart / Progress Notes",
}
ROUND_SPECIALTIES = {9: NEURO_SPECIALTIES, 10: NEURO_SPECIALTIES}


def pool(row: dict[str, str]) -> str:
    groups = set(filter(None, row["groups"].split(";")))
    if row["selection"] != "concept_match":
        return "control"
    return "brain" if groups & BRAIN else "other"


def choose(
    rows: list[dict[str, str]], quota: dict, skip: set[str], specialties: set[str] | None = None
) -> list[dict[str, str]]:
    taken: dict[tuple[str, str], int] = {}
    out = []
    for r in rows:
        key = (r["split"], pool(r))
        if specialties is not None and r["folder_specialty"] not in specialties:
            continue
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
    """`select_mtsamples.py [CORPUS] [--round N]`: round N skips every note labelled before it (the notes
    of round N and later rounds, listed in their selection_roundN.csv, are not "before")."""
    args = sys.argv[1:]
    number = int(args[args.index("--round") + 1]) if "--round" in args else None
    rest = [a for i, a in enumerate(args) if not a.startswith("--") and (i == 0 or args[i - 1] != "--round")]
    corpus = Path(rest[0] if rest else "../shared/eval/mtsamples")
    rows = list(csv.DictReader((corpus / "index.csv").open(encoding="utf-8")))
    rows.sort(key=lambda r: hashlib.sha1(f"label-{r['sample']}".encode()).hexdigest())
    if number is None:
        write("labels/mtsamples/selection.csv", choose(rows, QUOTA, set()))
        return
    labels = Path("labels/mtsamples")
    labelled = {p.stem for split in ("dev", "test") for p in (labels / split).glob("*.json")}
    later = {r["sample"] for n in ROUNDS if n >= number and (labels / f"selection_round{n}.csv").exists()
             for r in csv.DictReader((labels / f"selection_round{n}.csv").open(encoding="utf-8"))}  # fmt: skip
    chosen = choose(rows, ROUNDS[number], labelled - later, ROUND_SPECIALTIES.get(number))
    write(str(labels / f"selection_round{number}.csv"), chosen)


if __name__ == "__main__":
    main()
