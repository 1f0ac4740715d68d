"""Finished reviews into the web app's database (--db), idempotently by case id."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from extractor import store
from extractor.ingest import cache as doc_cache

from .state import FileHashes, cache_table, mark_stored, unstored_reviews


def store_pending(engine: sa.Engine, db_url: str, files: dict[str, list[Path]]) -> None:
    """Reviews done and not yet in the app's database go there, with their documents (`files` by case id)."""
    rows = [(cid, line) for cid, line in unstored_reviews(engine) if cid in files]
    if not rows:
        return
    store.import_reviews(db_url, [(cid, json.dumps(json.loads(line)["review"]), files[cid]) for cid, line in rows])
    _copy_cache(engine, db_url, [p for cid, _ in rows for p in files[cid]])
    mark_stored(engine, [cid for cid, _ in rows])


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
