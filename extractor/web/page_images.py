"""What the case page needs from a review: page images, per-finding highlight targets, text segments."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractor.private import private_dir, write_private

RENDER_SCALE = 1.5  # 108 dpi: readable fax text, small PNGs
_pdfium_lock = threading.Lock()  # pdfium is not thread-safe


def _pdf_bytes(data: bytes) -> bytes:
    start = data.find(b"%PDF-")
    return data[start:] if start > 0 else data


def pdf_page_sizes(data: bytes, rotation: dict[int, int] | None = None) -> list[list[float]]:
    """[width, height] of each page as shown; a page OCR read turned (fed upside down or sideways) is
    shown turned the same way, so its finding boxes lie on its words: [width, height, degrees clockwise]."""
    import pypdfium2 as pdfium

    rotation = rotation or {}
    with _pdfium_lock:
        pdf = pdfium.PdfDocument(_pdf_bytes(data))
        try:
            sizes = []
            for i in range(len(pdf)):
                width, height = pdf[i].get_size()
                turn = rotation.get(i + 1, 0) % 360
                sizes.append(
                    [height, width, turn] if turn in (90, 270) else [width, height, turn] if turn else [width, height]
                )
            return sizes
        finally:
            pdf.close()


def page_rotation(size: list[float]) -> int:
    """The turn a page is shown with, from its pdf_page_sizes entry."""
    return int(size[2]) if len(size) > 2 else 0


def page_png(source: Path, cache: Path, page: int, rotation: int = 0) -> bytes:
    """PNG of one 1-based page, rendered once and kept beside the uploads (never served statically);
    `rotation` (degrees clockwise) shows a page fed upside down or sideways the right way up."""
    target = cache / f"{source.name}-{page}{f'-r{rotation}' if rotation else ''}.png"
    if target.is_file():
        return target.read_bytes()
    import pypdfium2 as pdfium

    with _pdfium_lock:
        pdf = pdfium.PdfDocument(_pdf_bytes(source.read_bytes()))
        try:
            if not 1 <= page <= len(pdf):
                raise IndexError(page)
            image = pdf[page - 1].render(scale=RENDER_SCALE, rotation=rotation).to_pil()
        finally:
            pdf.close()
    import io

    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=False)
    data = buf.getvalue()
    private_dir(cache)
    write_private(target, data)
    return data


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
