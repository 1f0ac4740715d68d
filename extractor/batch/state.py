"""The backfill's state database: one row per case, keyed by content hash, pipeline version and guideline key.

Every SQL statement of the backfill lives here, beside the tables, so the dispatch reads as its steps."""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import stat
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from extractor import knowledge
from extractor.errors import BackfillError
from extractor.ingest.cache import define_table
from extractor.private import open_private, tighten

from .inputs import CaseInput

PENDING, OK, ERROR = "pending", "ok", "error"


# --- state -----------------------------------------------------------------------------------------

metadata = sa.MetaData()
cases_table = sa.Table(
    "cases",
    metadata,
    sa.Column("case_id", sa.String, primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("content_hash", sa.String, nullable=False),
    sa.Column("pipeline_version", sa.String, nullable=False),
    sa.Column("guideline_key", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False, default=PENDING),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("claim_owner", sa.String),
    sa.Column("claim_expires", sa.Float),
    sa.Column("quarantined", sa.Boolean, nullable=False, default=False),
    sa.Column("error", sa.Text),
    sa.Column("reason", sa.String),
    sa.Column("guideline_version", sa.String),
    sa.Column("recommendation", sa.String),
    sa.Column("request_month", sa.String),
    sa.Column("indications", sa.Text),
    sa.Column("written", sa.Boolean, nullable=False, default=False),
    sa.Column("out_end", sa.BigInteger),
    sa.Column("stored", sa.Boolean, nullable=False, default=False),
    sa.Column("finished_at", sa.Float),
    # Last, so scans of the small columns above never walk a large line's overflow pages.
    sa.Column("line", sa.Text),
)
files_table = sa.Table(
    "files",
    metadata,
    sa.Column("path", sa.String, primary_key=True),
    sa.Column("size", sa.BigInteger, nullable=False),
    sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String, nullable=False),
)
# The document-text cache (ingest/cache.py): each PDF's reading, so a re-score reads no PDF and runs no OCR.
cache_table = define_table(metadata)
sa.Index("ix_cases_status", cases_table.c.status)
sa.Index("ix_cases_out_end", cases_table.c.out_end)
sa.Index("ix_cases_written", cases_table.c.written, cases_table.c.status)


def state_engine(state: str) -> sa.Engine:
    """A SQLAlchemy URL, or a path for a SQLite file (WAL, so the progress display can read while we write)."""
    url = state if "://" in state else f"sqlite:///{Path(state).resolve()}"
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":
        path = engine.url.database or ""

        @sa.event.listens_for(engine, "connect")
        def _pragmas(conn, _record) -> None:
            if path and path != ":memory:":  # SQLite gives its side files the database file's mode
                tighten(path, f"{path}-wal", f"{path}-shm", f"{path}-journal")
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives any process kill; after a power loss the last commits may be
            # lost, and Output.reconcile then drops lines the state does not know, so nothing is twice.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    metadata.create_all(engine)
    return engine


# pg_try_advisory_lock key of "one backfill per state database" (any fixed 64-bit number of our own).
_ADVISORY_KEY = 0x6578_7472_6266_6C31


class StateLock:
    """One backfill at a time per state database: a PostgreSQL advisory lock held on its own connection, or
    an exclusive flock beside a SQLite file. Two runs on one state would claim and write the same cases."""

    def __init__(self, engine: sa.Engine, state: str):
        self.engine, self.state = engine, state
        self._conn: sa.Connection | None = None
        self._fh = None

    def acquire(self) -> None:
        busy = BackfillError(f"{_shown(self.state)}: the state database is in use by another backfill")
        if self.engine.dialect.name == "postgresql":
            self._conn = self.engine.connect()
            got = self._conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": _ADVISORY_KEY}).scalar()
            self._conn.commit()
            if not got:
                self._conn.close()
                self._conn = None
                raise busy
        elif self.engine.dialect.name == "sqlite" and self.engine.url.database not in (None, "", ":memory:"):
            self._fh = open_private(f"{self.engine.url.database}.lock", "ab")
            try:
                fcntl.flock(self._fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self.release()
                raise busy from None

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_KEY})
                self._conn.commit()
            except Exception:
                with contextlib.suppress(Exception):
                    self._conn.invalidate()  # the session ends, and its advisory lock with it
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None
        if self._fh is not None:
            self._fh.close()
            self._fh = None


def _shown(state: str) -> str:
    return sa.engine.make_url(state).render_as_string(hide_password=True) if "://" in state else state


