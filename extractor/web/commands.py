"""What `extractor serve` and `extractor users add` do (their arguments live in extractor.cli with every command)."""

from __future__ import annotations

import argparse
import gc
import getpass
import hashlib
import logging
import secrets
import sys
from pathlib import Path
from types import FrameType

import uvicorn
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from extractor import store
from extractor.config import Settings
from extractor.private import private_dir, restrict_umask

from .app import create_app

DEMO_USERS = (("intake", "intake"), ("reviewer", "reviewer"), ("admin", "admin"))


def _settings(args: argparse.Namespace):
    settings = Settings()
    data_dir = args.data_dir or settings.data_dir

    return settings, Path(data_dir), store.resolve_url(args.db or settings.database_url, Path(data_dir))


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\r\n")


def cmd_users(args: argparse.Namespace) -> int:
    _, _, url = _settings(args)
    password = _read_password()
    _, factory = store.open_store(url)
    with factory() as session:
        store.add_user(session, args.name, args.role, password)
        store.audit(session, None, "user_added", detail=f"{args.name} ({args.role}) by command line", client="cli")
        session.commit()
    print(f"user {args.name} ({args.role}) added", file=sys.stderr)
    return 0


def load_demo(factory, data_dir: Path, samples: Path) -> int:
    """Queue each sample case folder once (its text notes as one case, a rendered fax as another); returns the count."""
    queued = 0
    with factory() as session:
        for folder in sorted(p for p in samples.iterdir() if p.is_dir()):
            files = sorted(f for f in folder.iterdir() if f.is_file() and f.suffix.lower() in (".txt", ".pdf"))
            fax = folder / "fax" / "packet.pdf"
            # Each case's notes as text, and where it was rendered as a fax, that fax as a case of its own.
            for case_files in (files, [fax] if fax.is_file() else []):
                if not case_files:
                    continue
                first = hashlib.sha256(case_files[0].read_bytes()).hexdigest()
                if session.scalar(select(store.StoredDocument.id).where(store.StoredDocument.sha256 == first).limit(1)):
                    continue
                store.create_case(session, None, [(f.name, f.read_bytes()) for f in case_files], data_dir)
                queued += 1
        session.commit()
    return queued


def demo_users(factory) -> list[tuple[str, str, str]]:
    """A user per role with a fresh random password each start (printed once, never stored in clear)."""
    out = []
    with factory() as session:
        for name, role in DEMO_USERS:
            password = secrets.token_urlsafe(9)
            user = session.scalar(select(store.User).where(store.User.name == name))
            if user is None:
                store.add_user(session, name, role, password)
            else:
                store.set_password(session, user, password)
            out.append((name, role, password))
        session.commit()
    return out


class _Server(uvicorn.Server):
    """uvicorn's server, whose SIGTERM/SIGINT first tells the worker pool to stop: no worker is replaced (or
    takes a case) while the server drains, whether the signal came to this process or its whole group."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        pool = getattr(self.config.app.state, "workers", None)
        if pool is not None:
            pool.begin_stop()
        super().handle_exit(sig, frame)


def tune_process() -> None:
    """Before serving, for the slowest requests under load (docs/benchmarks.md). Requests hop between the event
    loop and the thread pool; a thread waits up to the GIL switch interval at each hop (5 ms by default).
    And the ~140,000 objects the imports and the app made would be walked by every full garbage collection,
    which requests' short-lived objects set off every few seconds under 20 readers: 90-150 ms with every
    request stopped. Frozen, they are never walked (nor freed: they live as long as the process anyway)."""
    sys.setswitchinterval(0.0005)
    gc.collect()
    gc.freeze()


def cmd_serve(args: argparse.Namespace) -> int:
    restrict_umask()  # PHI at rest: the database, its side files, uploads and renders are the owner's only
    settings, data_dir, url = _settings(args)
    private_dir(data_dir)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.demo is not None:
        if not args.demo.is_dir():
            print(f"error: {args.demo}: not a directory", file=sys.stderr)
            return 2
        _, factory = store.open_store(url)
        queued = load_demo(factory, data_dir, args.demo)
        users = demo_users(factory)
        print(f"demo: {queued} sample cases queued; open http://{args.host}:{args.port}", file=sys.stderr)
        for name, role, password in users:
            print(f"demo user: {name:<9} role {role:<9} password {password}", file=sys.stderr)
    app = create_app(settings, db_url=url, data_dir=data_dir, workers=args.workers)
    tune_process()
    # A stop waits at most 2 s for requests in flight, then the workers get the rest of the 10 s.
    server(app, args.host, args.port).run()
    return 0


def server(app, host: str, port: int, log_level: str = "info") -> uvicorn.Server:
    """The uvicorn server `serve` runs. uvicorn's own proxy headers are off: it would believe X-Forwarded-For
    from any loopback client; the app believes it only from `Settings.trusted_proxies`."""
    config = uvicorn.Config(
        app, host=host, port=port, log_level=log_level, proxy_headers=False, timeout_graceful_shutdown=2
    )
    return _Server(config)


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "the database URL"


def main(args: argparse.Namespace) -> int:
    """Run `serve` or `users`; a database that cannot be used is one line, never a traceback."""

    try:
        return cmd_serve(args) if args.command == "serve" else cmd_users(args)
    except ArgumentError:
        print("error: --db: not a database URL (e.g. postgresql+psycopg://user@host/db)", file=sys.stderr)
        return 2
    except SQLAlchemyError as exc:
        url = _settings(args)[2]
        print(f"error: cannot use database {_safe_url(url)} ({type(exc).__name__})", file=sys.stderr)
        return 2
