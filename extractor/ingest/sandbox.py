"""Read each PDF in a worker process with a memory cap and a deadline.

A hostile PDF (a decompression bomb, a cyclic or deeply nested object graph, a page 200 inches wide)
can make a PDF library grow without bound, loop, or crash the process outright. The worker runs
`pdf.parse_pdf` under `RLIMIT_AS` (Settings.pdf_memory_mb, inherited by its Tesseract children) and
is killed, with its process group, when a document takes longer than Settings.pdf_timeout_s. Workers
are reused from document to document (starting one costs ~0.3 s of imports), so isolation costs
a JSON round trip per document, not a process start. A worker that failed is replaced.

The worker holds no secret and leaves no trace: it starts with a minimal environment (no database URL,
no EXTRACTOR_* setting but the models folder), gets only the PDF and OCR settings with each request,
cannot dump core, and answers in JSON that the parent decodes into Documents field by field (a reply
is data, never code to unpickle: a worker subverted by a hostile PDF cannot run code in the server).
"""

from __future__ import annotations

import atexit
import base64
import dataclasses
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

from extractor.config import Settings, get_settings
from extractor.errors import DocumentError
from extractor.ingest.document import Document

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


def _encode(value):
    """Documents to JSON-able data, tagging what JSON lacks (int-keyed dicts, bytes)."""
    if isinstance(value, Document):
        return {"$doc": {f.name: _encode(getattr(value, f.name)) for f in dataclasses.fields(Document)}}
    if isinstance(value, dict):
        return {"$pairs": [[_encode(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, list | tuple):
        return [_encode(v) for v in value]
    if isinstance(value, bytes):
        return {"$b64": base64.b64encode(value).decode("ascii")}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot send {type(value).__name__}")


def _decode(value):
    """The inverse of _encode; the only object it builds is a Document, from its known fields."""
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if "$doc" in value:
            known = {f.name for f in dataclasses.fields(Document)}
            raw = {k: _decode(v) for k, v in value["$doc"].items() if k in known}
            if raw.get("boxes") is not None:
                raw["boxes"] = [tuple(b) if b is not None else None for b in raw["boxes"]]
            return Document(**raw)
        if "$pairs" in value:
            return {_decode(k): _decode(v) for k, v in value["$pairs"]}
        if "$b64" in value:
            return base64.b64decode(value["$b64"])
        raise ValueError("unexpected object in a worker reply")
    return value


class _WorkerGone(Exception):
    """The worker was dead before it got the document (not the document's fault)."""


class _Worker:
    def __init__(self, settings: Settings):
        self.memory_mb = settings.pdf_memory_mb
        env = worker_env(settings.pdf_memory_mb)
        self.proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, str(Path(__file__).resolve().parents[2])],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=env,
        )

    def call(self, name: str, data: bytes, settings: Settings) -> list[Document]:
        head = json.dumps({"name": name, "settings": worker_settings(settings)}).encode()
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
            status, value = reply["status"], _decode(reply["value"])
            if status == "ok" and not (isinstance(value, list) and all(isinstance(d, Document) for d in value)):
                raise ValueError("a worker reply that is not a list of documents")
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
    if len(data) > settings.pdf_max_bytes:
        raise DocumentError(f"PDF is {len(data) // 2**20} MB (limit {settings.pdf_max_bytes // 2**20} MB)")
    if not settings.pdf_isolation:
        from .pdf import parse_pdf  # lazy: pdfplumber and pdfium load only where a PDF is parsed

        return parse_pdf(name, data, settings)
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


# The worker's entry: `-I` (isolated: no user site, no PYTHON* variables, no current folder on the path),
# then the package root given as argv[1].
_BOOT = "import sys; sys.path.insert(0, sys.argv[1]); from extractor.ingest.sandbox import _serve; _serve()"


def _reply(status: str, value) -> bytes:
    return json.dumps({"status": status, "value": _encode(value)}, ensure_ascii=False).encode()


def _serve() -> None:
    import resource

    limit = int(os.environ.get("EXTRACTOR_PDF_WORKER_MEMORY_MB", "2048")) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crash leaves no core file with the PDF's content
    sys.setrecursionlimit(5000)
    from .pdf import parse_pdf  # lazy: imported after the memory limit is set

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
        name, raw_settings = str(request["name"]), dict(request["settings"])
        try:
            reply = _reply("ok", parse_pdf(name, data, Settings(**raw_settings)))
        except DocumentError as exc:
            reply = _reply("error", str(exc))
        except MemoryError:
            reply = _reply("error", f"PDF needs more than {limit // 2**20} MB to read (memory limit)")
        except RecursionError:
            reply = _reply("error", "damaged PDF (objects nested too deeply)")
        except Exception as exc:
            reply = _reply("error", f"damaged PDF ({type(exc).__name__})")
        out = reply
        stdout.write(_HEADER.pack(len(out)) + out)
        stdout.flush()


if __name__ == "__main__":
    _serve()
