"""What the case page draws, kept beside a case's documents: texts, page sizes, line boxes, page images.

The worker keeps them at intake; a case imported by the backfill gets them on its first view (`fill_views`).
This module reads documents through ingest only (the bounded PDF worker and the document-text cache), so the
server process that calls it never loads the NLP pipeline nor opens a PDF itself."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session

from extractor import store
from extractor.config import get_settings
from extractor.errors import DocumentError
from extractor.ingest.cache import ReadingCache, SqlCache, reader_key
from extractor.ingest.document import Document
from extractor.ingest.files import read_file

from .page_images import render_all, shown_sizes, span_boxes


def linked(case: store.Case, data_dir: Path, tmp: str) -> list[Path]:
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


def keep_views(rows: dict[str, store.StoredDocument], docs, data_dir: Path, findings: list[dict]) -> None:
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
            try:
                render_all(store.stored_path(data_dir, row), data_dir / "renders", turned)
            except DocumentError:  # the review stands; the case page asks the bounded worker again per page
                pass


def _read(paths: list[Path], cache: ReadingCache) -> list[Document]:
    docs: list[Document] = []
    for path in paths:
        try:
            docs.extend(read_file(path, cache))
        except DocumentError:  # the review lists it with its error; there is nothing to draw
            continue
    return docs


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
        docs = _read(linked(case, data_dir, tmp), doc_cache(session))
    review = json.loads(store.load_review_json(session, case.id) or "{}")
    keep_views({row.name: row for row in missing}, docs, data_dir, review.get("findings", []))
    session.commit()
