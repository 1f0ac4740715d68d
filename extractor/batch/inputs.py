"""What a backfill reads: case folders, or a manifest of cases with their files and request dates."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from extractor.clock import URGENCIES, parse_received_at
from extractor.errors import BackfillError

# --- cases -----------------------------------------------------------------------------------------


@dataclass
class CaseInput:
    """One case of the input: its documents, the request date, urgency and receipt time if the manifest gives
    them, or why it cannot run."""

    case_id: str
    files: list[Path] = field(default_factory=list)
    request_date: date | None = None
    urgency: str | None = None
    received_at: datetime | None = None
    error: str | None = None
    reason: str | None = None


def discover(source: Path) -> list[CaseInput]:
    """Cases of a folder (each file and each sub-folder is one case) or of a manifest CSV."""
    if source.is_dir():
        return _from_folder(source)
    if source.is_file() and source.suffix.lower() == ".csv":
        return _from_manifest(source)
    if not source.exists():
        raise BackfillError(f"{source}: no such file or folder")
    raise BackfillError(f"{source}: INPUT must be a folder of cases or a manifest .csv")


def _case_files(folder: Path) -> list[Path]:
    """Regular, non-hidden files under a case folder; FIFOs and devices are never opened (they could hang)."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if not name.startswith(".") and path.is_file():
                found.append(path)
    return found


def _from_folder(folder: Path) -> list[CaseInput]:
    cases = []
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if entry.is_dir():
                files = _case_files(path)
                if files:
                    cases.append(CaseInput(entry.name, files))
                else:
                    cases.append(CaseInput(entry.name, error="case folder has no files", reason="empty case folder"))
            elif entry.is_file():
                cases.append(CaseInput(entry.name, [path]))
            else:
                cases.append(CaseInput(entry.name, error="not a regular file", reason="not a regular file"))
    return cases


def _from_manifest(manifest: Path) -> list[CaseInput]:
    """Rows `case_id,path[,request_date][,urgency][,received_at]`; several rows of one case_id are the documents
    of one case (urgency `expedited` | `standard`, received_at ISO 8601: historical cases get real clock figures).

    A bad row never stops the rest: it becomes an error line for its case (or for `manifest-line-N`).
    """
    try:
        with manifest.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BackfillError(f"{manifest}: not a UTF-8 CSV manifest ({type(exc).__name__})") from None
    except OSError as exc:
        raise BackfillError(f"{manifest}: cannot read ({exc.strerror})") from None
    if not rows:
        raise BackfillError(f"{manifest}: empty manifest (expected the header case_id,path[,request_date])")
    header = [h.strip().lower() for h in rows[0]]
    if "case_id" not in header or "path" not in header:
        raise BackfillError(f"{manifest}: first line must be the header case_id,path[,request_date]")
    names = ("case_id", "path", "request_date", "urgency", "received_at")
    col = {name: header.index(name) for name in names if name in header}
    cases: dict[str, CaseInput] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(name: str, row: list[str] = row) -> str:
            i = col.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        case_id = cell("case_id") or f"manifest-line-{number}"
        case = cases.setdefault(case_id, CaseInput(case_id))
        problem = None
        if not cell("case_id"):
            problem = "empty case_id"
        elif not cell("path"):
            problem = "empty path"
        else:
            raw_date = cell("request_date")
            if raw_date:
                try:
                    given = date.fromisoformat(raw_date)
                except ValueError:
                    problem = "request_date is not a date (YYYY-MM-DD)"
                else:
                    if case.request_date and case.request_date != given:
                        problem = "request_date differs from an earlier row of this case"
                    case.request_date = given
            problem = problem or _clock_cells(case, cell("urgency").lower(), cell("received_at"))
            path = Path(cell("path"))
            path = path if path.is_absolute() else manifest.parent / path
            if problem is None:
                if path.is_dir():
                    case.files += _case_files(path)
                elif path.is_file():
                    case.files.append(path)
                elif path.exists():
                    problem = f"{path.name}: not a regular file"
                else:
                    problem = f"{path.name}: no such file or folder"
        if problem:
            message = f"manifest line {number}: {problem}"
            case.error = f"{case.error}; {message}" if case.error else message
            case.reason = "bad manifest row"
    for case in cases.values():
        if not case.error and not case.files:
            case.error, case.reason = "case has no files", "empty case folder"
    return list(cases.values())


def _clock_cells(case: CaseInput, urgency: str, received: str) -> str | None:
    """The row's urgency and receipt time onto its case; what is wrong with them, if anything."""
    if urgency:
        if urgency not in URGENCIES:
            return f"urgency must be one of {', '.join(URGENCIES)}"
        if case.urgency and case.urgency != urgency:
            return "urgency differs from an earlier row of this case"
        case.urgency = urgency
    if received:
        try:
            when = parse_received_at(received)
        except ValueError:
            return "received_at is not a date and time (ISO 8601, e.g. 2026-12-03T14:05:00Z)"
        if case.received_at and case.received_at != when:
            return "received_at differs from an earlier row of this case"
        case.received_at = when
    return None
