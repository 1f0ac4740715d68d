"""Read each PDF in a worker process with a memory cap and a deadline.

A hostile PDF (a decompression bomb, a cyclic or deeply nested object graph, a page 200 inches wide)
can make a PDF library grow without bound, loop, or crash the process outright. The worker runs
`pdf.parse_pdf` under `RLIMIT_AS` (Settings.pdf_memory_mb, inherited by its Tesseract children) and
is killed, with its process group, when a document takes longer than Settings.pdf_timeout_s. Workers
are reused from document to document (starting one costs ~0.3 s of imports), so isolation costs
a pickle round trip per document, not a process start. A worker that failed is replaced.
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
from extractor.ingest.document import Document

_HEADER = struct.Struct("!Q")


class _WorkerGone(Exception):
    """The worker was dead before it got the document (not the document's fault)."""


class _Worker:
    def __init__(self, settings: Settings):
        package_root = str(Path(__file__).resolve().parent.parent)  # the worker runs this same extractor
        path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
        env = dict(os.environ, EXTRACTOR_PDF_WORKER_MEMORY_MB=str(settings.pdf_memory_mb), PYTHONPATH=path)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "extractor.ingest.sandbox"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )

    def call(self, name: str, data: bytes, settings: Settings) -> list[Document]:
        payload = pickle.dumps((name, data, settings.model_dump()), protocol=pickle.HIGHEST_PROTOCOL)
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
    if len(data) > settings.pdf_max_bytes:
        raise DocumentError(f"PDF is {len(data) // 2**20} MB (limit {settings.pdf_max_bytes // 2**20} MB)")
    if not settings.pdf_isolation:
        from .pdf import parse_pdf  # lazy: pdfplumber and pdfium load only where a PDF is parsed

        return parse_pdf(name, data, settings)
    with _slots(settings.pdf_workers):
        with _lock:
            worker = _idle.pop() if _idle else None
        if worker is None or not worker.alive():
            worker = _Worker(settings)
        try:
            try:
                result = worker.call(name, data, settings)
            except _WorkerGone:
                worker = _Worker(settings)
                result = worker.call(name, data, settings)
        except DocumentError:
            if worker.alive():  # it answered with the document's error: reusable
                with _lock:
                    _idle.append(worker)
            raise
        except BaseException:  # the caller is stopping (a signal) mid-document: the worker dies with it
            worker.kill()
            raise
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
    from .pdf import parse_pdf  # lazy: imported after the memory limit is set

    stdin = sys.stdin.buffer
    stdout = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # stray prints from libraries never corrupt the replies
    while True:
        head = stdin.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return
        name, data, raw_settings = pickle.loads(stdin.read(_HEADER.unpack(head)[0]))
        try:
            reply: tuple[str, object] = ("ok", parse_pdf(name, data, Settings(**raw_settings)))
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
