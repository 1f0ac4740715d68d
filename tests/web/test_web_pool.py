"""Regression: a bounded connection pool could deadlock the server under a burst of requests.

A page or API request checked its session cookie or token in one worker thread and kept that pooled connection
while it waited for a second thread to run its route; with every thread busy waiting for a connection held by
requests waiting for a thread, nothing moved until the pool's timeout failed them (PostgreSQL's pool is 10 + 20,
anyio's threads 40: above about 70 requests at once). Here the pool and the thread pool are shrunk to one each,
so two concurrent requests were enough."""

import anyio
import anyio.to_thread
import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

from extractor.config import Settings
from extractor.web import create_app
from tests.helpers import add_users, backends, bearer, fresh_url, login


@pytest.fixture(params=backends())
def app(request, tmp_path):
    url = fresh_url(request.param, tmp_path)
    app = create_app(Settings(data_dir=tmp_path / "data"), db_url=url, workers=0)
    state = app.state.extractor
    add_users(state.factory)
    state.factory.kw["bind"].dispose()
    extra = {"connect_args": {"check_same_thread": False}} if url.startswith("sqlite") else {}
    engine = create_engine(url, pool_size=1, max_overflow=0, pool_timeout=3, **extra)
    state.factory = sessionmaker(engine, expire_on_commit=False)
    yield app
    engine.dispose()


def burst(app, paths: list[str], headers: dict[str, str], cookies: httpx.Cookies) -> list[int]:
    async def main() -> list[int]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 1
        codes: list[int] = []
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", cookies=cookies) as client:

            async def get(path: str) -> None:
                codes.append((await client.get(path, headers=headers)).status_code)

            async with anyio.create_task_group() as tg:
                for path in paths:
                    tg.start_soon(get, path)
        return codes

    return anyio.run(main)


def test_concurrent_pages_do_not_wait_on_a_connection_held_across_a_thread_hop(app):
    with TestClient(app) as client:
        login(client, "rev")
        cookies = httpx.Cookies(client.cookies)
    assert burst(app, ["/queue"] * 6, {}, cookies) == [200] * 6


def test_concurrent_api_calls_do_not_wait_on_a_connection_held_across_a_thread_hop(app):
    with TestClient(app) as client:
        headers = bearer(client, "rev")
    assert burst(app, ["/api/cases"] * 6, headers, httpx.Cookies()) == [200] * 6
