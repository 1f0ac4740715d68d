"""Pages fed upside down or sideways, and pages that read as noise.

A fax page may arrive turned 90, 180 or 270 degrees. Tesseract reads such a page as confident-looking
gibberish ("AD" read out of an upside-down page became Alzheimer disease), so a page whose first reading
is doubtful (low mean word confidence with few dictionary words, or most words' boxes standing upright,
i.e. sideways text) is given to Tesseract's orientation and script detection (`--psm 0`, Debian
`tesseract-ocr-osd`), turned the right way up and read again. Upright pages, nearly all of them, pay nothing
extra, nor do upright pages that read with low confidence in real words (a lab report's dot leaders). A page that
still reads as noise afterwards is marked so: its text gives no findings (packet.py).
"""

from __future__ import annotations

import io
import re
import subprocess
from dataclasses import dataclass

from extractor.knowledge import ocr_common_words, ocr_vocabulary

from .ocr import OcrResult, tesseract

_ROTATE = re.compile(r"^Rotate:\s*(\d+)", re.MULTILINE)
_CONFIDENCE = re.compile(r"^Orientation confidence:\s*([\d.]+)", re.MULTILINE)
_ANGLES = (90, 180, 270)


@dataclass
class Orientation:
    rotate: int  # degrees clockwise that turn the image the right way up
    confidence: float  # Tesseract's orientation confidence (its own scale; under ~1 is a guess)


def run_osd(image: bytes, threads: int, timeout: float) -> Orientation | None:
    """Tesseract's orientation of one page image; None when it cannot tell (too little text, no osd data)."""
    try:
        proc = tesseract(["--psm", "0"], image, threads, timeout)
    except subprocess.TimeoutExpired:
        return None
    return parse_osd(proc.stdout.decode("utf-8", "replace"))


def parse_osd(out: str) -> Orientation | None:
    rotate, confidence = _ROTATE.search(out), _CONFIDENCE.search(out)
    if rotate is None or confidence is None:
        return None
    return Orientation(int(rotate.group(1)) % 360, float(confidence.group(1)))


def rotate_image(image: bytes, degrees: int) -> bytes:
    """The PGM image turned `degrees` clockwise (pixels per point unchanged)."""
    from PIL import Image

    with Image.open(io.BytesIO(image)) as im:
        turned = im.rotate(-degrees, expand=True)
    buf = io.BytesIO()
    turned.save(buf, format="PPM")
    return buf.getvalue()


def sideways(result: OcrResult) -> bool:
    """Most words of three or more letters in boxes taller than wide: text running up or down the page
    (Tesseract sometimes reads a sideways page with fair confidence, its boxes in the sideways image)."""
    upright = tall = 0
    for line in result.lines:
        for word in re.finditer(r"[A-Za-z]{3,}", line.text):
            boxes = [b for b in line.boxes[word.start() : word.end()] if b is not None]
            if not boxes:
                continue
            width = max(b[2] for b in boxes) - min(b[0] for b in boxes)
            height = max(b[3] for b in boxes) - min(b[1] for b in boxes)
            if height > width:
                tall += 1
            else:
                upright += 1
    return tall > upright


_MIN_WORDS = 20  # of three or more letters: fewer say too little about a page's language


def word_share(result: OcrResult, words: frozenset[str]) -> tuple[float, int]:
    """The share of the reading's words of three or more letters that are in `words` (a plural by its
    singular), and how many such words it has."""
    tokens = [t.lower() for line in result.lines for t in re.findall(r"[A-Za-z]{3,}", line.text)]
    if not tokens:
        return 0.0, 0
    return sum(t in words or (t.endswith("s") and t[:-1] in words) for t in tokens) / len(tokens), len(tokens)


def doubtful(result: OcrResult, below: float, words: frozenset[str], min_share: float) -> bool:
    """A first reading worth checking the orientation of: sideways text, or a low confidence that is not
    explained by the page's words being real ones. An upside-down page reads as letters of no language (under
    2% of its words in the dictionary on the sample faxes); an upright page of dot leaders, tables and
    speckle reads under 70% confidence with a fifth or more of its words in it, and OSD, which costs more
    than the page's OCR, would only confirm it is upright."""
    if result.words == 0:
        return False
    if sideways(result):
        return True
    if result.confidence >= below:
        return False
    share, count = word_share(result, words)
    return count < _MIN_WORDS or share < min_share


def is_noise(result: OcrResult, min_confidence: float, words: frozenset[str], min_share: float) -> bool:
    """Reads as noise: a low mean word confidence, or few of its words in the dictionary `words`."""
    if result.words == 0:
        return False
    if result.confidence < min_confidence:
        return True
    share, count = word_share(result, words)
    return count >= _MIN_WORDS and share < min_share


def dictionary_words() -> frozenset[str]:
    """The words a page is checked against: everyday English (models/ocr_vocabulary.json's common_words)
    and every word OCR repair knows."""
    return ocr_common_words() | ocr_vocabulary()[1]


def read_upright(image: bytes, first: OcrResult, ocr, settings, timeout: float) -> tuple[OcrResult, int]:
    """The page's better reading and the rotation it took: the first reading unless it is doubtful and
    Tesseract's orientation detection turns the page to one that reads with higher confidence."""
    below, share = settings.ocr_orientation_below, settings.ocr_noise_word_share
    if not settings.ocr_orientation or not doubtful(first, below, dictionary_words(), share):
        return first, 0
    found = run_osd(image, settings.ocr_threads_per_page, timeout)
    if found is None or found.rotate not in _ANGLES or found.confidence < settings.ocr_orientation_min_confidence:
        return first, 0
    second = ocr(rotate_image(image, found.rotate))
    # sideways text read with fair confidence: the turned reading wins unless clearly worse
    margin = 10.0 if sideways(first) and not sideways(second) else 0.0
    if second.confidence + margin > first.confidence:
        return second, found.rotate
    return first, 0
