"""Application factory: store, background workers, security headers, upload limit, one JSON error shape."""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from extractor import store
from extractor.config import Settings
from extractor.render import fhir as render_fhir

from . import api, fhir, oversight, pages
from .deps import AppState, HashPool, LoginRequired, login_limiter
from .pages import error_page
from .worker_pool import WorkerPool, pid_alive

log = logging.getLogger("extractor.web")
STATIC = Path(__file__).resolve().parent / "static"

CSP = (
    "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class BodyTooLarge(HTTPException):
    """Raised from the body stream: FastAPI passes HTTPExceptions through its body parsing (others become 400)."""

    def __init__(self, limit: int):
        super().__init__(413, f"upload larger than the limit of {limit} bytes")


class BodyStalled(HTTPException):
    """A request body that sent nothing for the idle limit: the connection is not held open for it."""

    def __init__(self, seconds: float):
        super().__init__(408, f"the request body stalled for {seconds:g} s")


UPLOAD_PATHS = ("/api/cases", "/intake/upload", "/fhir/Claim/$submit")  # the only routes taking big bodies
SMALL_BODY = 1024 * 1024  # any other request (a login, a decision, a form)


def host_name(header: str) -> str:
    """The host of a Host header, without its port (`[::1]:8000` -> `::1`)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class SecurityMiddleware:
    """Pure ASGI: refuses bodies over the limit (declared or streamed) with 413 (uploads may be `max_body`,
    anything else 1 MiB), cuts off a body idle for `idle_s` with 408, and sets security headers."""

    def __init__(self, app, max_body: int, idle_s: float = 30.0, hosts: list[str] | None = None):
        self.app, self.max_body, self.idle_s = app, max_body, idle_s
        self.hosts = None if hosts is None or "*" in hosts else {h.lower() for h in hosts}

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        if self.hosts is not None and scope.get("path") != "/healthz":
            host = host_name(headers.get(b"host", b"").decode("latin1"))
            if host not in self.hosts:  # a rebinding DNS name, or links built on a forged Host
                return await self._refuse(send, scope, 400, "unknown host (see EXTRACTOR_ALLOWED_HOSTS)")
        limit = self.max_body if scope.get("path", "") in UPLOAD_PATHS else min(self.max_body, SMALL_BODY)
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return await self._too_large(send, scope, limit)
        seen = 0
        started = False
        body_done = False

        async def limited_receive():
            nonlocal seen, body_done
            if body_done:  # after the body: a wait for the client's disconnect, as long as a response streams
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.idle_s)
            except TimeoutError:
                raise BodyStalled(self.idle_s) from None
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                body_done = not message.get("more_body", False)
                if seen > limit:
                    raise BodyTooLarge(limit)
            else:
                body_done = True
            return message

        async def secure_send(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"content-security-policy", CSP.encode()),
                ]
                names = {k.lower() for k, _ in message.get("headers", [])}
                if b"cache-control" not in names:
                    extra.append((b"cache-control", b"no-store"))
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            await self.app(scope, limited_receive, secure_send)
        except (BodyTooLarge, BodyStalled) as exc:
            if not started:
                await self._refuse(send, scope, exc.status_code, str(exc.detail))

    async def _too_large(self, send, scope, limit: int):
        await self._refuse(send, scope, 413, f"upload larger than the limit of {limit} bytes")

    async def _refuse(self, send, scope, status: int, message: str):
        if str(scope.get("path", "")).startswith("/fhir/"):
            response = _outcome(status, message)
        else:
            response = JSONResponse({"error": {"status": status, "message": message}}, status_code=status)
        await response({"type": "http"}, None, send)


def _error(status: int, message: str, headers=None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status, headers=headers)


OUTCOME_CODES = {
    401: "login", 403: "forbidden", 404: "not-found", 408: "timeout", 413: "too-long", 415: "not-supported",
    429: "throttled", 500: "exception", 503: "transient",
}  # fmt: skip


def _outcome(status: int, message: str, headers=None) -> JSONResponse:
    """The error shape of the /fhir routes: an OperationOutcome, its diagnostic the message."""
    body = render_fhir.operation_outcome(message, code=OUTCOME_CODES.get(status, "invalid"))
    return JSONResponse(body, status_code=status, headers=headers, media_type="application/fhir+json")


def create_app(
    settings: Settings | None = None,
    *,
    db_url: str | None = None,
    data_dir: Path | None = None,
    workers: int | None = None,
) -> FastAPI:
    """The app over one store. `workers=0` runs no background processing (tests drive the queue)."""
    settings = settings or Settings()
    data_dir = Path(data_dir or settings.data_dir).resolve()
    url = store.resolve_url(db_url or settings.database_url, data_dir)
    count = settings.web_workers if workers is None else workers

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        pool = None
        if count > 0:
            with app.state.extractor.factory() as session:
                requeued = store.release_orphans(session, socket.gethostname()[:40], pid_alive)
                session.commit()
            if requeued:
                log.info("requeued %d cases left processing by a server of this host that stopped", requeued)
            pool = WorkerPool(url, data_dir, count, app.state.extractor.factory)
            app.state.workers = pool
            pool.start()
        try:
            yield
        finally:
            if pool is not None:
                pool.stop()

    app = FastAPI(title="Brain MRS prior-authorization review", lifespan=lifespan, docs_url=None, redoc_url=None)
    _engine, factory = store.open_store(url)
    app.state.extractor = AppState(
        settings=settings,
        url=url,
        data_dir=data_dir,
        factory=factory,
        limiter=login_limiter(settings, url, factory),
        hashing=HashPool(
            settings.password_hash_workers, settings.password_hash_waiting, settings.password_hash_wait_seconds
        ),
    )

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    def _answer(request: Request, status: int, message: str, headers=None) -> Response:
        """The one error shape of each front: an OperationOutcome on /fhir, `{"error": ...}` on /api (or when
        JSON is asked for), else the error page."""
        if request.url.path.startswith("/fhir/"):
            return _outcome(status, message, headers)
        if request.url.path.startswith("/api/") or request.headers.get("accept", "").startswith("application/json"):
            return _error(status, message, headers)
        return error_page(request, status, message)

    @app.exception_handler(StarletteHTTPException)  # FastAPI's HTTPException and Starlette's own 404 and 405
    async def _http(request: Request, exc: StarletteHTTPException):
        return _answer(request, exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception):
        """A bug answers in the same shape; the log names the exception type and where, never its message
        (which may quote a document)."""
        where = "".join(traceback.format_tb(exc.__traceback__)[-3:])
        log.error("unhandled %s on %s %s\n%s", type(exc).__name__, request.method, request.url.path, where)
        return _answer(request, 500, "internal error")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        if request.url.path.startswith("/fhir/"):
            return _outcome(400, f"{where}: {first.get('msg', 'invalid request')}")
        return _error(422, f"{where}: {first.get('msg', 'invalid request')}")

    app.include_router(api.router)
    app.include_router(fhir.router)
    app.include_router(pages.router)
    app.include_router(oversight.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(
        SecurityMiddleware,
        max_body=settings.max_upload_bytes,
        idle_s=settings.body_idle_seconds,
        hosts=list(settings.allowed_hosts),
    )
    if settings.trusted_proxies:  # outermost: everything after sees the client the proxy names
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=list(settings.trusted_proxies))
    return app
