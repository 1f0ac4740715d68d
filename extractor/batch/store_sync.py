"""Finished reviews into the web app's database (--db), idempotently by case id."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from extractor import store

from .state import mark_stored, unstored_reviews


def store_pending(engine: sa.Engine, db_url: str, files: dict[str, list[Path]]) -> None:
    """Reviews done and not yet in the app's database go there, with their documents (`files` by case id)."""
    rows = [(cid, line) for cid, line in unstored_reviews(engine) if cid in files]
    if not rows:
        return
    store.import_reviews(db_url, [(cid, json.dumps(json.loads(line)["review"]), files[cid]) for cid, line in rows])
    mark_stored(engine, [cid for cid, _ in rows])
