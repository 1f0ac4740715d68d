"""Uploaded files: kept in <data_dir>/uploads/ under random names; the name a user gave is only displayed."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from extractor.ingest.files import sniff  # store.sniff is ingest's one content sniff
from extractor.private import private_dir

from .tables import Case, StoredDocument, StoreError

# --- files --------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^\w .()+,-]")


def display_name(raw: str | None) -> str:
    """A name safe to show and log: last path part, no control or markup characters, 1-120 chars."""
    name = unicodedata.normalize("NFKC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .")
    if len(name) > 120:
        stem, dot, ext = name.rpartition(".")
        name = (stem[:110] + "." + ext[:9]) if dot and len(ext) <= 9 else name[:120]
    return name or "document"


def uploads_dir(data_dir: Path) -> Path:
    return private_dir(Path(data_dir) / "uploads")


def _write_file(data_dir: Path, data: bytes) -> str:
    stored = secrets.token_hex(16)
    target = uploads_dir(data_dir) / stored
    tmp = target.with_suffix(".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, target)
    return stored


def stored_path(data_dir: Path, doc: StoredDocument) -> Path:
    if not doc.stored_name or not re.fullmatch(r"[0-9a-f]{32}", doc.stored_name):
        raise StoreError(f"document {doc.id} has no stored file")
    return uploads_dir(data_dir) / doc.stored_name


@dataclass
class Duplicate:
    name: str
    case_id: str


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        if name in seen:
            seen[name] += 1
            stem, dot, ext = name.rpartition(".")
            name = f"{stem} ({seen[name]}).{ext}" if dot else f"{name} ({seen[name]})"
        seen.setdefault(name, 1)
        out.append(name)
    return out


def remove_files(data_dir: Path, stored_names: Sequence[str | None]) -> int:
    """Delete stored uploads and their page renders (a purged case, or an intake that failed after writing
    them); how many files went."""
    removed = 0
    for name in stored_names:
        if not name or not re.fullmatch(r"[0-9a-f]{32}", name):
            continue
        targets = [Path(data_dir) / "uploads" / name, *(Path(data_dir) / "renders").glob(f"{name}-*")]
        for target in targets:
            try:
                target.unlink()
                removed += 1
            except FileNotFoundError:
                pass
    return removed


def add_documents(session: Session, case: Case, files: Sequence[tuple[str, bytes]], data_dir: Path) -> list[Duplicate]:
    """Write the files under random names and add them to the case; a failure part way removes what was
    written (the caller's rollback drops the rows, this the files)."""
    written: list[str] = []
    try:
        return _add_documents(session, case, files, data_dir, written)
    except BaseException:
        remove_files(data_dir, written)
        raise


def _add_documents(
    session: Session, case: Case, files: Sequence[tuple[str, bytes]], data_dir: Path, written: list[str]
) -> list[Duplicate]:
    duplicates: list[Duplicate] = []
    names = _unique([display_name(n) for n, _ in files])
    for position, ((_, data), name) in enumerate(zip(files, names, strict=True)):
        kind = sniff(data)
        if kind is None:
            raise StoreError(f"{name}: not a PDF or text file")
        digest = hashlib.sha256(data).hexdigest()
        earlier = session.scalar(
            select(StoredDocument.case_id)
            .where(StoredDocument.sha256 == digest, StoredDocument.case_id != case.id)
            .limit(1)
        )
        if earlier:
            duplicates.append(Duplicate(name=name, case_id=earlier))
        written.append(_write_file(data_dir, data))
        case.documents.append(
            StoredDocument(
                position=position,
                name=name,
                stored_name=written[-1],
                sha256=digest,
                size=len(data),
                kind=kind,
                duplicate_of=earlier,
            )
        )
    return duplicates
