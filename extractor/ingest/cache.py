"""The document-text cache: each PDF is read (and OCR'd) once, and its reading kept beside the data it serves.

A faxed page costs ~2 s of Tesseract and its NLP ~20 ms, so a re-score after a pipeline or guideline change
is almost all re-reading. The cache keeps the reader's whole output for a file (`PdfReading`: each page's
lines with every character's box, OCR flags and confidence, rotation, noise, page sizes, warnings), keyed
by the sha256 of the bytes and a reader key: the versions of pdfium, pypdfium2, pdfplumber and Tesseract,
the settings that change what OCR reads (resolution, pixel cap, orientation, noise, language) and
CACHE_VERSION, which the ingest code bumps when it reads differently. A pipeline or guideline change keeps
the entries (fax headers, the packet split and document types are redone on every load); a reader
change misses them all. Entries are zlib-compressed JSON (~40 KB a faxed page).

The table is defined here and created in two places: the backfill's state database (batch/state.py: its
workers get entries shipped by the coordinator, so an external Dask cluster needs no shared disk) and the
web store (store/tables.py, migration 0007). It holds PHI like the rest of the store: same database, same
permissions; `prune` bounds it by age and size (`extractor cache prune`).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
import zlib
from functools import lru_cache
from importlib import metadata as importlib_metadata
from typing import Protocol

import sqlalchemy as sa

from extractor.config import Settings

from .packet import READING, PdfReading

# Bump when the ingest code reads a PDF differently (text layer rules, OCR parsing, orientation...).
CACHE_VERSION = 2  # 2: orientation detection skips upright pages read in real words
# Settings that change nothing a reader produces (how many at once, how long to wait, memory).
_NOT_READER = {"ocr_workers", "ocr_threads_per_page", "ocr_page_timeout_s", "ocr_min_confidence"}


def define_table(metadata: sa.MetaData) -> sa.Table:
    """The cache table in `metadata` (the backfill state's or the web store's)."""
    return sa.Table(
        "document_cache",
        metadata,
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("reader_key", sa.String(64), primary_key=True),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("used_at", sa.Float, nullable=False, index=True),
    )


@lru_cache(maxsize=1)
def tesseract_version() -> str:
    try:
        proc = subprocess.run(["tesseract", "--version"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "none"
    out = (proc.stdout or proc.stderr).decode("utf-8", "replace").splitlines()
    return out[0].strip() if out else "unknown"


def _version(package: str) -> str:
    try:
        return importlib_metadata.version(package)
    except importlib_metadata.PackageNotFoundError:
        return "none"


def reader_key(settings: Settings) -> str:
    """Everything that changes what the reader makes of the same bytes, as one digest."""
    reading = {
        k: v
        for k, v in settings.model_dump(mode="json").items()
        if (k.startswith("ocr_") and k not in _NOT_READER) or k == "pdf_max_pages"
    }
    parts = {
        "cache": CACHE_VERSION,
        "pypdfium2": _version("pypdfium2"),
        "pdfplumber": _version("pdfplumber"),
        "tesseract": tesseract_version(),
        "tessdata": os.environ.get("TESSDATA_PREFIX", ""),
        "settings": reading,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def encode(reading: PdfReading) -> bytes:
    return zlib.compress(READING.dump_json(reading), 6)


def decode(payload: bytes) -> PdfReading:
    return READING.validate_json(zlib.decompress(payload))


class ReadingCache(Protocol):
    """Where `ingest.files.read_file` looks a PDF's reading up before reading it, and keeps a new one."""

    def get(self, sha256: str) -> PdfReading | None: ...

    def put(self, sha256: str, reading: PdfReading) -> None: ...


class Counted:
    hits = 0
    misses = 0


class MemoryCache(Counted):
    """Entries shipped with a task (a backfill worker's): hits from `shipped`, new readings into `new`
    for the coordinator to keep. Entries under another reader key (a worker with another Tesseract) miss."""

    def __init__(self, shipped: dict[str, tuple[str, bytes]], key: str):
        self.shipped = shipped
        self.key = key
        self.new: dict[str, bytes] = {}

    def get(self, sha256: str) -> PdfReading | None:
        found = self.shipped.get(sha256)
        if found is None or found[0] != self.key:
            self.misses += 1
            return None
        self.hits += 1
        return decode(found[1])

    def put(self, sha256: str, reading: PdfReading) -> None:
        self.new[sha256] = encode(reading)


