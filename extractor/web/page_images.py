"""What the case page needs from a review: page images, per-finding highlight targets, text segments."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractor.ingest.sandbox import render_pages
from extractor.private import private_dir, write_private


def shown_sizes(sizes: list[list[float]], rotation: dict[int, int] | None = None) -> list[list[float]]:
    """[width, height] of each page as shown, from the sizes the reader stored (no PDF is opened); a page
    OCR read turned (fed upside down or sideways) is shown turned the same way, so its finding boxes lie on
    its words: [width, height, degrees clockwise]."""
    rotation = rotation or {}
    out = []
    for i, (width, height) in enumerate(size[:2] for size in sizes):
        turn = rotation.get(i + 1, 0) % 360
        out.append([height, width, turn] if turn in (90, 270) else [width, height, turn] if turn else [width, height])
    return out


def page_rotation(size: list[float]) -> int:
    """The turn a page is shown with, from its shown_sizes entry."""
    return int(size[2]) if len(size) > 2 else 0


def _png_path(source: Path, cache: Path, page: int, rotation: int) -> Path:
    return cache / f"{source.name}-{page}{f'-r{rotation}' if rotation else ''}.png"


def render_all(source: Path, cache: Path, turns: dict[int, int]) -> None:
    """PNG of every page, rendered by the bounded PDF worker (pixels capped), kept 0600 beside the uploads:
    the worker does this at intake, so the server only ever reads images from disk."""
    pngs = render_pages(source.read_bytes(), turns)
    private_dir(cache)
    for page, data in enumerate(pngs, start=1):
        write_private(_png_path(source, cache, page, turns.get(page, 0) % 360), data)


def page_png(source: Path, cache: Path, page: int, rotation: int = 0) -> bytes:
    """PNG of one 1-based page from disk (never served statically); a page not rendered at intake (a case
    stored before images were) is rendered now, by the bounded worker, never in this process."""
    target = _png_path(source, cache, page, rotation)
    if not target.is_file():
        render_all(source, cache, {page: rotation} if rotation else {})
        if not target.is_file():
            raise IndexError(page)
    return target.read_bytes()


def line_boxes(boxes, page_starts: list[int], start: int, end: int) -> list[list[float]]:
    """One box per line of the span [start, end) on the page of `start`: a phrase wrapped across lines
    ("radiation / necrosis") is two tight boxes, not one box over both whole lines."""
    from bisect import bisect_right

    page = bisect_right(page_starts, start)
    lines: list[list[float]] = []
    for i in range(start, min(end, len(boxes))):
        b = boxes[i]
        if b is None or bisect_right(page_starts, i) != page:
            continue
        last = lines[-1] if lines else None
        if last is not None and abs(b[1] - last[1]) < 0.5 * max(b[3] - b[1], 1):
            last[0], last[2], last[3] = min(last[0], b[0]), max(last[2], b[2]), max(last[3], b[3])
        else:
            lines.append([b[0], b[1], b[2], b[3]])
    return [[round(v, 1) for v in box] for box in lines]


def span_boxes(doc, findings: list[dict]) -> dict[str, list[list[float]]] | None:
    """Line boxes of every finding of one document (None for documents without character boxes)."""
    if doc.boxes is None:
        return None
    out = {}
    for f in findings:
        if f["document"] == doc.name and f.get("bbox"):
            out[f"{f['start']}:{f['end']}"] = line_boxes(doc.boxes, doc.page_starts, f["start"], f["end"])
    return out


FLAG_ORDER = ("negated", "family", "hypothetical", "historical", "uncertain")
NOT_SUPPORT = ("negated", "family", "hypothetical")


@dataclass
class Mark:
    """One finding as the page shows it: where its box or highlight is and how it looks."""

    index: int
    finding: dict[str, Any]
    target: str
    classes: str
    flags: list[str] = field(default_factory=list)

    def rects(self, line_boxes: dict | None) -> list[list[float]]:
        """The boxes to draw: one per line when known, else the review's bbox."""
        found = (line_boxes or {}).get(f"{self.finding['start']}:{self.finding['end']}")
        return found or [self.finding["bbox"]]


def finding_key(f: dict[str, Any]) -> tuple:
    return (f["document"], f["start"], f["end"], f["concept"])


def marks(review: dict[str, Any], pdf_docs: set[str]) -> list[Mark]:
    out = []
    for i, f in enumerate(review.get("findings", [])):
        flags = [flag for flag in FLAG_ORDER if f.get(flag)]
        style = "ctx-" + next((flag for flag in NOT_SUPPORT if flag in flags), "none")
        on_page = f["document"] in pdf_docs and f.get("bbox")
        out.append(
            Mark(
                index=i,
                finding=f,
                target=f"box-{i}" if on_page else f"mark-{i}",
                classes=f"c-{f['concept']} {style}",
                flags=flags,
            )
        )
    return out


def text_segments(text: str, doc_marks: list[Mark]) -> list[tuple[str, Mark | None]]:
    """Split a document's text into plain and highlighted runs; an overlapping later finding is skipped."""
    out: list[tuple[str, Mark | None]] = []
    pos = 0
    for m in sorted(doc_marks, key=lambda m: (m.finding["start"], -m.finding["end"])):
        start, end = m.finding["start"], m.finding["end"]
        if start < pos or end > len(text) or end <= start:
            continue
        if start > pos:
            out.append((text[pos:start], None))
        out.append((text[start:end], m))
        pos = end
    out.append((text[pos:], None))
    return out
