"""Request dependencies: database session, who is asking (bearer token or session cookie), roles, CSRF."""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import HTTPException, Request
from sqlalchemy.orm import Session, sessionmaker

from extractor import store
from extractor.config import Settings
from extractor.errors import ServerBusy

SESSION_COOKIE = "extractor_session"
LOGIN_CSRF_COOKIE = "extractor_login_csrf"


class FragmentCache:
    """Rendered review fragments of case pages, keyed by case and review time: a new review misses."""

    def __init__(self, size: int = 128):
        self.size = size
        self._items: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key, value) -> None:
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


@dataclass
class AppState:
    settings: Settings
    url: str
    data_dir: Path
    factory: sessionmaker[Session]
    limiter: LoginLimiter | SharedLoginLimiter
    hashing: HashPool
    fragments: FragmentCache = field(default_factory=FragmentCache)
    bundles: FragmentCache = field(default_factory=FragmentCache)  # FHIR Bundles, keyed by what they depend on
    write_lock: threading.Lock = field(default_factory=threading.Lock)


def commit(request: Request, session: Session) -> None:
    """Commit with this process's writers taking turns: SQLite's own busy wait sleeps for milliseconds at a
    time, which under many concurrent readers (each view writes an audit row) made the slowest requests slow."""
    st = state(request)
    if st.url.startswith("sqlite"):
        with st.write_lock:
            session.commit()
    else:
        session.commit()


def _name_key(name: str) -> str:
    """A user name as the limiters count it: case folded, capped (a long made-up name costs no more)."""
    return name.lower()[:200]


class LoginLimiter:
    """Failed logins in a sliding window, counted per user name (from any client: guessing one account from many
    addresses) and per client address (whatever the names: spraying many accounts from one). In memory, per
    server process; at most `max_keys` names and as many addresses are remembered, the least recently failed
    forgotten first, so a flood of made-up names cannot grow the server."""

    def __init__(self, max_failures: int, window_seconds: float, per_client: int | None = None, max_keys: int = 10_000):
        self.max, self.window = max_failures, window_seconds
        self.per_client = per_client if per_client is not None else 4 * max_failures
        self.max_keys = max_keys
        self._names: OrderedDict[str, deque[float]] = OrderedDict()
        self._clients: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, table: OrderedDict[str, deque[float]], key: str) -> int:
        q = table.get(key)
        if q is None:
            return 0
        while q and q[0] < time.monotonic() - self.window:
            q.popleft()
        if not q:
            del table[key]
        return len(q)

    def _add(self, table: OrderedDict[str, deque[float]], key: str) -> None:
        q = table.pop(key, None) or deque()
        q.append(time.monotonic())
        table[key] = q  # most recent last
        while len(table) > self.max_keys:
            table.popitem(last=False)

    def blocked(self, client: str, name: str) -> bool:
        with self._lock:
            return (
                self._recent(self._names, _name_key(name)) >= self.max
                or self._recent(self._clients, client) >= self.per_client
            )

    def failed(self, client: str, name: str) -> None:
        with self._lock:
            self._add(self._names, _name_key(name))
            self._add(self._clients, client)

    def succeeded(self, client: str, name: str) -> None:
        """The right password clears its name's count; the client's stays (else logging in to one's own account
        between guesses would reset it)."""
        with self._lock:
            self._names.pop(_name_key(name), None)

    def tracked(self) -> int:
        """How many names and addresses are remembered (bounded by 2 * max_keys)."""
        with self._lock:
            return len(self._names) + len(self._clients)