class SqlCache(Counted):
    """Entries in a database table (the web store's, read and written by the worker at intake)."""

    def __init__(self, engine: sa.Engine, table: sa.Table, key: str):
        self.engine, self.table, self.key = engine, table, key

    def get(self, sha256: str) -> PdfReading | None:
        found = fetch(self.engine, self.table, [sha256])
        entry = found.get(sha256)
        if entry is None or entry[0] != self.key:
            self.misses += 1
            return None
        self.hits += 1
        touch(self.engine, self.table, [(sha256, self.key)])
        return decode(entry[1])

    def put(self, sha256: str, reading: PdfReading) -> None:
        with self.engine.begin() as conn:
            store(conn, self.table, [(sha256, self.key, encode(reading))])


def fetch(engine: sa.Engine, table: sa.Table, digests: list[str]) -> dict[str, tuple[str, bytes]]:
    """sha256 -> (reader key, payload) of the entries of these files (the newest where several keys are kept)."""
    out: dict[str, tuple[str, bytes]] = {}
    c = table.c
    with engine.connect() as conn:
        for i in range(0, len(digests), 500):
            rows = conn.execute(
                sa.select(c.sha256, c.reader_key, c.payload)
                .where(c.sha256.in_(digests[i : i + 500]))
                .order_by(c.created_at)
            )
            for sha, key, payload in rows:
                out[sha] = (key, payload)
    return out


def touch(engine: sa.Engine, table: sa.Table, keys: list[tuple[str, str]]) -> None:
    """Mark entries used now (pruning by age drops the least recently used)."""
    if not keys:
        return
    c = table.c
    with engine.begin() as conn:
        conn.execute(
            sa.update(table)
            .where(c.sha256 == sa.bindparam("s"), c.reader_key == sa.bindparam("k"))
            .values(used_at=time.time()),
            [{"s": s, "k": k} for s, k in keys],
        )


def store(conn: sa.Connection, table: sa.Table, entries: list[tuple[str, str, bytes]]) -> None:
    """Keep new readings (sha256, reader key, payload), replacing an entry of the same file and key."""
    if not entries:
        return
    c = table.c
    now = time.time()
    rows = [
        {"sha256": s, "reader_key": k, "payload": p, "size": len(p), "created_at": now, "used_at": now}
        for s, k, p in entries
    ]
    conn.execute(
        sa.delete(table).where(sa.tuple_(c.sha256, c.reader_key).in_([(r["sha256"], r["reader_key"]) for r in rows]))
    )
    conn.execute(sa.insert(table), rows)


def prune(engine: sa.Engine, table: sa.Table, max_age_days: float | None, max_mb: float | None) -> tuple[int, int]:
    """Drop entries unused for `max_age_days`, then the least recently used until the rest fit `max_mb`;
    returns (entries, bytes) dropped."""
    c = table.c
    dropped = freed = 0
    with engine.begin() as conn:
        if max_age_days is not None:
            cutoff = time.time() - max_age_days * 86400
            dropped, freed = conn.execute(
                sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(c.size), 0)).where(c.used_at < cutoff)
            ).one()
            conn.execute(sa.delete(table).where(c.used_at < cutoff))
        if max_mb is not None:
            budget = int(max_mb * 2**20)
            total = conn.execute(sa.select(sa.func.coalesce(sa.func.sum(c.size), 0))).scalar_one()
            if total > budget:
                over: list[tuple[str, str]] = []
                for sha, key, size in conn.execute(sa.select(c.sha256, c.reader_key, c.size).order_by(c.used_at)):
                    if total <= budget:
                        break
                    over.append((sha, key))
                    total -= size
                    freed += size
                for i in range(0, len(over), 500):
                    conn.execute(sa.delete(table).where(sa.tuple_(c.sha256, c.reader_key).in_(over[i : i + 500])))
                dropped += len(over)
    return int(dropped), int(freed)


def forget(conn: sa.Connection, table: sa.Table, digests: list[str]) -> None:
    """Drop every entry of these files (a purged case's documents no other case holds)."""
    if digests:
        conn.execute(sa.delete(table).where(table.c.sha256.in_(digests)))
