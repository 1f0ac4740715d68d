"""Finished reviews into the web app's database (--db), idempotently by case id."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from extractor import store

from .state import OK, cases_table


def store_pending(engine: sa.Engine, db_url: str, files: dict[str, list[Path]]) -> None:
    """Reviews done and not yet in the app's database go there, with their documents (`files` by case id)."""
    c = cases_table.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(c.case_id, c.line).where(c.status == OK, sa.not_(c.stored)).order_by(c.seq)).all()
    rows = [(cid, line) for cid, line in rows if cid in files]
    if not rows:
        return
    store.import_reviews(db_url, [(cid, json.dumps(json.loads(line)["review"]), files[cid]) for cid, line in rows])
    with engine.begin() as conn:
        conn.execute(sa.update(cases_table).where(c.case_id.in_([cid for cid, _ in rows])).values(stored=True))