def guideline_catalogue() -> str:
    return ",".join(f"{g.id}@{g.version}:{g.effective_from}..{g.effective_to or ''}" for g in knowledge.guidelines())


def guideline_key(request_date: date | None, catalogue: str) -> str:
    """The version a manifest date selects; otherwise the catalogue, since the documents decide."""
    if request_date is not None:
        g = knowledge.guideline_for(request_date)
        return f"{g.id}@{g.version} for {request_date.isoformat()}"
    return f"by documents [{catalogue}]"


class FileHashes:
    """sha256 of files, cached by path, size and mtime so a resume does not re-read unchanged files."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        with engine.connect() as conn:
            self.known = {r.path: (r.size, r.mtime_ns, r.sha256) for r in conn.execute(sa.select(files_table))}
        self.new: dict[str, tuple[int, int, str]] = {}

    def digest(self, path: Path) -> str:
        key = str(path.resolve())
        st = path.stat()
        hit = self.known.get(key)
        if hit and hit[0] == st.st_size and hit[1] == st.st_mtime_ns:
            return hit[2]
        h = hashlib.sha256()
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)  # no link, no FIFO wait
        with os.fdopen(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(errno.EINVAL, "not a regular file")
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        value = (st.st_size, st.st_mtime_ns, h.hexdigest())
        self.known[key] = self.new[key] = value
        return value[2]

    def save(self) -> None:
        if not self.new:
            return
        with self.engine.begin() as conn:
            conn.execute(files_table.delete().where(files_table.c.path.in_(list(self.new))))
            conn.execute(
                files_table.insert(),
                [{"path": p, "size": s, "mtime_ns": m, "sha256": d} for p, (s, m, d) in self.new.items()],
            )
        self.new.clear()


def content_hash(case: CaseInput, hashes: FileHashes) -> str:
    h = hashlib.sha256()
    for path in case.files:
        try:
            digest = hashes.digest(path)
        except OSError as exc:
            digest = f"unreadable:{exc.errno}"
        h.update(f"{path.name}\0{digest}\n".encode())
    if case.error:
        h.update(f"error\0{case.error}".encode())
    if case.urgency or case.received_at:  # a manifest that changes them re-runs the case
        h.update(f"clock\0{case.urgency}\0{case.received_at}".encode())
    return h.hexdigest()


def finish_values(result: dict) -> dict:
    values = {
        "status": result["status"],
        "error": result.get("error"),
        "reason": result.get("reason"),
        "claim_owner": None,
        "claim_expires": None,
        "written": False,
        "finished_at": time.time(),
    }
    if result["status"] == OK:
        values.update(
            guideline_version=result["guideline_version"],
            recommendation=result["recommendation"],
            request_month=result["request_date"][:7],
            indications=json.dumps(result["indications"], sort_keys=True),
        )
    return values


def quarantine_values(attempts: int, why: str) -> tuple[dict, dict]:
    result = {
        "status": ERROR,
        "error": f"quarantined after {attempts} attempt{'s' if attempts != 1 else ''}: {why}",
        "reason": "quarantined (worker died)",
    }
    return {**finish_values(result), "quarantined": True}, result


# --- the statements the job and the dispatch run -----------------------------------------------------

_c = cases_table.c


def known_cases(engine: sa.Engine) -> dict[str, sa.Row]:
    """Every case the state knows, with its key (hash, pipeline, guideline), seq, status and written flag."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(_c.case_id, _c.seq, _c.content_hash, _c.pipeline_version, _c.guideline_key, _c.status, _c.written)
        )
        return {r.case_id: r for r in rows}


def new_case(case_id: str, seq: int, key: tuple[str, str, str]) -> dict[str, Any]:
    """The row of a case the state has not seen: pending, never attempted."""
    return {
        "case_id": case_id,
        "seq": seq,
        "content_hash": key[0],
        "pipeline_version": key[1],
        "guideline_key": key[2],
        "status": PENDING,
        "attempts": 0,
        "quarantined": False,
        "written": False,
        "stored": False,
    }


