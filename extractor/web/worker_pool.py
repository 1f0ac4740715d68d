"""The server's side of background processing: spawn worker processes, replace one that died.

This module stays light (no spaCy, no PDF library): the web server imports it, and only the spawned
processes import `worker`, which reads documents and runs the pipeline.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import socket
import threading
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from extractor import store

log = logging.getLogger("extractor.web.worker")


def worker_id(pid: int | None = None) -> str:
    return f"{socket.gethostname()}:{pid or os.getpid()}"


def _child(url: str, data_dir: str, stop) -> None:
    from .worker import work_queue  # lazy: only the spawned worker process loads spaCy and the PDF readers

    work_queue(url, data_dir, stop)


class WorkerPool:
    """N spawned worker processes (spawn, not fork: the server has threads and open connections).

    A supervisor thread replaces a worker that died (a crash in a PDF library, the OOM killer) and puts the
    case it was processing back in the queue at once, rather than after the claim's lease runs out.
    """

    def __init__(self, url: str, data_dir: Path, count: int, factory: sessionmaker[Session] | None = None):
        self.url, self.data_dir, self.count = url, data_dir, count
        self.factory = factory or sessionmaker(store.make_engine(url), expire_on_commit=False)
        self._ctx = mp.get_context("spawn")
        self._stop = self._ctx.Event()
        self._procs: list = []
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
        while not self._stop.wait(1.0):
            for i, proc in enumerate(self._procs):
                if proc.is_alive() or self._stop.is_set():
                    continue
                log.warning("worker %s exited (code %s); restarting it", proc.pid, proc.exitcode)
                try:
                    with self.factory() as session:
                        store.release_claims(session, worker_id(proc.pid))
                        session.commit()
                except Exception as exc:
                    log.warning("worker supervisor: %s", type(exc).__name__)
                self._procs[i] = self._spawn(i)
                self.restarts += 1

    def pids(self) -> list[int]:
        return [p.pid for p in self._procs]

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout)
        for proc in self._procs:
            proc.join(timeout)
            if proc.is_alive():
                proc.terminate()
                proc.join(2)
        self._procs.clear()
