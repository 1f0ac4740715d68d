"""Read each PDF in a worker process with a memory cap and a deadline.

A hostile PDF (a decompression bomb, a cyclic or deeply nested object graph, a page 200 inches wide)
can make a PDF library grow without bound, loop, or crash the process outright. The worker runs
`pdf.read_pages` (and `images.render_pngs`, the case page's images) under `RLIMIT_AS`
(Settings.pdf_memory_mb, inherited by its Tesseract children) and is killed, with its process group,
when a document takes longer than Settings.pdf_timeout_s. Workers are reused from document to document
(starting one costs ~0.3 s of imports), so isolation costs a JSON round trip per document, not a
process start. A worker that failed is replaced.

The worker holds no secret and leaves no trace: it starts with a minimal environment (no database URL,
no EXTRACTOR_* setting but the models folder), gets only the PDF and OCR settings with each request,
cannot dump core, and answers in JSON that the parent validates into a PdfReading (or PNG bytes) field by
field (a reply is data, never code to unpickle: a worker subverted by a hostile PDF cannot run code in the
server).
"""

from __future__ import annotations

import atexit
import base64
import json
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

from pydantic import ValidationError

from extractor.config import Settings, get_settings
from extractor.errors import DocumentError
from extractor.ingest.document import Document, sha256_bytes

from .packet import READING, PdfReading, documents_of

_HEADER = struct.Struct("!Q")
_REQUEST = struct.Struct("!QQ")  # JSON length, PDF length
# What the worker may inherit: nothing that names a database, a secret or the server's settings.
_ENV_KEEP = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TMPDIR", "TESSDATA_PREFIX", "EXTRACTOR_MODELS_DIR")
_SETTINGS_PREFIXES = ("pdf_", "ocr_")


def worker_env(memory_mb: int) -> dict[str, str]:
    """The PDF worker's whole environment."""
    package_root = str(Path(__file__).resolve().parents[2])  # the worker runs this same extractor
    path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH", "")) if p)
    env = {k: os.environ[k] for k in _ENV_KEEP if k in os.environ}
    env.update(PYTHONPATH=path, EXTRACTOR_PDF_WORKER_MEMORY_MB=str(memory_mb), PYTHONDONTWRITEBYTECODE="1")
    return env


def worker_settings(settings: Settings) -> dict:
    """The settings a worker needs to read a PDF, and no others (no database URL crosses over)."""
    return {k: v for k, v in settings.model_dump(mode="json").items() if k.startswith(_SETTINGS_PREFIXES)}


def encode_value(op: str, value: object) -> object:
    """A worker's result as JSON data: a PdfReading's fields, or the PNG pages in base64."""
    if op == "read":
        return READING.dump_python(value, mode="json")
    return [base64.b64encode(png).decode("ascii") for png in value]  # type: ignore[attr-defined]


def decode_value(op: str, value: object) -> object:
    """The inverse of encode_value, validated: only a PdfReading (pydantic, field by field) or a list of PNGs
    comes out; anything else is a ValueError (the worker is killed, the document fails)."""
    if op == "read":
        try:
            return READING.validate_python(value)
        except ValidationError:
            raise ValueError("a worker reply that is not a PDF reading") from None
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise ValueError("a worker reply that is not a list of page images")
    pngs = [base64.b64decode(v, validate=True) for v in value]
    if not all(png.startswith(b"\x89PNG") for png in pngs):
        raise ValueError("a worker reply that is not a list of page images")
    return pngs


class _WorkerGone(Exception):
    """The worker was dead before it got the document (not the document's fault)."""


