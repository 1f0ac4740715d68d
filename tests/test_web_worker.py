"""Background processing in real worker processes: nothing is lost across a server restart."""

import time

from fastapi.testclient import TestClient

from extractor import store
from extractor.config import Settings
from extractor.web import create_app

from .webutil import sample_case_files, sample_upload


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
