"""The JSON Lines output, written only from the state: appended, fsynced, then marked written with its end
offset, so a kill leaves at most a torn tail that the next run cuts off."""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import sqlalchemy as sa

from extractor.errors import BackfillError
from extractor.private import open_private, private_dir, tighten

from .state import OK, adopt_line, clear_written, finished_lines, last_written, mark_written

# --- output ----------------------------------------------------------------------------------------


def result_line(case_id: str, result: dict) -> str:
    """One JSON line; the worker's review JSON is embedded as is (compact, no newline)."""
    head = f'{{"case_id": {json.dumps(case_id)}, "status": "{result["status"]}"'
    if result["status"] == OK:
        return f'{head}, "review": {result["review"]}}}'
    return f'{head}, "error": {json.dumps(result["error"])}}}'


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Output:
    """The JSON Lines file, written only from finished rows of the state, under an exclusive lock."""

    def __init__(self, path: Path, engine: sa.Engine):
        self.path = path
        self.engine = engine
        self._lock_fh = None
        self._fh = None

    def lock(self) -> None:
        if not self.path.parent.is_dir():
            private_dir(self.path.parent)
        self._lock_fh = open_private(f"{self.path}.lock", "ab")
        tighten(self.path)
        try:
            fcntl.flock(self._lock_fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackfillError(f"{self.path}: another backfill is writing this output") from None

    def close(self) -> None:
        if self._fh:
            self._fh.close()
            self._fh = None
        if self._lock_fh:
            self._lock_fh.close()
            self._lock_fh = None

    def reconcile(self) -> None:
        """Make the file agree with the state: cut a torn tail, adopt complete lines written before a kill
        but not yet marked, and rewrite the whole file if it is missing, shorter or not the one we wrote."""
        with self.engine.connect() as conn:
            end, last = last_written(conn)
        size = self.path.stat().st_size if self.path.exists() else 0
        if size < end or (last is not None and not self._line_ends_at(last, end)):
            self.rewrite()
            return
        if size == end:
            return
        with self.path.open("rb") as fh:
            fh.seek(end)
            tail = fh.read()
        adopted: list[tuple[str, int]] = []
        pos = end
        for raw in tail.split(b"\n")[:-1]:
            pos += len(raw) + 1
            try:
                case_id = json.loads(raw)["case_id"]
            except (ValueError, KeyError, TypeError):
                self.rewrite()
                return
            adopted.append((case_id, pos))
        with self.engine.begin() as conn:
            for case_id, out_end in adopted:
                if not adopt_line(conn, case_id, out_end):
                    break
            else:
                with self.path.open("r+b") as fh:
                    fh.truncate(pos)
                    os.fsync(fh.fileno())
                return
        self.rewrite()

    def _line_ends_at(self, case_id: str, end: int) -> bool:
        prefix = f'{{"case_id": {json.dumps(case_id)},'.encode()
        with self.path.open("rb") as fh:
            start = max(0, end - 1)
            fh.seek(start)
            if fh.read(1) != b"\n":
                return False
            # walk back to the start of the line that ends at `end`
            pos = start
            step = 1 << 16
            while pos > 0:
                lo = max(0, pos - step)
                fh.seek(lo)
                chunk = fh.read(pos - lo)
                i = chunk.rfind(b"\n")
                if i >= 0:
                    fh.seek(lo + i + 1)
                    return fh.read(len(prefix)) == prefix
                pos = lo
            fh.seek(0)
            return fh.read(len(prefix)) == prefix

    def rewrite(self) -> None:
        """All finished rows, in input order, to a temp file that replaces the output (no torn state)."""
        if self._fh is not None:  # appends after the rename must go to the new file
            self._fh.close()
            self._fh = None
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        offsets: list[tuple[str, int]] = []
        with self.engine.connect() as conn, open_private(tmp, "wb") as fh:
            for case_id, line in finished_lines(conn):
                fh.write(line.encode() + b"\n")
                offsets.append((case_id, fh.tell()))
            fh.flush()
            os.fsync(fh.fileno())
        with self.engine.begin() as conn:
            clear_written(conn)
            mark_written(conn, offsets)
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)

    def append_unwritten(self) -> int:
        """Append finished rows not yet in the file, fsync, then mark them written with their end offsets."""
        with self.engine.connect() as conn:
            rows = list(finished_lines(conn, unwritten=True))
        if not rows:
            return 0
        if self._fh is None:
            self._fh = open_private(self.path, "ab")
        marks = []
        for case_id, line in rows:
            self._fh.write(line.encode() + b"\n")
            marks.append((case_id, self._fh.tell()))
        self._fh.flush()
        os.fsync(self._fh.fileno())
        with self.engine.begin() as conn:
            mark_written(conn, marks)
        return len(rows)