class _Worker:
    def __init__(self, settings: Settings):
        self.memory_mb = settings.pdf_memory_mb  # set once, at start: a worker serves only this cap
        env = worker_env(settings.pdf_memory_mb)
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, str(Path(__file__).resolve().parents[2])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )

    def call(self, op: str, data: bytes, settings: Settings, extra: dict[int, int] | None = None) -> object:
        request = {"op": op, "settings": worker_settings(settings), "rotation": sorted((extra or {}).items())}
        head = json.dumps(request).encode()
        deadline = time.monotonic() + settings.pdf_timeout_s
        try:
            assert self.proc.stdin is not None
            self.proc.stdin.write(_REQUEST.pack(len(head), len(data)) + head)
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except OSError:
            self.kill()
            raise _WorkerGone from None
        try:
            size = _HEADER.unpack(self._read(_HEADER.size, deadline))[0]
            reply = json.loads(self._read(size, deadline))
            status, value = reply["status"], reply["value"]
            value = decode_value(op, value) if status == "ok" else str(value)
        except TimeoutError:
            self.kill()
            raise DocumentError(f"PDF took longer than {settings.pdf_timeout_s:g} s to read (time limit)") from None
        except (BrokenPipeError, EOFError, OSError, ValueError, KeyError, TypeError):
            self.kill()
            raise DocumentError(self._death(settings)) from None
        if status == "ok":
            return value
        raise DocumentError(str(value))

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
        with _lock:  # a worker runs under the memory cap it was started with
            fits = [w for w in _idle if w.memory_mb == settings.pdf_memory_mb]
            worker = fits[-1] if fits else None
            if worker is not None:
                _idle.remove(worker)
        if worker is None or not worker.alive():
            worker = _Worker(settings)
        try:
            try:
                result = worker.call(op, data, settings, extra)
            except _WorkerGone:
                worker = _Worker(settings)
                result = worker.call(op, data, settings, extra)
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


def start_worker(settings: Settings | None = None) -> None:
    """Have one idle worker ready (a backfill worker's warm-up): the first PDF then does not wait for a
    worker's start (~0.4 s of CPU: Python and the PDF and image libraries)."""
    settings = settings or get_settings()
    if not settings.pdf_isolation:
        return
    with _lock:
        if any(w.memory_mb == settings.pdf_memory_mb and w.alive() for w in _idle):
            return
    worker = _Worker(settings)
    with _lock:
        _idle.append(worker)


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


# The worker's entry: `-I` (isolated: no user site, no PYTHON* variables, no current folder on the path),
# then the package root given as argv[1].
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from extractor.ingest.sandbox import _serve; _serve()"


def _reply(status: str, op: str, value: object) -> bytes:
    data = encode_value(op, value) if status == "ok" else value
    return json.dumps({"status": status, "value": data}, ensure_ascii=False).encode()


def _serve() -> None:
    import resource

    limit = int(os.environ.get("EXTRACTOR_PDF_WORKER_MEMORY_MB", "2048")) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file with the PDF's content
    sys.setrecursionlimit(5000)
    from . import images, pdf  # lazy: imported after the memory limit is set  # noqa: F401

    stdin = sys.stdin.buffer
    stdout = os.fdopen(os.dup(1), "wb")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # stray prints from libraries never corrupt the replies
    while True:
        head = stdin.read(_REQUEST.size)
        if len(head) < _REQUEST.size:
            return
        head_size, data_size = _REQUEST.unpack(head)
        request = json.loads(stdin.read(head_size))
        data = stdin.read(data_size)
        op, raw_settings = str(request["op"]), dict(request["settings"])
        rotation = {int(k): int(v) for k, v in request.get("rotation") or []}
        try:
            reply = _reply("ok", op, _run(op, data, Settings(**raw_settings), rotation))
        except DocumentError as exc:
            reply = _reply("error", op, str(exc))
        except MemoryError:
            reply = _reply("error", op, f"PDF needs more than {limit // 2**20} MB to read (memory limit)")
        except RecursionError:
            reply = _reply("error", op, "damaged PDF (objects nested too deeply)")
        except Exception as exc:
            reply = _reply("error", op, f"damaged PDF ({type(exc).__name__})")
        out = reply
        stdout.write(_HEADER.pack(len(out)) + out)
        stdout.flush()


if __name__ == "__main__":
    _serve()
