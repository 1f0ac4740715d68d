"""Batch backfill: many historical cases through the one per-case function, resumable and scaled out on Dask.

The state database (SQLAlchemy; SQLite beside the output by default) holds one row per case, keyed by the
case's content hash, the pipeline version and the guideline key. A case is marked finished in the same
transaction that stores its result line; the JSON Lines output is only ever written from that state
(appended and fsynced, then marked written with its end offset), so a kill at any moment leaves at most
a torn tail that the next run cuts off, and a rerun writes exactly the lines still missing.
"""

from __future__ import annotations

import contextlib
import csv
import fcntl
import hashlib
import json
import os
import socket
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa

from . import PIPELINE_VERSION, knowledge
from .config import Settings, get_settings
from .errors import ExtractorError, NoReadableDocuments

PENDING, OK, ERROR = "pending", "ok", "error"


class BackfillError(ExtractorError):
    """The backfill cannot start (bad input, output locked, scheduler unreachable)."""


# --- cases -----------------------------------------------------------------------------------------


@dataclass
class CaseInput:
    """One case of the input: its documents, the request date if the manifest gives one, or why it cannot run."""

    case_id: str
    files: list[Path] = field(default_factory=list)
    request_date: date | None = None
    error: str | None = None
    reason: str | None = None


def discover(source: Path) -> list[CaseInput]:
    """Cases of a folder (each file and each sub-folder is one case) or of a manifest CSV."""
    if source.is_dir():
        return _from_folder(source)
    if source.is_file() and source.suffix.lower() == ".csv":
        return _from_manifest(source)
    if not source.exists():
        raise BackfillError(f"{source}: no such file or folder")
    raise BackfillError(f"{source}: INPUT must be a folder of cases or a manifest .csv")


def _case_files(folder: Path) -> list[Path]:
    """Regular, non-hidden files under a case folder; FIFOs and devices are never opened (they could hang)."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            path = Path(root) / name
            if not name.startswith(".") and path.is_file():
                found.append(path)
    return found


def _from_folder(folder: Path) -> list[CaseInput]:
    cases = []
    with os.scandir(folder) as entries:
        for entry in sorted(entries, key=lambda e: e.name):
            if entry.name.startswith("."):
                continue
            path = Path(entry.path)
            if entry.is_dir():
                files = _case_files(path)
                if files:
                    cases.append(CaseInput(entry.name, files))
                else:
                    cases.append(CaseInput(entry.name, error="case folder has no files", reason="empty case folder"))
            elif entry.is_file():
                cases.append(CaseInput(entry.name, [path]))
            else:
                cases.append(CaseInput(entry.name, error="not a regular file", reason="not a regular file"))
    return cases


def _from_manifest(manifest: Path) -> list[CaseInput]:
    """Rows `case_id,path[,request_date]`; several rows of one case_id are the documents of one case.

    A bad row never stops the rest: it becomes an error line for its case (or for `manifest-line-N`).
    """
    try:
        with manifest.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise BackfillError(f"{manifest}: not a UTF-8 CSV manifest ({type(exc).__name__})") from None
    except OSError as exc:
        raise BackfillError(f"{manifest}: cannot read ({exc.strerror})") from None
    if not rows:
        raise BackfillError(f"{manifest}: empty manifest (expected the header case_id,path[,request_date])")
    header = [h.strip().lower() for h in rows[0]]
    if "case_id" not in header or "path" not in header:
        raise BackfillError(f"{manifest}: first line must be the header case_id,path[,request_date]")
    col = {name: header.index(name) for name in ("case_id", "path", "request_date") if name in header}
    cases: dict[str, CaseInput] = {}
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(name: str, row: list[str] = row) -> str:
            i = col.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        case_id = cell("case_id") or f"manifest-line-{number}"
        case = cases.setdefault(case_id, CaseInput(case_id))
        problem = None
        if not cell("case_id"):
            problem = "empty case_id"
        elif not cell("path"):
            problem = "empty path"
        else:
            raw_date = cell("request_date")
            if raw_date:
                try:
                    given = date.fromisoformat(raw_date)
                except ValueError:
                    problem = "request_date is not a date (YYYY-MM-DD)"
                else:
                    if case.request_date and case.request_date != given:
                        problem = "request_date differs from an earlier row of this case"
                    case.request_date = given
            path = Path(cell("path"))
            path = path if path.is_absolute() else manifest.parent / path
            if problem is None:
                if path.is_dir():
                    case.files += _case_files(path)
                elif path.is_file():
                    case.files.append(path)
                elif path.exists():
                    problem = f"{path.name}: not a regular file"
                else:
                    problem = f"{path.name}: no such file or folder"
        if problem:
            message = f"manifest line {number}: {problem}"
            case.error = f"{case.error}; {message}" if case.error else message
            case.reason = "bad manifest row"
    for case in cases.values():
        if not case.error and not case.files:
            case.error, case.reason = "case has no files", "empty case folder"
    return list(cases.values())


# --- the per-case task (runs on a worker) -----------------------------------------------------------


@lru_cache(maxsize=1)
def _worker_settings() -> Settings:
    return get_settings()


_cases_in_process = [0]


def process_case(case_id: str, files: Sequence[str], request_date: str | None, replaceable: bool = False) -> dict:
    """Run `extractor.case.prefill` on one case; a bad case becomes an error result, never an exception.

    Every `backfill_reload_every` cases a worker process bounds its memory: a replaceable one (a worker of
    our own local cluster) asks the coordinator to replace it; any other rebuilds its pipeline."""
    settings = _worker_settings()
    result = _run_case(files, request_date, settings)
    _cases_in_process[0] += 1
    every = settings.backfill_reload_every
    if every and _cases_in_process[0] % every == 0:
        address = None
        if replaceable:
            with contextlib.suppress(ImportError, ValueError):
                from distributed import get_worker

                address = get_worker().address
        if address:
            result["replace_worker"] = address
        else:
            _rebuild_pipeline()
    return result


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def process_cases(items: Sequence[tuple[str, Sequence[str], str | None]], replaceable: bool = False) -> list[dict]:
    """Several cases in one Dask task: the scheduler's cost per task is paid once for all of them."""
    return [process_case(case_id, files, request_date, replaceable) for case_id, files, request_date in items]


