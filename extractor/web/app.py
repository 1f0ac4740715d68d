"""Application factory: store, background workers, security headers, upload limit, one JSON error shape."""

from __future__ import annotations

import logging
import socket
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from extractor import store
from extractor.config import Settings
from extractor.render import fhir as render_fhir

from . import api, fhir, pages
from .deps import AppState, LoginLimiter, LoginRequired
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


class SecurityMiddleware:
    """Pure ASGI: refuses bodies over the limit (declared or streamed) with 413 and sets security headers."""

    def __init__(self, app, max_body: int):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            return await self._too_large(send, scope)
        seen = 0
        started = False

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise BodyTooLarge(self.max_body)
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
        except BodyTooLarge:
            if not started:
                await self._too_large(send, scope)

    async def _too_large(self, send, scope):
        message = f"upload larger than the limit of {self.max_body} bytes"
        if str(scope.get("path", "")).startswith("/fhir/"):
            response = _outcome(413, message)
        else:
            response = JSONResponse({"error": {"status": 413, "message": message}}, status_code=413)
        await response({"type": "http"}, None, send)


def _error(status: int, message: str, headers=None) -> JSONResponse:
    return JSONResponse({"error": {"status": status, "message": message}}, status_code=status, headers=headers)


OUTCOME_CODES = {401: "login", 403: "forbidden", 404: "not-found", 413: "too-long", 415: "not-supported"}


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
        limiter=LoginLimiter(settings.login_max_failures, settings.login_window_seconds),
    )

    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException):
        if request.url.path.startswith("/fhir/"):
            return _outcome(exc.status_code, str(exc.detail), getattr(exc, "headers", None))
        if request.url.path.startswith("/api/") or request.headers.get("accept", "").startswith("application/json"):
            return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))
        return error_page(request, exc.status_code, str(exc.detail))

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
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    @app.get("/healthz", include_in_schema=False)
    def health() -> dict[str, str]:
        return {"status": "ok"}

    app.add_middleware(SecurityMiddleware, max_body=settings.max_upload_bytes)
    return app
