"""Background processing in real worker processes: nothing is lost across a server restart."""

import time

from fastapi.testclient import TestClient

from extractor import store
from extractor.config import Settings
from extractor.web import create_app
from tests.helpers import sample_case_files, sample_upload


def test_cases_queued_or_left_processing_are_finished_after_a_restart(tmp_path):
    url = store.default_url(tmp_path)
    _, factory = store.open_store(url)
    with factory() as s:
        queued, _ = store.create_case(s, None, sample_case_files("c01_"), tmp_path)
        crashed, _ = store.create_case(s, None, [sample_upload()], tmp_path)
        s.commit()
    with factory() as s:  # the previous server had claimed one case when it was killed
        assert store.claim_next(s).id == queued.id
    app = create_app(Settings(data_dir=tmp_path), workers=1)
    with TestClient(app):  # lifespan: requeue, start one worker process
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with factory() as s:
                statuses = {c.id: c.status for c in store.list_cases(s)}
            if set(statuses.values()) == {"ready"}:
                break
            time.sleep(0.3)
    assert statuses == {queued.id: "ready", crashed.id: "ready"}
    with factory() as s:
        assert store.get_case(s, crashed.id).documents[0].page_sizes == [[612.0, 792.0]] * 3
        assert store.get_case(s, queued.id).attempts == 2


def test_relative_data_dir_still_finds_the_uploads(tmp_path, monkeypatch):
    """Regression: `make demo` passes --data-dir data/demo; symlinks to relative paths broke every case."""
    from extractor.web import worker

    monkeypatch.chdir(tmp_path)
    data = tmp_path.joinpath("data").relative_to(tmp_path)
    _, factory = store.open_store(store.default_url(data))
    with factory() as s:
        case, _ = store.create_case(s, None, sample_case_files("c01_"), data)
        s.commit()
    assert worker.process_one(factory, data) == case.id
    with factory() as s:
        assert store.get_case(s, case.id).status == "ready"


def test_a_worker_that_dies_is_replaced_and_its_case_finished(tmp_path):
    import os
    import signal

    from extractor.web import worker_pool as worker

    url = store.default_url(tmp_path)
    _, factory = store.open_store(url)
    pool = worker.WorkerPool(url, tmp_path, 1, factory)
    pool.start()
    try:
        [pid] = pool.pids()
        with factory() as s:  # the case this worker was in the middle of when it was killed
            case, _ = store.create_case(s, None, [sample_upload()], tmp_path)
            case.status, case.claimed_by, case.claimed_at, case.attempts = (
                "processing",
                worker.worker_id(pid),
                store.utcnow(),
                1,
            )
            s.commit()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline:
            with factory() as s:
                status = store.get_case(s, case.id).status
            if status == "ready":
                break
            time.sleep(0.3)
        assert status == "ready"
        assert pool.restarts == 1 and pool.pids() != [pid]
        with factory() as s:
            assert store.get_case(s, case.id).attempts == 2
    finally:
        pool.stop()


def test_a_case_that_keeps_killing_its_worker_fails_after_three_attempts(tmp_path):
    _, factory = store.open_store(store.default_url(tmp_path))
    with factory() as s:
        case, _ = store.create_case(s, None, sample_case_files("c01_"), tmp_path)
        s.commit()
    for attempt in range(1, store.MAX_ATTEMPTS + 1):
        with factory() as s:
            assert store.claim_next(s, f"host:{attempt}").attempts == attempt
        with factory() as s:  # worker host:N died on it
            assert store.release_claims(s, "host:999") == 0
            assert store.release_claims(s, f"host:{attempt}") == 1
            s.commit()
    with factory() as s:
        assert store.claim_next(s, "host:9") is None
        failed = store.get_case(s, case.id)
    assert failed.status == "failed" and failed.error == "processing stopped 3 times before it finished; not retried"