def _rebuild_pipeline() -> None:
    import gc

    from . import nlp

    nlp.load.cache_clear()
    gc.collect()


def _run_case(files: Sequence[str], request_date: str | None, settings: Settings) -> dict:
    from . import case

    paths = [Path(f) for f in files]
    crash = settings.test_crash_file
    if crash and any(p.name == crash for p in paths):
        os._exit(70)
    try:
        review = case.prefill(paths, date.fromisoformat(request_date) if request_date else None)
    except NoReadableDocuments as exc:
        reasons = "; ".join(sorted({reason for _, reason in exc.errors}))
        return {"status": ERROR, "error": f"no document could be read: {exc}", "reason": f"unreadable: {reasons}"}
    except ExtractorError as exc:
        return {"status": ERROR, "error": str(exc), "reason": type(exc).__name__}
    except Exception as exc:  # one bad case never sinks the batch; the type names the failure, no note text
        return {"status": ERROR, "error": f"internal error ({type(exc).__name__})", "reason": "internal error"}
    return {
        "status": OK,
        "review": review.model_dump_json(),
        "recommendation": review.recommendation,
        "guideline_version": review.guideline.version,
        "request_date": review.request.request_date,
        "indications": {i.id: i.status for i in review.indications},
    }


def warm_up() -> int:
    """Load the pipeline and the knowledge once in a worker process, before its first case."""
    from . import nlp

    nlp.load()
    knowledge.guidelines()
    return os.getpid()


def worker_rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


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
sa.Index("ix_cases_status", cases_table.c.status)
sa.Index("ix_cases_out_end", cases_table.c.out_end)
sa.Index("ix_cases_written", cases_table.c.written, cases_table.c.status)


