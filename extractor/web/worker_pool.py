"""The server's side of background processing: spawn worker processes, replace one that died.

This module stays light (no spaCy, no PDF library): the web server imports it, and only the spawned
processes import `worker`, which reads documents and runs the pipeline.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import signal
import socket
import threading
import time
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from extractor import store

log = logging.getLogger("extractor.web.worker")


# A worker that exited on its own after a SIGTERM/SIGINT (0), or died of one before its handler was set.
STOPPED_CODES = (0, -signal.SIGTERM, -signal.SIGINT)


def worker_id(pid: int | None = None) -> str:
    """host:server-pid:worker-pid; in a worker call it bare, in the server with the worker's pid. A restarted
    server releases at once only the claims of its host's servers that are gone (store.release_orphans)."""
    host = socket.gethostname()[:40]
    if pid is None:
        return f"{host}:{os.getppid()}:{os.getpid()}"
    return f"{host}:{os.getpid()}:{pid}"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _child(url: str, data_dir: str, stop) -> None:
    from .worker import work_queue  # lazy: only the spawned worker process loads spaCy and the PDF readers

    work_queue(url, data_dir, stop)


class WorkerPool:
    """N spawned worker processes (spawn, not fork: the server has threads and open connections).

    A supervisor thread replaces a worker that died (a crash in a PDF library, the OOM killer) and puts the
    case it was processing back in the queue at once, rather than after the claim's lease runs out. A worker
    that was told to stop (SIGTERM to it or to the server's process group, or `stop()`) is not replaced: it
    hands its case back and exits, and the server's shutdown must not race a restart.
    """

    def __init__(self, url: str, data_dir: Path, count: int, factory: sessionmaker[Session] | None = None):
        self.url, self.data_dir, self.count = url, data_dir, count
        self.factory = factory or sessionmaker(store.make_engine(url), expire_on_commit=False)
        self._ctx = mp.get_context("spawn")
        self._stop = self._ctx.Event()
        self._procs: list = []  # None where a worker was stopped
        self._supervisor: threading.Thread | None = None
        self.restarts = 0

    def _spawn(self, i: int):
        proc = self._ctx.Process(
            target=_child, args=(self.url, str(self.data_dir), self._stop), name=f"extractor-worker-{i}", daemon=True
        )
        proc.start()
        return proc

    def start(self) -> None:
        self._procs = [self._spawn(i) for i in range(self.count)]
        self._supervisor = threading.Thread(target=self._supervise, name="extractor-worker-supervisor", daemon=True)
        self._supervisor.start()

    def _supervise(self) -> None:
        while not self._stop.wait(0.5):
            for i, proc in enumerate(self._procs):
                if proc is None or proc.is_alive() or self._stop.is_set():
                    continue
                self._release(proc.pid)
                if proc.exitcode in STOPPED_CODES:  # asked to stop (a SIGTERM to the process group): no restart
                    log.info("worker %s stopped (code %s)", proc.pid, proc.exitcode)
                    self._procs[i] = None
                    continue
                log.warning("worker %s exited (code %s); restarting it", proc.pid, proc.exitcode)
                self._procs[i] = self._spawn(i)
                self.restarts += 1

    def _release(self, pid: int | None) -> None:
        """The claims of a worker that is gone go back to the queue at once."""
        try:
            with self.factory() as session:
                store.release_claims(session, worker_id(pid))
                session.commit()
        except Exception as exc:
            log.warning("worker supervisor: %s", type(exc).__name__)

    def pids(self) -> list[int]:
        return [p.pid for p in self._procs if p is not None]

    def begin_stop(self) -> None:
        """Called from the server's signal handler: no worker is replaced from now on, none takes a new case."""
        self._stop.set()

    def stop(self, timeout: float = 6) -> None:
        """Stop every worker within `timeout` s: each gets SIGTERM and hands back (or finishes) its case; one
        still running at the deadline is killed and its claims released by the server."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        if self._supervisor is not None:
            self._supervisor.join(max(0.0, deadline - time.monotonic()))
        procs = [p for p in self._procs if p is not None]
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        for proc in procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join(2)
                self._release(proc.pid)
        self._procs.clear()
