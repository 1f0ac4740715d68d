"""PDF pages to documents: text layer where there is a usable one, Tesseract OCR where there is not.

pdfium (pypdfium2, which pdfplumber itself uses) gives each page's text and every character's box in
a few milliseconds; pdfplumber's full layout parse costs ~60-80 ms a page for the same characters
(benchmarks/pdf_throughput.py). Pages without a usable text layer are rendered by pdfium and OCR'd, one
Tesseract process per page, pages in parallel. Repeated fax header lines are dropped and a fax packet
is split into its documents (packet.py). This module runs inside the worker process of sandbox.py,
which bounds its memory and time; it is also callable in-process.
"""

from __future__ import annotations

import os
import re
import threading
import time
import unicodedata
from concurrent.futures import Future, ThreadPoolExecutor

from extractor.config import Settings
from extractor.errors import DocumentError
from extractor.ingest.document import Document, sha256_bytes

from .ocr import Line, OcrResult, OcrTimeout, native_dpi, parse_tsv, render, run_tesseract, scan_dpi
from .orientation import dictionary_words, is_noise, read_upright
from .packet import PageText, PdfReading, documents_of

_MIN_ALNUM = 16
_OCR_SHARE = 0.7  # of the document's deadline, after which no new page is OCR'd
# A scanned page whose text layer is only a fax server's stamp ("FROM ... P.001") is still OCR'd;
# a searchable scan (an OCR text layer under the image) has far more text than this.
_SCAN_TEXT_MIN = 300
_NO_PAGES = re.compile(rb"/Count\s+0\b")
_A_PAGE = re.compile(rb"/Type\s*/Page\b")
_HYPHENS = {"\x02": "-", "\u00ad": "-", "\ufffe": "-"}


def open_pdf(data: bytes):
    import pypdfium2 as pdfium

    start = data.find(b"%PDF-")
    if start < 0:
        raise DocumentError("not a PDF (no %PDF- header)")
    try:
        return pdfium.PdfDocument(data[start:])
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message or "security" in message:
            raise DocumentError("PDF is encrypted (password protected)") from None
        if _NO_PAGES.search(data) and not _A_PAGE.search(data):
            raise DocumentError("PDF has no pages") from None
        raise DocumentError("damaged PDF (cannot parse)") from None


def _viewer(page):
    """Map a pdfium box (PDF user space, bottom-left origin) to the page as shown: top-left origin, with
    the page's /Rotate applied (as pdfplumber reports words and as OCR sees the rendered page)."""
    rotation = page.get_rotation() % 360
    shown_w, shown_h = page.get_size()
    w, h = (shown_h, shown_w) if rotation in (90, 270) else (shown_w, shown_h)

    def point(x: float, y: float) -> tuple[float, float]:
        if rotation == 90:
            return y, x
        if rotation == 180:
            return w - x, y
        if rotation == 270:
            return h - y, w - x
        return x, h - y

    def box(left: float, bottom: float, right: float, top: float) -> tuple[float, float, float, float]:
        (x0, y0), (x1, y1) = point(left, bottom), point(right, top)
        return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)

    return box


def _text_lines(page) -> list[Line]:
    """The page's text layer as lines, each character with its box (PDF points, top-left origin)."""
    textpage = page.get_textpage()
    try:
        count = textpage.count_chars()
        if count <= 0:
            return []
        text = textpage.get_text_range(0, count)
        if len(text) != count:  # ligatures, surrogates: read character by character to keep index = box
            import pypdfium2.raw as pdfium_c

            codes = (pdfium_c.FPDFText_GetUnicode(textpage.raw, i) for i in range(count))
            text = "".join(chr(c) if c and not 0xD800 <= c <= 0xDFFF else "\ufffd" for c in codes)
        to_view = _viewer(page)
        lines: list[Line] = []
        chars: list[str] = []
        boxes: list[tuple[float, float, float, float] | None] = []
        for i, ch in enumerate(text):
            if ch == "\r":
                continue
            if ch == "\n":
                lines.append(Line("".join(chars), boxes))
                chars, boxes = [], []
                continue
            ch = _HYPHENS.get(ch, ch)
            chars.append(ch)
            if not ch.isspace():
                boxes.append(to_view(*textpage.get_charbox(i, loose=True)))
            else:
                boxes.append(None)
        if chars:
            lines.append(Line("".join(chars), boxes))
        return lines
    finally:
        textpage.close()


def _alnum(lines: list[Line]) -> int:
    return sum(ch.isalnum() for line in lines for ch in line.text)


def usable(lines: list[Line]) -> bool:
    """A text layer worth reading: enough letters and digits, and few unmapped glyphs."""
    text = "".join(line.text for line in lines)
    visible = [ch for ch in text if not ch.isspace()]
    if sum(ch.isalnum() for ch in visible) < _MIN_ALNUM:
        return False
    bad = sum(1 for ch in visible if ch == "\ufffd" or unicodedata.category(ch) in ("Co", "Cc", "Cn"))
    return bad <= 0.1 * len(visible)