def insert_cases(conn: sa.Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        conn.execute(cases_table.insert(), rows)


def reset_cases(conn: sa.Connection, keys: dict[str, tuple[str, str, str]]) -> None:
    """Cases whose input, pipeline or guideline changed (or a failure to retry): pending again, all else forgotten."""
    if not keys:
        return
    conn.execute(
        sa.update(cases_table)
        .where(_c.case_id == sa.bindparam("cid"))
        .values(
            content_hash=sa.bindparam("h"),
            pipeline_version=sa.bindparam("p"),
            guideline_key=sa.bindparam("g"),
            status=PENDING,
            attempts=0,
            quarantined=False,
            error=None,
            reason=None,
            line=None,
            written=False,
            out_end=None,
            stored=False,
            claim_owner=None,
            claim_expires=None,
            recommendation=None,
            indications=None,
            guideline_version=None,
            request_month=None,
        ),
        [{"cid": cid, "h": h, "p": p, "g": g} for cid, (h, p, g) in keys.items()],
    )


def release_claims(conn: sa.Connection) -> None:
    """Drop every claim: at the start of a run, any claim is left by a run that was killed."""
    conn.execute(sa.update(cases_table).where(_c.claim_owner.is_not(None)).values(claim_owner=None, claim_expires=None))


def statuses(engine: sa.Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(_c.case_id, _c.status)).tuples().all())


def attempts_of(conn: sa.Connection, case_id: str) -> int:
    return conn.execute(sa.select(_c.attempts).where(_c.case_id == case_id)).scalar_one()


def claim_case(conn: sa.Connection, case_id: str, owner: str, expires: float) -> None:
    conn.execute(sa.update(cases_table).where(_c.case_id == case_id).values(claim_owner=owner, claim_expires=expires))


def finish_case(conn: sa.Connection, case_id: str, line: str, values: dict[str, Any]) -> None:
    """Store a case's result line and outcome; the caller's transaction makes it one step with the others."""
    conn.execute(sa.update(cases_table).where(_c.case_id == case_id).values(line=line, **values))


def count_failure(engine: sa.Engine, case_id: str) -> int:
    """One more worker death or hang against a case that ran alone; returns its attempts so far."""
    with engine.begin() as conn:
        conn.execute(sa.update(cases_table).where(_c.case_id == case_id).values(attempts=_c.attempts + 1))
        return attempts_of(conn, case_id)


def last_written(conn: sa.Connection) -> tuple[int, str | None]:
    """The end offset of the output as the state knows it, and the case whose line ends there."""
    found = conn.execute(
        sa.select(_c.out_end, _c.case_id).where(_c.written).order_by(_c.out_end.desc()).limit(1)
    ).first()
    return (found[0], found[1]) if found else (0, None)


def adopt_line(conn: sa.Connection, case_id: str, out_end: int) -> bool:
    """Mark a line found in the output as written, if the state has it finished and unwritten."""
    changed = conn.execute(
        sa.update(cases_table)
        .where(_c.case_id == case_id, _c.status != PENDING, sa.not_(_c.written))
        .values(written=True, out_end=out_end)
    )
    return bool(changed.rowcount)


def finished_lines(conn: sa.Connection, *, unwritten: bool = False) -> Iterator[tuple[str, str]]:
    """(case_id, line) of every finished case (or of those not yet in the output), in input order, streamed:
    a rewrite of a large output never holds all its lines at once."""
    query = sa.select(_c.case_id, _c.line).where(_c.status != PENDING)
    if unwritten:
        query = query.where(sa.not_(_c.written))
    return iter(conn.execute(query.order_by(_c.seq)).tuples())


def clear_written(conn: sa.Connection) -> None:
    conn.execute(sa.update(cases_table).values(written=False, out_end=None))


def mark_written(conn: sa.Connection, ends: list[tuple[str, int]]) -> None:
    """Cases whose lines are in the output (fsynced), each with the offset its line ends at."""
    if ends:
        conn.execute(
            sa.update(cases_table)
            .where(_c.case_id == sa.bindparam("cid"))
            .values(written=True, out_end=sa.bindparam("end")),
            [{"cid": cid, "end": end} for cid, end in ends],
        )


def unstored_reviews(engine: sa.Engine) -> list[tuple[str, str]]:
    """(case_id, line) of the reviews not yet in the web app's database, in input order."""
    with engine.connect() as conn:
        query = sa.select(_c.case_id, _c.line).where(_c.status == OK, sa.not_(_c.stored)).order_by(_c.seq)
        return [(cid, line) for cid, line in conn.execute(query)]


def mark_stored(engine: sa.Engine, case_ids: list[str]) -> None:
    with engine.begin() as conn:
        conn.execute(sa.update(cases_table).where(_c.case_id.in_(case_ids)).values(stored=True))


def summary_rows(engine: sa.Engine) -> list[sa.Row]:
    """The small summary columns of every case (no result lines)."""
    with engine.connect() as conn:
        return conn.execute(
            sa.select(
                _c.case_id,
                _c.status,
                _c.quarantined,
                _c.reason,
                _c.recommendation,
                _c.indications,
                _c.guideline_version,
                _c.request_month,
            )
        ).all()