def state_engine(state: str) -> sa.Engine:
    """A SQLAlchemy URL, or a path for a SQLite file (WAL, so the progress display can read while we write)."""
    url = state if "://" in state else f"sqlite:///{Path(state).resolve()}"
    engine = sa.create_engine(url)
    if engine.dialect.name == "sqlite":

        @sa.event.listens_for(engine, "connect")
        def _pragmas(conn, _record) -> None:
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives any process kill; after a power loss the last commits may be
            # lost, and Output.reconcile then drops lines the state does not know, so nothing is twice.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    metadata.create_all(engine)
    return engine


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
        with path.open("rb") as fh:
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
    return h.hexdigest()


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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fh = open(f"{self.path}.lock", "a")
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
        c = cases_table.c
        with self.engine.connect() as conn:
            end, last = conn.execute(
                sa.select(c.out_end, c.case_id).where(c.written).order_by(c.out_end.desc()).limit(1)
            ).first() or (0, None)
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
                done = conn.execute(
                    sa.update(cases_table)
                    .where(c.case_id == case_id, c.status != PENDING, sa.not_(c.written))
                    .values(written=True, out_end=out_end)
                ).rowcount
                if not done:
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
        c = cases_table.c
        if self._fh is not None:  # appends after the rename must go to the new file
            self._fh.close()
            self._fh = None
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        offsets: list[dict] = []
        with self.engine.connect() as conn, tmp.open("wb") as fh:
            rows = conn.execute(sa.select(c.case_id, c.line).where(c.status != PENDING).order_by(c.seq))
            for case_id, line in rows:
                fh.write(line.encode() + b"\n")
                offsets.append({"cid": case_id, "end": fh.tell()})
            fh.flush()
            os.fsync(fh.fileno())
        with self.engine.begin() as conn:
            conn.execute(sa.update(cases_table).values(written=False, out_end=None))
            if offsets:
                conn.execute(
                    sa.update(cases_table)
                    .where(c.case_id == sa.bindparam("cid"))
                    .values(written=True, out_end=sa.bindparam("end")),
                    offsets,
                )
        os.replace(tmp, self.path)
        _fsync_dir(self.path.parent)

    def append_unwritten(self) -> int:
        """Append finished rows not yet in the file, fsync, then mark them written with their end offsets."""
        c = cases_table.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(c.case_id, c.line).where(c.status != PENDING, sa.not_(c.written)).order_by(c.seq)
            ).all()
        if not rows:
            return 0
        if self._fh is None:
            self._fh = self.path.open("ab")
        marks = []
        for case_id, line in rows:
            self._fh.write(line.encode() + b"\n")
            marks.append({"cid": case_id, "end": self._fh.tell()})
        self._fh.flush()
        os.fsync(self._fh.fileno())
        with self.engine.begin() as conn:
            conn.execute(
                sa.update(cases_table)
                .where(c.case_id == sa.bindparam("cid"))
                .values(written=True, out_end=sa.bindparam("end")),
                marks,
            )
        return len(rows)


# --- the app database (--db) ------------------------------------------------------------------------


def _store_module():
    try:
        from . import store  # type: ignore[attr-defined]
    except ImportError:
        raise BackfillError(
            "--db is not available yet: this build has no extractor.store (the web app's database)"
        ) from None
    if not hasattr(store, "import_reviews"):
        raise BackfillError("--db is not available yet: extractor.store has no import_reviews(db_url, items)")
    return store


def _store_reviews(db_url: str, results: list[tuple[str, str, list[Path]]]) -> None:
    """Store (case_id, review JSON, files) in the web app's database, idempotently by case_id."""
    _store_module().import_reviews(db_url, results)


# --- the job ---------------------------------------------------------------------------------------


@dataclass
class Progress:
    """What a progress display is told; the CLI renders it with Rich."""

    total: int
    done: int
    failed: int
    replaced: int = 0


