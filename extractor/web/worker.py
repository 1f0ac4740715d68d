"""Background processing, in a worker process: claim queued cases from the database and prefill them.

The queue is the `cases` table itself, so nothing lives only in memory: a case uploaded while no worker
runs, or one that was processing when the server stopped, is picked up when workers run again.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from extractor import store
from extractor.case import prefill, read_documents
from extractor.config import get_settings
from extractor.errors import NoReadableDocuments
from extractor.ingest.cache import SqlCache, reader_key
from extractor.nlp.pipeline import load

from .page_images import render_all, shown_sizes, span_boxes
from .worker_pool import worker_id

log = logging.getLogger("extractor.web.worker")


def _linked(case: store.Case, data_dir: Path, tmp: str) -> list[Path]:
    """Stored files under their display names, so the review names documents as the user did."""
    paths = []
    for i, row in enumerate(case.documents):
        folder = Path(tmp) / str(i)
        folder.mkdir()
        link = folder / row.name
        link.symlink_to(store.stored_path(data_dir, row).resolve())
        paths.append(link)
    return paths


def doc_cache(session: Session) -> SqlCache:
    """The web store's document-text cache: a PDF uploaded again (or re-scored) is not read or OCR'd again."""
    return SqlCache(session.get_bind(), store.cache_table, reader_key(get_settings()))


def _keep_views(rows: dict[str, store.StoredDocument], docs, data_dir: Path, findings: list[dict]) -> None:
    """What the case page draws: the text offsets index, the page sizes, one box per line of a finding, and
    the page images (rendered here, by the bounded PDF worker, so the server never opens a PDF).

    The parts of a fax packet split into documents ("fax.pdf#1", "fax.pdf#2") are kept on their file's row:
    their texts joined, each part's offset in `parts`, the line boxes keyed by offsets in the joined text."""
    by_file: dict[str, list] = {}
    for doc in docs:
        by_file.setdefault(doc.source or doc.name, []).append(doc)
    for name, parts in by_file.items():
        row = rows.get(name)
        if row is None:
            continue
        if len(parts) == 1 and parts[0].name == name:
            row.text, row.parts = parts[0].text, None
            row.line_boxes = span_boxes(parts[0], findings)
        else:
            offsets: dict[str, int] = {}
            boxes: dict[str, list] = {}
            pos = 0
            for part in parts:
                offsets[part.name] = pos
                for key, value in (span_boxes(part, findings) or {}).items():
                    start, end = (int(v) for v in key.split(":"))
                    boxes[f"{start + pos}:{end + pos}"] = value
                pos += len(part.text)
            row.text, row.parts, row.line_boxes = "".join(p.text for p in parts), offsets, boxes
        if row.kind == "pdf" and parts[0].page_sizes:
            turned = {n: r for part in parts for n, r in part.page_rotation.items()}
            row.page_sizes = shown_sizes(parts[0].page_sizes, turned)
            render_all(store.stored_path(data_dir, row), data_dir / "renders", turned)


def prefill_claimed(session: Session, case: store.Case, data_dir: Path) -> None:
    """Prefill one claimed case (the per-case function the CLI and the backfill call too) and store its review
    with what the case page draws, or mark it failed with a one-line reason."""
    rows = {row.name: row for row in case.documents}
    try:
        with tempfile.TemporaryDirectory(prefix="extractor-case-") as tmp:
            result = prefill(_linked(case, data_dir, tmp), case.request_date, cache=doc_cache(session))
        _keep_views(rows, result.documents, data_dir, [f.model_dump() for f in result.review.findings])
        store.finish_case(session, case, result.review)
        log.info("case %s ready (%d documents)", case.id, len(rows))
    except NoReadableDocuments as exc:
        store.fail_case(session, case, "; ".join(f"{name}: {reason}" for name, reason in exc.errors))
        log.info("case %s failed: no readable document", case.id)
    except Exception as exc:  # one bad case never stops the worker; no note text in the message
        session.rollback()
        case = session.get(store.Case, case.id)
        store.fail_case(session, case, f"internal error ({type(exc).__name__})")
        log.warning("case %s failed: internal error (%s)", case.id, type(exc).__name__)
    session.commit()


def fill_views(session: Session, case: store.Case, data_dir: Path) -> None:
    """Text and page sizes for documents stored without them (cases imported by the backfill)."""
    missing = [
        row
        for row in case.documents
        if row.stored_name and (row.text is None or (row.kind == "pdf" and not row.page_sizes))
    ]
    if not missing:
        return
    with tempfile.TemporaryDirectory(prefix="extractor-view-") as tmp:
        docs, _ = read_documents(_linked(case, data_dir, tmp), doc_cache(session))
    review = json.loads(store.load_review_json(session, case.id) or "{}")
    _keep_views({row.name: row for row in missing}, docs, data_dir, review.get("findings", []))
    session.commit()


def process_one(factory: sessionmaker[Session], data_dir: Path) -> str | None:
    """Claim and process the next queued case; its id, or None when the queue is empty."""
    with factory() as session:
        case = store.claim_next(session, worker_id())
        if case is None:
            return None
        prefill_claimed(session, case, data_dir)
        return case.id


def work_queue(url: str, data_dir: str, stop, poll_seconds: float = 0.2) -> None:
    """Loop of one worker process: warm the pipeline once, then poll the queue until told to stop."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    parent = os.getppid()
    try:
        load()
        engine = store.make_engine(url)
        factory = sessionmaker(engine, expire_on_commit=False)
        while not stop.is_set() and os.getppid() == parent:
            try:
                done = process_one(factory, Path(data_dir))
            except Exception as exc:  # database briefly unavailable: wait and retry
                log.warning("worker: %s", type(exc).__name__)
                done = None
                time.sleep(2)
            if done is None:
                stop.wait(poll_seconds)
    except KeyboardInterrupt:
        pass
