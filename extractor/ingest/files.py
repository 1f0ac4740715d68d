"""The front door: one file in, its documents out, by what the bytes are (text or PDF), never the name alone."""

from __future__ import annotations

import errno
import os
import re
import stat
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


PDF_MAGIC = b"%PDF-"
_BANNERED = re.compile(rb"[\r\n]%PDF-\d")


def sniff(data: bytes) -> str | None:
    """'pdf', 'text' or None (neither), by content alone: the one test of what a file is, for upload (store)
    and reading (ingest) alike. A PDF starts with its magic, or (a fax server's banner line before it) has
    the magic at the start of a line of its first KB and ends with %%EOF; a note that mentions "%PDF-" is
    text."""
    if data.startswith(PDF_MAGIC) or (_BANNERED.search(data[:1024]) and b"%%EOF" in data[-1024:]):
        return "pdf"
    try:
        decode_text(data)
    except DocumentError:
        return None
    return "text"


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


_OPEN_ERRORS = {
    errno.ENOENT: "no such file",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EISDIR: "is a directory",
    errno.ELOOP: "symbolic link (not followed)",
}


def read_regular(path: Path, *, follow_links: bool = True) -> bytes:
    """The bytes of a regular file, opened without blocking (a FIFO or a device is refused, never waited on)
    and, with `follow_links=False`, without following a symbolic link in its last component."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow_links else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise DocumentError(_OPEN_ERRORS.get(exc.errno or 0, f"cannot read ({exc.strerror or 'I/O error'})")) from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise DocumentError("is a directory" if stat.S_ISDIR(mode) else "not a regular file")
    with os.fdopen(fd, "rb") as fh:
        try:
            return fh.read()
        except OSError as exc:
            raise DocumentError(f"cannot read ({exc.strerror or 'I/O error'})") from None


def read_file(path: Path, cache: ReadingCache | None = None, *, follow_links: bool = True) -> list[Document]:
    """One file in, its documents out: a fax packet PDF may hold several documents."""
    data = read_regular(path, follow_links=follow_links)
    if not data:
        raise DocumentError("file is empty")
    if sniff(data) == "pdf":
        return read_pdf_cached(path.name, data, cache)
    if path.suffix.lower() == ".pdf":
        raise DocumentError("not a PDF (no %PDF- header)")
    return [read_text_document(path.name, data)]
