"""The front door: one file in, its documents out, by what the bytes are (text or PDF), never the name alone."""

from __future__ import annotations

import re
from pathlib import Path

from extractor.config import get_settings
from extractor.errors import DocumentError

from .cache import ReadingCache
from .document import Document, classify, sha256_bytes
from .packet import documents_of
from .sandbox import read_reading

TEXT_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
_CONTROL = set(range(0, 32)) - {9, 10, 12, 13}


def decode_text(data: bytes) -> str:
    """Decode a text note; refuse binary content rather than guess."""
    if not data.strip():
        raise DocumentError("file is empty")
    sample = data[:8192]
    if b"\x00" in sample and not (sample.startswith(b"\xff\xfe") or sample.startswith(b"\xfe\xff")):
        raise DocumentError("binary file, not text or PDF")
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    else:
        for encoding in TEXT_ENCODINGS:
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
    controls = sum(1 for ch in text[:8192] if ord(ch) in _CONTROL)
    if controls > max(8, len(text[:8192]) // 50):
        raise DocumentError("binary file, not text or PDF")
    if not text.strip():
        raise DocumentError("file has no text")
    return text


def read_text_document(name: str, data: bytes) -> Document:
    text = decode_text(data)
    page_starts = [0] + [m.end() for m in re.finditer("\f", text)]
    doc = Document(name=name, sha256=sha256_bytes(data), text=text, page_starts=page_starts)
    doc.doc_type = classify(text)
    return doc


def read_pdf_cached(name: str, data: bytes, cache: ReadingCache | None = None) -> list[Document]:
    """A PDF's documents, from the cache's reading of the same bytes when it has one (no PDF opened, no
    OCR), else read in the bounded worker and the reading kept."""
    settings = get_settings()
    digest = sha256_bytes(data)
    reading = cache.get(digest) if cache is not None else None
    if reading is None:
        reading = read_reading(data, settings)
        if cache is not None and reading.complete:
            cache.put(digest, reading)  # before assembling, which drops fax header lines in place
    return documents_of(name, digest, reading, settings)


def read_file(path: Path, cache: ReadingCache | None = None) -> list[Document]:
    """One file in, its documents out: a fax packet PDF may hold several documents."""
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise DocumentError("is a directory") from None
    except FileNotFoundError:
        raise DocumentError("no such file") from None
    except PermissionError:
        raise DocumentError("permission denied") from None
    except OSError as exc:
        raise DocumentError(f"cannot read ({exc.strerror or 'I/O error'})") from None
    if not data:
        raise DocumentError("file is empty")
    if data.lstrip()[:5] == b"%PDF-" or (b"%PDF-" in data[:1024] and path.suffix.lower() == ".pdf"):
        return read_pdf_cached(path.name, data, cache)
    if path.suffix.lower() == ".pdf":
        raise DocumentError("not a PDF (no %PDF- header)")
    return [read_text_document(path.name, data)]
