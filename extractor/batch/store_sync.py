"""Finished reviews into the web app's database (--db), idempotently by case id.

A case re-scored (input, pipeline or guideline changed) replaces its stored review while no reviewer
has decided it; a decided case keeps its review and decision and is flagged in the summary. Every review
is validated (schemas.Review) before it is stored; one that does not validate is not stored, and flagged."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.engine import make_url

from extractor import store
from extractor.config import get_settings
from extractor.errors import BackfillError
from extractor.ingest import cache as doc_cache
from extractor.schemas import Review

from .state import FileHashes, cache_table, mark_stored, unstored_reviews


def store_data_dir(db_url: str, data_dir: Path | None = None) -> Path:
    """Where the documents of stored cases go: `data_dir`, else the folder of a SQLite database file, else an
    EXTRACTOR_DATA_DIR set explicitly; a server database with no data dir given is refused (the files would
    land in a folder the web app does not read)."""
    if data_dir is not None:
        return Path(data_dir).resolve()
    try:
        url = make_url(db_url)
    except Exception:
        raise BackfillError("--db: not a database URL (e.g. postgresql+psycopg://user@host/db)") from None
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).resolve().parent
    settings = get_settings()
    if "data_dir" in settings.model_fields_set:
        return Path(settings.data_dir).resolve()
    raise BackfillError(
        f"--db {url.get_backend_name()}: give the web app's data dir with --data-dir (or EXTRACTOR_DATA_DIR); "
        "the cases' documents are copied there"
    )


@dataclass
class StoreSync:
    """The --db target and what storing met along the run (for the summary)."""

    db_url: str
    data_dir: Path
    new: int = 0
    replaced: int = 0
    kept_decided: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)

    def pending(self, engine: sa.Engine, files: dict[str, list[Path]]) -> None:
        """Reviews done and not yet in the app's database go there, with their documents (`files` by id)."""
        rows = [(cid, line) for cid, line in unstored_reviews(engine) if cid in files]
        if not rows:
            return
        items = []
        for cid, line in rows:
            review = json.dumps(json.loads(line)["review"])
            try:
                Review.model_validate_json(review)
            except ValidationError:
                if cid not in self.invalid:
                    self.invalid.append(cid)
                continue
            items.append((cid, review, files[cid]))
        if not items:
            return
        result = store.import_reviews(self.db_url, items, self.data_dir)
        self.new += result.new
        self.replaced += result.replaced
        self.kept_decided += [cid for cid in result.kept_decided if cid not in self.kept_decided]
        _copy_cache(engine, self.db_url, [p for cid, _, _ in items for p in files[cid]])
        mark_stored(engine, [cid for cid, _, _ in items])


def _copy_cache(engine: sa.Engine, db_url: str, paths: list[Path]) -> None:
    """The readings of the imported cases' PDFs go to the app's document-text cache too, so the first view
    of an imported case shows its pages without reading or OCR'ing its files again."""
    hashes = FileHashes(engine)
    digests = set()
    for path in paths:
        try:
            digests.add(hashes.digest(path))
        except OSError:
            continue
    found = doc_cache.fetch(engine, cache_table, sorted(digests))
    if not found:
        return
    web = store.make_engine(db_url)
    try:
        with web.begin() as conn:
            doc_cache.store(conn, store.cache_table, [(sha, key, payload) for sha, (key, payload) in found.items()])
    finally:
        web.dispose()
