"""The document-text cache: a reading comes back exactly, a reader change misses, a pipeline change does not,
and the cache is bounded by `extractor cache prune` on SQLite and PostgreSQL."""

import time

import pytest
import sqlalchemy as sa

from extractor import store
from extractor.batch import state
from extractor.config import Settings
from extractor.ingest import cache
from extractor.ingest.files import read_pdf_cached
from tests.helpers import backends, fresh_url, make_pdf, run

NOTE = [
    "NEURO-ONCOLOGY OFFICE VISIT",
    "Left frontal glioblastoma s/p resection and chemoradiation to 60 Gy.",
    "MRI: new enhancing lesion, recurrence versus radiation necrosis.",
]


def test_a_cached_reading_gives_the_same_documents_without_reading_the_pdf(monkeypatch):
    data = make_pdf([NOTE, ["PLAN: Request MR spectroscopy (CPT 76390)."]])
    memory = cache.MemoryCache({}, "k")
    fresh = read_pdf_cached("note.pdf", data, memory)
    assert memory.misses == 1 and list(memory.new) == [fresh[0].sha256]
    shipped = {sha: ("k", payload) for sha, payload in memory.new.items()}

    def no_pdf(*_a, **_k):
        raise AssertionError("the PDF was read")

    monkeypatch.setattr("extractor.ingest.files.read_reading", no_pdf)
    again = cache.MemoryCache(shipped, "k")
    cached = read_pdf_cached("renamed.pdf", data, again)
    assert again.hits == 1
    assert [d.name for d in cached] == ["renamed.pdf"]  # documents are named by the file they are read from
    assert cached[0].text == fresh[0].text and cached[0].boxes == fresh[0].boxes
    assert cached[0].page_starts == fresh[0].page_starts and cached[0].page_sizes == fresh[0].page_sizes == [
        [612.0, 792.0],
        [612.0, 792.0],
    ]
    with pytest.raises(AssertionError, match="was read"):  # another reader key misses
        read_pdf_cached("note.pdf", data, cache.MemoryCache(shipped, "other"))


def test_the_reader_key_follows_the_reader_not_the_pipeline(monkeypatch):
    base = cache.reader_key(Settings())
    assert cache.reader_key(Settings(ocr_workers=3, ocr_page_timeout_s=5, pdf_timeout_s=9)) == base
    assert cache.reader_key(Settings(ocr_dpi=200)) != base
    assert cache.reader_key(Settings(ocr_orientation=False)) != base
    monkeypatch.setattr(cache, "CACHE_VERSION", cache.CACHE_VERSION + 1)
    assert cache.reader_key(Settings()) != base
    monkeypatch.setattr(cache, "CACHE_VERSION", cache.CACHE_VERSION - 1)
    monkeypatch.setattr(cache, "tesseract_version", lambda: "tesseract 9.9")
    assert cache.reader_key(Settings()) != base
    monkeypatch.setattr("extractor.PIPELINE_VERSION", "99")
    monkeypatch.undo()
    assert cache.reader_key(Settings()) == base


@pytest.mark.parametrize("backend", backends())
def test_web_store_cache_keeps_readings_and_prunes_by_age_and_size(backend, tmp_path):
    engine, _ = store.open_store(fresh_url(backend, tmp_path))
    sql = cache.SqlCache(engine, store.cache_table, "k")
    with engine.begin() as conn:
        cache.store(conn, store.cache_table, [("b" * 64, "k", b"x" * 4096), ("c" * 64, "k", b"y" * 2**20)])
        conn.execute(sa.update(store.cache_table).where(store.cache_table.c.sha256 == "b" * 64).values(used_at=0))
    data = make_pdf([NOTE])
    docs = read_pdf_cached("a.pdf", data, sql)
    assert (sql.hits, sql.misses) == (0, 1)
    assert read_pdf_cached("a.pdf", data, sql)[0].text == docs[0].text and sql.hits == 1
    assert cache.prune(engine, store.cache_table, max_age_days=30, max_mb=None) == (1, 4096)
    dropped, freed = cache.prune(engine, store.cache_table, max_age_days=None, max_mb=0.5)
    assert dropped == 1 and freed >= 2**20  # the least recently used go first, until the rest fit
    with engine.connect() as conn:
        left = conn.execute(sa.select(store.cache_table.c.sha256)).scalars().all()
    assert left == [docs[0].sha256]
    engine.dispose()


def test_cache_prune_command_on_a_backfill_state(tmp_path):
    path = tmp_path / "results.jsonl.state.sqlite"
    engine = state.state_engine(str(path))
    with engine.begin() as conn:
        cache.store(conn, state.cache_table, [("a" * 64, "k", b"x" * 100), ("b" * 64, "k", b"y" * 100)])
        conn.execute(sa.update(state.cache_table).where(state.cache_table.c.sha256 == "a" * 64).values(used_at=0))
    engine.dispose()
    proc = run("cache", "prune", "--state", str(path), "--max-age", "7")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "pruned 1 cache entry (0.0 MB)"
    engine = state.state_engine(str(path))
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(state.cache_table)).scalar_one() == 1
        used = conn.execute(sa.select(state.cache_table.c.used_at)).scalar_one()
    assert used > time.time() - 60
    engine.dispose()


def test_a_reading_cut_short_by_a_time_limit_is_not_cached(monkeypatch):
    """Pages left out for time depend on the machine's load that day: the next run reads the file again."""
    from extractor.ingest import files

    data = make_pdf([NOTE])
    real = files.read_reading

    def late(data, settings=None):
        reading = real(data, settings)
        reading.complete = False
        return reading

    monkeypatch.setattr(files, "read_reading", late)
    memory = cache.MemoryCache({}, "k")
    assert read_pdf_cached("a.pdf", data, memory)[0].text.startswith("NEURO-ONCOLOGY")
    assert memory.new == {}