@dataclass
class JobResult:
    total: int
    processed: int
    output: Path
    state: str
    case_ids: list[str]


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Cluster:
    """Local worker processes (a Dask LocalCluster) or an existing Dask scheduler."""

    def __init__(self, workers: int, scheduler: str | None):
        import logging

        import dask
        from distributed import Client, LocalCluster

        # Worker deaths are expected here (hostile files) and reported per case; keep Dask's logs off the terminal.
        logging.getLogger("distributed").setLevel(logging.CRITICAL)
        self.cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=get_settings().backfill_connect_seconds)
            except (OSError, TimeoutError) as exc:
                raise BackfillError(f"cannot reach the Dask scheduler at {scheduler} ({type(exc).__name__})") from None
            try:
                self.client.wait_for_workers(1, timeout=60)
            except TimeoutError:
                self.client.close()
                raise BackfillError(f"the Dask scheduler at {scheduler} has no workers") from None
        else:
            # One task per single-threaded worker, and no silent re-run of a task whose worker died:
            # the state counts attempts and quarantines a case that keeps killing workers.
            with (
                dask.config.set(
                    {"distributed.scheduler.allowed-failures": 0, "distributed.scheduler.worker-saturation": 1.0}
                ),
                warnings.catch_warnings(),
            ):
                # The scheduler's health endpoint falls back to a free port when 8787 is taken: not news.
                warnings.filterwarnings("ignore", message="Port .* is already in use")
                self.cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                )
            self.client = Client(self.cluster)
        try:
            self.client.run(warm_up)
        except Exception as exc:
            self.close()
            raise BackfillError(f"workers cannot load the pipeline ({type(exc).__name__}: {exc})") from None

    def slots(self) -> int:
        return max(1, sum(self.client.nthreads().values()))

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()


def _finish_values(result: dict) -> dict:
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


