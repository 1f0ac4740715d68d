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


OUTSIDE = "outside the input folder"


@dataclass
class Scope:
    """What the backfill may read: files inside `root` (the input folder, or the manifest's folder), reached
    by their real paths; a symbolic link or a manifest path leaving it is an error unless `allow_outside`."""

    root: Path
    allow_outside: bool = False

    def admit(self, path: Path) -> tuple[Path | None, str | None]:
        """The real path of `path` if it may be read, else (None, why)."""
        real = Path(os.path.realpath(path))
        if not self.allow_outside and not real.is_relative_to(self.root):
            link = " (a symbolic link)" if path.is_symlink() else ""
            return None, f"{path.name}: {OUTSIDE}{link}; --allow-outside-input reads it"
        return real, None


def discover(source: Path, allow_outside: bool = False) -> list[CaseInput]:
    """Cases of a folder (each file and each sub-folder is one case) or of a manifest CSV."""
    if source.is_dir():
        return _from_folder(source, Scope(Path(os.path.realpath(source)), allow_outside))
    if source.is_file() and source.suffix.lower() == ".csv":
        return _from_manifest(source, Scope(Path(os.path.realpath(source.parent)), allow_outside))
    if not source.exists():
        raise BackfillError(f"{source}: no such file or folder")
    raise BackfillError(f"{source}: INPUT must be a folder of cases or a manifest .csv")


def _case_files(folder: Path, scope: Scope) -> tuple[list[Path], list[str]]:
    """Regular, non-hidden files under a case folder (by real path; FIFOs and devices are never opened, they
    could hang the reader) and the links met that leave the input folder."""
    found: list[Path] = []
    problems: list[str] = []
    real, why = scope.admit(folder)
    if real is None:
        return [], [why or OUTSIDE]
    seen = {real}
    pending = [real]
    while pending:
        top = pending.pop(0)
        for base, dirs, files in os.walk(top):
            dirs.sort()
            for name in list(dirs):
                sub = Path(base) / name
                if name.startswith(".") or not sub.is_symlink():
                    continue
                dirs.remove(name)  # os.walk does not follow a linked folder: admit it, then walk its real path
                target, why = scope.admit(sub)
                if target is None:
                    problems.append(why or OUTSIDE)
                elif target.is_dir() and target not in seen:
                    seen.add(target)
                    pending.append(target)
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in sorted(files):
                if name.startswith("."):
                    continue
                target, why = scope.admit(Path(base) / name)
                if target is None:
                    problems.append(why or OUTSIDE)
                elif target.is_file():  # a FIFO or a device beside the notes is skipped, never opened
                    found.append(target)
    return found, problems


def _folder_case(case_id: str, folder: Path, scope: Scope) -> CaseInput:
    files, problems = _case_files(folder, scope)
    if problems:
        return CaseInput(case_id, files, error="; ".join(problems), reason=OUTSIDE)
    if not files:
        return CaseInput(case_id, error="case folder has no files", reason="empty case folder")
    return CaseInput(case_id, files)


def _from_folder(folder: Path, scope: Scope) -> list[CaseInput]:
    cases = []
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            real, why = scope.admit(path)
            if real is None:
                cases.append(CaseInput(entry.name, error=why, reason=OUTSIDE))
            elif real.is_dir():
                cases.append(_folder_case(entry.name, real, scope))
            elif real.is_file():
                cases.append(CaseInput(entry.name, [real]))
            else:
                cases.append(CaseInput(entry.name, error="not a regular file", reason="not a regular file"))
    return cases


def _from_manifest(manifest: Path, scope: Scope) -> list[CaseInput]:
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
            real, why = scope.admit(path)
            if problem is None:
                if real is None:
                    problem = why
                elif real.is_dir():
                    files, problems = _case_files(real, scope)
                    case.files += files
                    problem = "; ".join(problems) or None
                elif real.is_file():
                    case.files.append(real)
                elif real.exists():
                    problem = f"{path.name}: not a regular file"
                else:
                    problem = f"{path.name}: no such file or folder"
        if problem:
            message = f"manifest line {number}: {problem}"
            case.error = f"{case.error}; {message}" if case.error else message
            case.reason = OUTSIDE if OUTSIDE in problem else "bad manifest row"
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