class SharedLoginLimiter:
    """LoginLimiter's counts kept in the store's database, so every server instance on one database enforces
    the same limits (a guesser cannot spread tries across instances); bounded by the window and by
    2 * max_keys rows."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        max_failures: int,
        window_seconds: float,
        per_client: int | None = None,
        max_keys: int = 10_000,
    ):
        self.factory, self.max, self.window = factory, max_failures, window_seconds
        self.per_client = per_client if per_client is not None else 4 * max_failures
        self.max_rows = 2 * max_keys

    def blocked(self, client: str, name: str) -> bool:
        with self.factory() as session:
            return (
                store.recent_failures(session, "name", _name_key(name), self.window) >= self.max
                or store.recent_failures(session, "client", client[:200], self.window) >= self.per_client
            )

    def failed(self, client: str, name: str) -> None:
        with self.factory() as session:
            keys = {"name": _name_key(name), "client": client[:200]}
            store.add_failure(session, keys, self.window, self.max_rows)
            session.commit()

    def succeeded(self, client: str, name: str) -> None:
        with self.factory() as session:
            store.clear_failures(session, "name", _name_key(name))
            session.commit()

    def tracked(self) -> int:
        with self.factory() as session:
            return store.failure_rows(session)


def login_limiter(settings: Settings, url: str, factory: sessionmaker[Session]) -> LoginLimiter | SharedLoginLimiter:
    """The limiter Settings.login_counters asks for ("auto": shared on PostgreSQL, where instances can meet)."""
    shared = settings.login_counters == "database" or (
        settings.login_counters == "auto" and not url.startswith("sqlite")
    )
    limits = (
        settings.login_max_failures,
        settings.login_window_seconds,
        settings.login_max_failures_per_client,
        settings.login_tracked_keys,
    )
    return SharedLoginLimiter(factory, *limits) if shared else LoginLimiter(*limits)


class HashPool:
    """At most `size` password hashes at once and `waiting` more queued (each up to `wait_s`); beyond that,
    ServerBusy at once: a flood of logins costs the server a bounded amount of CPU and no threads."""

    def __init__(self, size: int, waiting: int, wait_s: float):
        self.wait_s = wait_s
        self._run = threading.BoundedSemaphore(max(1, size))
        self._admitted = threading.BoundedSemaphore(max(1, size) + max(0, waiting))

    @contextmanager
    def slot(self) -> Iterator[None]:
        if not self._admitted.acquire(blocking=False):
            raise ServerBusy("too many logins at once")
        try:
            if not self._run.acquire(timeout=self.wait_s):
                raise ServerBusy("too many logins at once")
            try:
                yield
            finally:
                self._run.release()
        finally:
            self._admitted.release()


class LoginRequired(Exception):
    """A page asked for without a valid session: the browser is sent to the login page."""


def state(request: Request) -> AppState:
    return request.app.state.extractor


async def db(request: Request) -> AsyncIterator[Session]:
    """Async only so FastAPI runs it on the event loop (no thread hop): creating a session does no I/O."""
    session = state(request).factory()
    try:
        yield session
    finally:
        session.close()


def client(request: Request) -> str:
    return request.client.host if request.client else "-"


def _bearer(request: Request) -> str | None:
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    return secret.strip() if scheme.lower() == "bearer" and secret.strip() else None


def _no_token() -> HTTPException:
    return HTTPException(401, "a valid bearer token is required", headers={"WWW-Authenticate": "Bearer"})


def api_user(request: Request) -> store.User:
    """The token checked in a session of its own, closed before the route runs (see `page_user`)."""
    secret = _bearer(request)
    with state(request).factory() as session:
        token = store.token_for(session, secret, "api") if secret else None
        if token is None:
            raise _no_token()
        return token.user


def api_reader(request: Request, session: Session) -> store.Reader:
    """api_user's check (same token rule, same 401) answering only who reads: one Core query, no ORM user."""
    secret = _bearer(request)
    reader = store.reader_for(session, secret, "api") if secret else None
    if reader is None:
        raise _no_token()
    return reader


@dataclass
class PageUser:
    user: store.User
    csrf: str


def page_user(request: Request) -> PageUser:
    """The session cookie checked in a session of its own, closed (its connection back in the pool) before the
    route's own thread hop: a request waiting for a worker thread then holds no connection, so worker threads
    can never all wait for connections held by requests that wait for a thread (a bounded pool's deadlock)."""
    secret = request.cookies.get(SESSION_COOKIE)
    with state(request).factory() as session:
        token = store.token_for(session, secret, "session") if secret else None
        if token is None:
            raise LoginRequired()
        return PageUser(user=token.user, csrf=token.csrf or "")


def require(user: store.User, *roles: str) -> None:
    if user.role not in roles:
        raise HTTPException(403, f"this needs the {' or '.join(roles)} role")


def check_csrf(sent: str | None, expected: str) -> None:
    if not sent or not expected or not secrets.compare_digest(sent, expected):
        raise HTTPException(403, "missing or invalid CSRF token; reload the page and try again")
