"""Tesseract OCR of one rendered page: words with boxes (in PDF points) and the page's confidence.

Tesseract runs as the Debian `tesseract` program, one single-threaded process per page
(`OMP_THREAD_LIMIT=1`); pages of a document run side by side, one per core (see pdf.py).
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from dataclasses import dataclass

from extractor.errors import DocumentError

Box = tuple[float, float, float, float]


@dataclass
class Line:
    """One line of page text; `boxes` has one entry per character (None for spaces)."""

    text: str
    boxes: list[Box | None]


@dataclass
class OcrResult:
    lines: list[Line]
    confidence: float  # mean word confidence (0-100) weighted by word length; 0 for an empty page
    words: int


class OcrTimeout(DocumentError):
    """Tesseract outlived its page deadline: the page depends on the machine's load, not only on the file."""


def tesseract_available() -> bool:
    return shutil.which("tesseract") is not None


def scan_dpi(page) -> float | None:
    """The resolution of the page's one full-page image (a scanned or faxed page), else None."""
    import pypdfium2.raw as pdfium_c

    images = [obj for obj in page.get_objects(max_depth=1) if obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE]
    if len(images) != 1:
        return None
    try:
        meta = images[0].get_metadata()
        left, bottom, right, top = images[0].get_bounds()
    except Exception:
        return None
    width, height = page.get_size()
    if (right - left) * (top - bottom) < 0.8 * width * height:
        return None
    return min(meta.horizontal_dpi, meta.vertical_dpi)


def native_dpi(dpi: float | None) -> float | None:
    """A scan of 150-400 dpi (a fax: 200) is OCR'd at its own resolution: the same word recall as
    upsampling to 300 dpi on the fax samples, and faster (benchmarks/fax_ocr.py)."""
    return dpi if dpi is not None and 150 <= dpi <= 400 else None


def render(page, dpi: int, max_pixels: int) -> tuple[bytes, float]:
    """Render a pypdfium2 page to a greyscale PGM; returns the image and its pixels per point.

    A page whose render would exceed `max_pixels` is drawn at a lower resolution (bounded memory);
    one too large even for 100 dpi is refused.
    """
    width, height = page.get_size()
    scale = dpi / 72
    if width * height * scale * scale > max_pixels:
        scale = (max_pixels / (width * height)) ** 0.5
        if scale * 72 < 100:
            raise DocumentError(f"page too large to OCR ({width / 72:.0f} x {height / 72:.0f} in)")
    image = page.render(scale=scale, grayscale=True).to_pil()
    buf = io.BytesIO()
    image.convert("L").save(buf, format="PPM")
    return buf.getvalue(), scale


def tesseract(args: list[str], image: bytes, threads: int, timeout: float) -> subprocess.CompletedProcess:
    """Tesseract on one image given on standard input; raises subprocess.TimeoutExpired past `timeout`."""
    env = dict(os.environ, OMP_THREAD_LIMIT=str(threads))
    try:
        return subprocess.run(
            ["tesseract", "stdin", "stdout", *args],
            input=image,
            capture_output=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except FileNotFoundError:
        raise DocumentError("OCR needed but Tesseract is not installed (apt-get install tesseract-ocr)") from None


def tsv_args(language: str) -> list[str]:
    """Tesseract's arguments for a page's words with their boxes and confidences (TSV), automatic page
    segmentation (benchmarks/rescore.py times Tesseract alone with the same)."""
    return ["-l", language, "--psm", "3", "tsv"]


def run_tesseract(image: bytes, language: str, threads: int, timeout: float) -> str:
    """Tesseract's TSV output for one image given on standard input."""
    try:
        proc = tesseract(tsv_args(language), image, threads, timeout)
    except subprocess.TimeoutExpired:
        raise OcrTimeout(f"OCR of a page took longer than {timeout:.0f} s") from None
    if proc.returncode != 0:
        raise DocumentError(f"OCR failed (tesseract exit {proc.returncode})")
    return proc.stdout.decode("utf-8", "replace")


def parse_tsv(tsv: str, scale: float) -> OcrResult:
    """Lines of words from Tesseract TSV; pixel boxes become PDF points (top-left origin).

    A word's box is shared out evenly over its characters, so a span inside a word still gets a box on it.
    """
    rows = tsv.splitlines()[1:]
    lines: dict[tuple[int, int, int], list[tuple[str, Box]]] = {}
    blocks: dict[tuple[int, int, int], int] = {}
    weighted = total = 0.0
    words = 0
    for row in rows:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        text = cols[11].strip()
        if not text:
            continue
        conf = float(cols[10])
        left, top, width, height = (int(c) for c in cols[6:10])
        key = (int(cols[2]), int(cols[3]), int(cols[4]))
        box = (left / scale, top / scale, (left + width) / scale, (top + height) / scale)
        lines.setdefault(key, []).append((text, box))
        blocks[key] = key[0]
        if conf >= 0:
            weighted += conf * len(text)
            total += len(text)
            words += 1
    out: list[Line] = []
    previous_block = None
    for key, items in lines.items():
        if previous_block is not None and blocks[key] != previous_block:
            out.append(Line("", []))
        previous_block = blocks[key]
        chars: list[str] = []
        boxes: list[Box | None] = []
        for text, (x0, y0, x1, y1) in items:
            if chars:
                chars.append(" ")
                boxes.append(None)
            step = (x1 - x0) / len(text)
            for i, ch in enumerate(text):
                chars.append(ch)
                boxes.append((x0 + i * step, y0, x0 + (i + 1) * step, y1))
        out.append(Line("".join(chars), boxes))
    return OcrResult(lines=out, confidence=weighted / total if total else 0.0, words=words)
