import pytest

from extractor import store
from tests.helpers import backends, fresh_url


@pytest.fixture(params=backends())
def db(request, tmp_path):
    """An empty, migrated store on each backend: (engine, session factory, data dir)."""
    url = fresh_url(request.param, tmp_path)
    engine, factory = store.open_store(url)
    yield engine, factory, tmp_path / "data"
    engine.dispose()