class _Budget:
    """OCR time and memory bounds inside one document.

    At most two rendered pages per OCR worker wait in memory (a 300 dpi page is ~8 MB; 200 pages at
    once would pass the worker's memory cap). Pages not started once OCR has used its share of the
    document's deadline are left out with a warning, so a long scanned file gives what was read in time
    instead of failing as a whole.
    """

    def __init__(self, settings: Settings, workers: int):
        self.slots = threading.BoundedSemaphore(2 * workers)
        self.stop_at = time.monotonic() + _OCR_SHARE * settings.pdf_timeout_s
        self.settings = settings

    def ocr(self, image: bytes, scale: float) -> tuple[OcrResult, int, bool]:
        """The page read the right way up: its reading, the rotation applied, and whether it is noise."""
        try:
            left = self.stop_at - time.monotonic()
            if left <= 0:
                raise _OutOfTime
            s = self.settings
            timeout = min(s.ocr_page_timeout_s, left + 30)

            def read(img: bytes) -> OcrResult:
                return parse_tsv(run_tesseract(img, s.ocr_language, s.ocr_threads_per_page, timeout), scale)

            first = read(image)
            # orientation only while the budget lasts: a late page keeps its first reading
            if self.stop_at - time.monotonic() > 0:
                result, rotation = read_upright(image, first, read, s, timeout)
            else:
                result, rotation = first, 0
            noise = is_noise(result, s.ocr_noise_confidence, dictionary_words(), s.ocr_noise_word_share)
            return result, rotation, noise
        finally:
            self.slots.release()


class _OutOfTime(Exception):
    pass


def read_pages(data: bytes, settings: Settings) -> PdfReading:
    """Every page's lines (text layer or OCR), its size, and the warnings met on the way."""
    import pypdfium2 as pdfium

    pdf = open_pdf(data)
    warnings: list[str] = []
    try:
        n = len(pdf)
        if n == 0:
            raise DocumentError("PDF has no pages")
        if n > settings.pdf_max_pages:
            raise DocumentError(f"PDF has {n} pages (limit {settings.pdf_max_pages})")
        pages: list[PageText] = []
        sizes: list[tuple[float, float]] = []
        pending: dict[int, Future[tuple[OcrResult, int, bool]]] = {}
        workers = settings.ocr_workers or os.cpu_count() or 1
        skipped: list[int] = []
        late: list[int] = []
        timed_out = False
        budget = _Budget(settings, workers)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for number in range(1, n + 1):
                try:
                    page = pdf[number - 1]
                except pdfium.PdfiumError:
                    raise DocumentError(f"damaged PDF (cannot load page {number})") from None
                try:
                    width, height = page.get_size()
                    sizes.append((float(width), float(height)))
                    lines = _text_lines(page)
                    scanned = scan_dpi(page)
                    if usable(lines) and (scanned is None or _alnum(lines) >= _SCAN_TEXT_MIN):
                        pages.append(PageText(number, lines))
                        continue
                    pages.append(PageText(number, [], ocr=True))
                    if len(pending) >= settings.ocr_max_pages:
                        skipped.append(number)
                        continue
                    try:
                        dpi = native_dpi(scanned) if settings.ocr_native_dpi else None
                        image, scale = render(page, round(dpi or settings.ocr_dpi), settings.ocr_max_pixels)
                    except DocumentError as exc:
                        warnings.append(f"page {number}: {exc}")
                        continue
                    budget.slots.acquire()
                    pending[number] = pool.submit(budget.ocr, image, scale)
                finally:
                    page.close()
            for number, future in pending.items():
                try:
                    result, rotation, noise = future.result()
                except _OutOfTime:
                    late.append(number)
                    continue
                except DocumentError as exc:  # one page Tesseract cannot read costs that page only
                    warnings.append(f"page {number}: {exc}")
                    timed_out = timed_out or isinstance(exc, OcrTimeout)
                    continue
                page_text = pages[number - 1]
                page_text.lines = [] if noise else result.lines  # noise gives no findings
                page_text.confidence = result.confidence
                page_text.rotation = rotation
                page_text.noise = noise
        if skipped:
            warnings.append(f"pages not OCR'd (limit {settings.ocr_max_pages} a document): {_ranges(skipped)}")
        if late:
            warnings.append(f"pages not OCR'd (time limit {settings.pdf_timeout_s:g} s): {_ranges(late)}")
        # a reading cut short by a clock depends on the machine's load, not on the file: never cached
        return PdfReading(pages, warnings, sizes, complete=not (late or timed_out))
    finally:
        pdf.close()


def _ranges(numbers: list[int]) -> str:
    if len(numbers) > 2 and numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"{numbers[0]}-{numbers[-1]}"
    return ", ".join(map(str, numbers))


def parse_pdf(name: str, data: bytes, settings: Settings) -> list[Document]:
    """A PDF file's documents (one, or one per part of a fax packet)."""
    return documents_of(name, sha256_bytes(data), read_pages(data, settings), settings)
