"""Engine and migrations: SQLite (a file in the data dir, the default) or PostgreSQL (by URL).

The schema is owned by the Alembic migrations under store/migrations, applied by migrate() on start-up,
so an installed wheel can create or upgrade its own database."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from extractor.private import private_dir, tighten

# --- engine, migrations -------------------------------------------------------------------------


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir).resolve() / 'extractor.db'}"


def resolve_url(db: str | None, data_dir: Path) -> str:
    """--db, else EXTRACTOR_DATABASE_URL (passed in as db by callers), else SQLite in the data dir."""
    return db or default_url(data_dir)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        on_disk = bool(path) and path != ":memory:" and not path.startswith("file:")
        if on_disk:
            private_dir(Path(path).parent)
        # A request holds its connection from its token check (one worker thread) to its route (another), so a
        # bounded pool could leave every worker thread waiting for connections held by requests waiting for a
        # thread: SQLite connections are cheap, none is ever waited for (40 kept: anyio's worker threads).
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=40, max_overflow=-1
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # WAL: readers never wait for the worker's writes
            if on_disk:  # SQLite gives its -wal, -shm and -journal files the database file's mode
                tighten(path, f"{path}-wal", f"{path}-shm", f"{path}-journal")
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def migrations_dir() -> Path:
    return Path(__file__).resolve().parent / "migrations"


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the database to `revision` with the migrations inside the package (no alembic.ini needed)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(migrations_dir()))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def open_store(url: str) -> tuple[Engine, sessionmaker[Session]]:
    engine = make_engine(url)
    migrate(engine)
    return engine, sessionmaker(engine, expire_on_commit=False)
