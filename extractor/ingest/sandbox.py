"""Read each PDF in a worker process with a memory cap and a deadline.

A hostile PDF (a decompression bomb, a cyclic or deeply nested object graph, a page 200 inches wide)
can make a PDF library grow without bound, loop, or crash the process outright. The worker runs
`pdf.read_pages` (and `images.render_pngs`, the case page's images) under `RLIMIT_AS`
(Settings.pdf_memory_mb, inherited by its Tesseract children) and is killed, with its process group,
when a document takes longer than Settings.pdf_timeout_s. Workers are reused from document to document
(starting one costs ~0.3 s of imports), so isolation costs a pickle round trip per document, not a
process start. A worker that failed is replaced.
"""

from __future__ import annotations

import atexit
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from extractor.config import Settings, get_settings
from extractor.errors import DocumentError
from extractor.ingest.document import Document, sha256_bytes

from .packet import PdfReading, documents_of

_HEADER = struct.Struct("!Q")


class _WorkerGone(Exception):
    """The worker was dead before it got the document (not the document's fault)."""


class _Worker:
    def __init__(self, settings: Settings):
        package_root = str(Path(__file__).resolve().parent.parent)  # the worker runs this same extractor
        path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
        self.memory_mb = settings.pdf_memory_mb  # set once, at start: a worker serves only this cap
        env = dict(os.environ, EXTRACTOR_PDF_WORKER_MEMORY_MB=str(settings.pdf_memory_mb), PYTHONPATH=path)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "extractor.ingest.sandbox"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )

    def call(self, op: str, data: bytes, settings: Settings, extra: object = None) -> object:
        payload = pickle.dumps((op, data, settings.model_dump(), extra), protocol=pickle.HIGHEST_PROTOCOL)
        deadline = time.monotonic() + settings.pdf_timeout_s
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(_HEADER.pack(len(payload)) + payload)
            self.proc.stdin.flush()
        except OSError:
            self.kill()
            raise _WorkerGone from None
        try:
            size = _HEADER.unpack(self._read(_HEADER.size, deadline))[0]
            status, value = pickle.loads(self._read(size, deadline))
        except TimeoutError:
            self.kill()
            raise DocumentError(f"PDF took longer than {settings.pdf_timeout_s:g} s to read (time limit)") from None
        except (BrokenPipeError, EOFError, OSError, pickle.UnpicklingError):
            self.kill()
            raise DocumentError(self._death(settings)) from None
        if status == "ok":
            return value
        raise DocumentError(value)

    def _read(self, n: int, deadline: float) -> bytes:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        chunks: list[bytes] = []
        while n > 0:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise TimeoutError
            chunk = os.read(fd, min(n, 1 << 20))
            if not chunk:
                raise EOFError
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _death(self, settings: Settings) -> str:
        code = self.proc.poll()
        if code is not None and code < 0:
            return (
                f"PDF crashed the reader (signal {signal.Signals(-code).name}; "
                f"out of memory? limit {settings.pdf_memory_mb} MB)"
            )
        return "PDF crashed the reader"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                stream.close()


_idle: list[_Worker] = []
_lock = threading.Lock()


def read_pdf(name: str, data: bytes, settings: Settings | None = None) -> list[Document]:
    """A PDF's documents, read in a bounded worker process (or in-process if isolation is off)."""
    settings = settings or get_settings()
    return documents_of(name, sha256_bytes(data), read_reading(data, settings), settings)


def read_reading(data: bytes, settings: Settings | None = None) -> PdfReading:
    """What the PDF reader makes of a file (pages, boxes, OCR, sizes), in a bounded worker process."""
    settings = settings or get_settings()
    if len(data) > settings.pdf_max_bytes:
        raise DocumentError(f"PDF is {len(data) // 2**20} MB (limit {settings.pdf_max_bytes // 2**20} MB)")
    result = _bounded("read", data, settings)
    assert isinstance(result, PdfReading)
    return result


def render_pages(data: bytes, rotation: dict[int, int], settings: Settings | None = None) -> list[bytes]:
    """PNG of every page for the case page, rendered in a bounded worker process (pixels capped)."""
    settings = settings or get_settings()
    if len(data) > settings.pdf_max_bytes:
        raise DocumentError(f"PDF is {len(data) // 2**20} MB (limit {settings.pdf_max_bytes // 2**20} MB)")
    result = _bounded("render", data, settings, rotation)
    assert isinstance(result, list)
    return result


def _run(op: str, data: bytes, settings: Settings, extra: object) -> object:
    """One operation on a PDF, in this process: what the worker runs, and what isolation off runs inline."""
    if op == "render":
        from .images import render_pngs  # lazy: pdfium loads only where a PDF is opened

        return render_pngs(data, extra if isinstance(extra, dict) else {}, settings)
    from .pdf import read_pages  # lazy: pdfium loads only where a PDF is parsed

    return read_pages(data, settings)


def _bounded(op: str, data: bytes, settings: Settings, extra: object = None) -> object:
    if not settings.pdf_isolation:
        return _run(op, data, settings, extra)
    with _slots(settings.pdf_workers):
        with _lock:
            same = [w for w in _idle if w.memory_mb == settings.pdf_memory_mb]
            worker = same[-1] if same else None
            if worker is not None:
                _idle.remove(worker)
        if worker is None or not worker.alive():
            worker = _Worker(settings)
        try:
            result = worker.call(op, data, settings, extra)
        except _WorkerGone:
            worker = _Worker(settings)
            result = worker.call(op, data, settings, extra)
        with _lock:
            _idle.append(worker)
    return result


_semaphore: threading.BoundedSemaphore | None = None


def _slots(n: int) -> threading.BoundedSemaphore:
    """At most `n` PDFs are read at once per process (threads of a web server wait their turn), so
    memory stays within n x Settings.pdf_memory_mb."""
    global _semaphore
    with _lock:
        if _semaphore is None:
            _semaphore = threading.BoundedSemaphore(max(1, n))
        return _semaphore


def shutdown() -> None:
    """Stop idle workers (they also exit on their own when this process's pipes close)."""
    with _lock:
        while _idle:
            _idle.pop().kill()


atexit.register(shutdown)


def _serve() -> None:
    import resource

    limit = int(os.environ.get("EXTRACTOR_PDF_WORKER_MEMORY_MB", "2048")) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.setrecursionlimit(5000)
    from . import images, pdf  # lazy: imported after the memory limit is set  # noqa: F401

    stdin = sys.stdin.buffer
    stdout = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # stray prints from libraries never corrupt the replies
    while True:
        head = stdin.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return
        op, data, raw_settings, extra = pickle.loads(stdin.read(_HEADER.unpack(head)[0]))
        try:
            reply: tuple[str, object] = ("ok", _run(op, data, Settings(**raw_settings), extra))
        except DocumentError as exc:
            reply = ("error", str(exc))
        except MemoryError:
            reply = ("error", f"PDF needs more than {limit // 2**20} MB to read (memory limit)")
        except RecursionError:
            reply = ("error", "damaged PDF (objects nested too deeply)")
        except Exception as exc:
            reply = ("error", f"damaged PDF ({type(exc).__name__})")
        try:
            out = pickle.dumps(reply, protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            out = pickle.dumps(("error", "PDF too large to return (memory limit)"))
        stdout.write(_HEADER.pack(len(out)) + out)
        stdout.flush()


if __name__ == "__main__":
    _serve()