def run_backfill(
    source: Path,
    out: Path,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    state: str | None = None,
    db_url: str | None = None,
    retry_failed: bool = False,
    on_start: Callable[[Progress], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> JobResult:
    """Run (or resume) a backfill; returns once every case of the input has exactly one line in `out`."""
    settings = get_settings()
    out = Path(out)
    state = state or str(out.with_name(out.name + ".state.sqlite"))
    if db_url:
        _store_module()
    if out.is_dir():
        raise BackfillError(f"{out}: --out is a folder, not a file")
    cases = discover(Path(source))
    if Path(source).is_dir() and Path(source).resolve() == out.parent.resolve():
        # The output, its state, lock and report beside it are not cases.
        ours = (out.name, out.name.removesuffix(".jsonl") + ".report.html")
        cases = [c for c in cases if not c.case_id.startswith(ours)]
    engine = state_engine(state)
    output = Output(out, engine)
    output.lock()
    try:
        by_id = _sync_state(engine, cases, retry_failed, output)
        output.reconcile()
        output.append_unwritten()
        c = cases_table.c
        with engine.connect() as conn:
            status = dict(conn.execute(sa.select(c.case_id, c.status)).tuples().all())
        pending = [case for cid, case in by_id.items() if status.get(cid) == PENDING]
        done = len(by_id) - len(pending)
        failed = sum(1 for cid in by_id if status.get(cid) == ERROR)
        processed = 0
        if pending:
            cluster = Cluster(workers, scheduler)
            try:
                if on_start:
                    on_start(Progress(len(by_id), done, failed))
                processed = _dispatch(
                    cluster, pending, engine, output, settings, db_url, on_progress, Progress(len(by_id), done, failed)
                )
            finally:
                cluster.close()
        elif on_start:
            on_start(Progress(len(by_id), done, failed))
        if db_url:
            _store_pending(engine, db_url, {cid: c.files for cid, c in by_id.items()})
        return JobResult(len(by_id), processed, out, state, list(by_id))
    finally:
        output.close()
        engine.dispose()


def _sync_state(engine: sa.Engine, cases: list[CaseInput], retry_failed: bool, output: Output) -> dict[str, CaseInput]:
    """Bring the state up to the input: new cases in, changed ones reset, claims of a killed run released."""
    c = cases_table.c
    hashes = FileHashes(engine)
    catalogue = guideline_catalogue()
    with engine.connect() as conn:
        known = {
            r.case_id: r
            for r in conn.execute(
                sa.select(c.case_id, c.seq, c.content_hash, c.pipeline_version, c.guideline_key, c.status, c.written)
            )
        }
    next_seq = max((r.seq for r in known.values()), default=-1) + 1
    inserts, resets, immediate = [], [], []
    by_id: dict[str, CaseInput] = {}
    rewrite = False
    for case in cases:
        by_id[case.case_id] = case
        key = (content_hash(case, hashes), PIPELINE_VERSION, guideline_key(case.request_date, catalogue))
        row = known.get(case.case_id)
        if row is None:
            inserts.append(
                {
                    "case_id": case.case_id,
                    "seq": next_seq,
                    "content_hash": key[0],
                    "pipeline_version": key[1],
                    "guideline_key": key[2],
                    "status": PENDING,
                    "attempts": 0,
                    "quarantined": False,
                    "written": False,
                    "stored": False,
                }
            )
            next_seq += 1
        elif (row.content_hash, row.pipeline_version, row.guideline_key) != key or (
            retry_failed and row.status == ERROR
        ):
            resets.append({"cid": case.case_id, "h": key[0], "p": key[1], "g": key[2]})
            rewrite = rewrite or bool(row.written)
        else:
            continue
        if case.error:
            immediate.append(case)
    hashes.save()
    with engine.begin() as conn:
        if inserts:
            conn.execute(cases_table.insert(), inserts)
        if resets:
            conn.execute(
                sa.update(cases_table)
                .where(c.case_id == sa.bindparam("cid"))
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
                resets,
            )
        # A claim left by an earlier run: that run was killed with the case in flight. The backfill process
        # runs no case itself, so this is no failure of the case; only worker deaths and hangs count.
        conn.execute(
            sa.update(cases_table).where(c.claim_owner.is_not(None)).values(claim_owner=None, claim_expires=None)
        )
        for case in immediate:
            result = {"status": ERROR, "error": case.error, "reason": case.reason}
            conn.execute(
                sa.update(cases_table)
                .where(c.case_id == case.case_id)
                .values(line=result_line(case.case_id, result), **_finish_values(result))
            )
    if rewrite:
        output.rewrite()
    return by_id


def _quarantine_values(attempts: int, why: str) -> tuple[dict, dict]:
    result = {
        "status": ERROR,
        "error": f"quarantined after {attempts} attempt{'s' if attempts != 1 else ''}: {why}",
        "reason": "quarantined (worker died)",
    }
    return {**_finish_values(result), "quarantined": True}, result


COLLECT_SECONDS = 0.05


def _dispatch(
    cluster: Cluster,
    pending: list[CaseInput],
    engine: sa.Engine,
    output: Output,
    settings: Settings,
    db_url: str | None,
    on_progress: Callable[[Progress], None] | None,
    progress: Progress,
) -> int:
    from distributed import wait
    from distributed.client import FutureCancelledError

    c = cases_table.c
    owner = _owner()
    queue: Iterator[CaseInput] = iter(pending)
    inflight: dict = {}
    # A worker's death fails every task it holds, not only the one that killed it. Such cases become
    # suspects and run again alone, so a death is only counted against the case that was running by itself.
    suspects: list[CaseInput] = []
    solo: list[CaseInput] = []
    # Futures on a worker we replace on purpose: if they fail, the case simply runs again.
    replacing: set = set()
    requeue: list[CaseInput] = []
    processed = 0
    # Enough queued work (in cases) that the workers never wait on the coordinator's commits and fsyncs.
    per_task = max(1, settings.backfill_cases_per_task)
    window = (4 * cluster.slots() + 4) * per_task
    submitted = [0]
    exhausted = False

    def claim_more() -> None:
        nonlocal exhausted
        batch: list[CaseInput] = []
        if solo or (suspects and inflight):
            return
        if suspects:
            batch.append(suspects.pop(0))
            solo.append(batch[0])
        queued = sum(len(cases) for cases, _ in inflight.values())
        while not solo and queued + len(batch) < window:
            case = requeue.pop() if requeue else next(queue, None)
            if case is None:
                exhausted = True
                break
            batch.append(case)
        if not batch:
            return
        now = time.time()
        submit = []
        with engine.begin() as conn:
            for case in batch:
                attempts = conn.execute(sa.select(c.attempts).where(c.case_id == case.case_id)).scalar_one()
                if attempts >= settings.backfill_max_attempts:
                    values, result = _quarantine_values(attempts, "its worker died or hung each time")
                    conn.execute(
                        sa.update(cases_table)
                        .where(c.case_id == case.case_id)
                        .values(line=result_line(case.case_id, result), **values)
                    )
                    progress.done += 1
                    progress.failed += 1
                    solo.clear()
                    continue
                conn.execute(
                    sa.update(cases_table)
                    .where(c.case_id == case.case_id)
                    .values(claim_owner=owner, claim_expires=now + settings.backfill_claim_seconds)
                )
                submit.append(case)
        size = 1 if solo else per_task
        for i in range(0, len(submit), size):
            chunk = submit[i : i + size]
            submitted[0] += 1
            fut = cluster.client.submit(
                process_cases,
                [(case.case_id, [str(p) for p in case.files], _iso(case.request_date)) for case in chunk],
                cluster.cluster is not None,
                key=f"cases-{owner[-8:]}-{submitted[0]}",
                pure=False,
            )
            inflight[fut] = (chunk, time.time() + settings.backfill_claim_seconds * len(chunk))

    def count_failure(case: CaseInput) -> int:
        with engine.begin() as conn:
            conn.execute(sa.update(cases_table).where(c.case_id == case.case_id).values(attempts=c.attempts + 1))
            return conn.execute(sa.select(c.attempts).where(c.case_id == case.case_id)).scalar_one()

    try:
        claim_more()
        output.append_unwritten()
        while inflight or not exhausted or suspects or requeue:
            if not inflight:
                claim_more()
                output.append_unwritten()
                if not inflight:
                    break
            try:
                wait(list(inflight), timeout=1.0, return_when="FIRST_COMPLETED")
            except TimeoutError:
                pass
            # Let a few more cases finish: one transaction, one append and one fsync then serve them all,
            # and the coordinator leaves the cores to the workers (the window keeps them busy meanwhile).
            time.sleep(COLLECT_SECONDS)
            done = {fut for fut in inflight if fut.done()}
            finished: list[tuple[CaseInput, dict, dict]] = []
            replace: set = set()
            now = time.time()
            for fut in list(inflight):
                cases, deadline = inflight[fut]
                alone = len(cases) == 1 and cases[0] in solo
                if fut in done:
                    del inflight[fut]
                    solo.clear()
                    if fut.status == "finished":
                        for case, result in zip(cases, fut.result(), strict=True):
                            address = result.pop("replace_worker", None)
                            if address:
                                replace.add(address)
                            finished.append((case, result, _finish_values(result)))
                        continue
                    if fut in replacing:
                        replacing.discard(fut)
                        requeue.extend(cases)
                        continue
                    exc = None
                    with contextlib.suppress(FutureCancelledError):
                        exc = fut.exception()
                    if type(exc).__name__ == "KilledWorker" or exc is None:
                        why = "the worker process died on this case each time"
                    else:
                        result = {
                            "status": ERROR,
                            "error": f"internal error ({type(exc).__name__})",
                            "reason": "internal error",
                        }
                        finished += [(case, dict(result), _finish_values(result)) for case in cases]
                        continue
                elif now > deadline:
                    del inflight[fut]
                    solo.clear()
                    fut.cancel()
                    _restart_worker_of(cluster, fut.key)
                    why = f"it did not finish within {settings.backfill_claim_seconds:.0f} s each time"
                else:
                    continue
                if not alone:
                    suspects.extend(cases)
                    continue
                case = cases[0]
                attempts = count_failure(case)
                if attempts >= settings.backfill_max_attempts:
                    values, result = _quarantine_values(attempts, why)
                    finished.append((case, result, values))
                else:
                    suspects.insert(0, case)
            if finished:
                with engine.begin() as conn:
                    for case, result, values in finished:
                        conn.execute(
                            sa.update(cases_table)
                            .where(c.case_id == case.case_id)
                            .values(line=result_line(case.case_id, result), **values)
                        )
                progress.done += len(finished)
                progress.failed += sum(1 for _, r, _ in finished if r["status"] == ERROR)
                processed += len(finished)
            if replace:
                progress.replaced += _replace_workers(cluster, replace, inflight, replacing)
            claim_more()
            if finished:
                output.append_unwritten()
                if db_url:
                    _store_pending(engine, db_url, {c.case_id: c.files for c in pending})
                if on_progress:
                    on_progress(progress)
        output.append_unwritten()
        return processed
    finally:
        for fut in inflight:
            fut.cancel()


def _replace_workers(cluster: Cluster, addresses: set[str], inflight: dict, replacing: set) -> int:
    """Restart the local workers that asked for it (their memory grows with every case)."""
    try:
        processing = cluster.client.processing(list(addresses))
        keys = {k for a in addresses for k in processing.get(a, ())}
        replacing.update(f for f in inflight if f.key in keys)
        cluster.client.restart_workers(list(addresses), timeout=120)
    except Exception:  # a worker that cannot be replaced now keeps working; it asks again later
        return 0
    return len(addresses)


def _restart_worker_of(cluster: Cluster, key: str) -> None:
    """Free a worker stuck on a case (a hang is treated like a crash)."""
    with contextlib.suppress(Exception):
        for address, keys in cluster.client.processing().items():
            if key in keys:
                cluster.client.restart_workers([address])


def _store_pending(engine: sa.Engine, db_url: str, files: dict[str, list[Path]]) -> None:
    """Reviews done and not yet in the app's database go there, with their documents (`files` by case id)."""
    c = cases_table.c
    with engine.connect() as conn:
        rows = conn.execute(sa.select(c.case_id, c.line).where(c.status == OK, sa.not_(c.stored)).order_by(c.seq)).all()
    rows = [(cid, line) for cid, line in rows if cid in files]
    if not rows:
        return
    _store_reviews(db_url, [(cid, json.dumps(json.loads(line)["review"]), files[cid]) for cid, line in rows])
    with engine.begin() as conn:
        conn.execute(sa.update(cases_table).where(c.case_id.in_([cid for cid, _ in rows])).values(stored=True))


# --- summary ---------------------------------------------------------------------------------------


@dataclass
class Summary:
    total: int = 0
    ok: int = 0
    failed: int = 0
    quarantined: int = 0
    recommendations: dict[str, int] = field(default_factory=dict)
    indications: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    guideline_versions: dict[str, int] = field(default_factory=dict)
    by_month: dict[str, dict[str, int]] = field(default_factory=dict)


def summarize(state: str, case_ids: Sequence[str]) -> Summary:
    """Counts over the finished rows of these cases, from the small summary columns (no review parsing)."""
    wanted = set(case_ids)
    c = cases_table.c
    engine = state_engine(state)
    s = Summary()
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    c.case_id,
                    c.status,
                    c.quarantined,
                    c.reason,
                    c.recommendation,
                    c.indications,
                    c.guideline_version,
                    c.request_month,
                )
            ).all()
    finally:
        engine.dispose()
    for r in rows:
        if r.case_id not in wanted:
            continue
        s.total += 1
        if r.status == OK:
            s.ok += 1
            s.recommendations[r.recommendation] = s.recommendations.get(r.recommendation, 0) + 1
            s.guideline_versions[r.guideline_version] = s.guideline_versions.get(r.guideline_version, 0) + 1
            month = s.by_month.setdefault(r.request_month, {})
            month[r.recommendation] = month.get(r.recommendation, 0) + 1
            for ind, status in json.loads(r.indications).items():
                counts = s.indications.setdefault(ind, {})
                counts[status] = counts.get(status, 0) + 1
        elif r.status == ERROR:
            s.failed += 1
            s.quarantined += bool(r.quarantined)
            s.failures[r.reason or "error"] = s.failures.get(r.reason or "error", 0) + 1
    s.by_month = dict(sorted(s.by_month.items()))
    return s
