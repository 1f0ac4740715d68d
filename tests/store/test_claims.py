"""The web queue's claim is exclusive, on SQLite and PostgreSQL: a heartbeat keeps it, only its holder may
finish the case, a restart releases only its own host's dead servers' claims, a case past its deadline fails."""

import os
import socket
import threading
import time
from datetime import timedelta

from sqlalchemy import update

from extractor import store
from extractor.case import prefill
from extractor.web import worker
from extractor.web.worker_pool import pid_alive
from tests.helpers import SAMPLES, sample_case_files


def _queue(factory, data, files=None) -> str:
    with factory() as s:
        case, _ = store.create_case(s, None, files or sample_case_files("c01_"), data)
        s.commit()
        return case.id


def _lapse(factory, case_id, seconds=3600) -> None:
    """As if the holder's last heartbeat were `seconds` ago."""
    past = store.utcnow() - timedelta(seconds=seconds)
    with factory() as s:
        s.execute(update(store.Case).where(store.Case.id == case_id).values(heartbeat_at=past, claimed_at=past))
        s.commit()


def test_only_the_current_claim_holder_can_finish_a_case(db):
    _, factory, data = db
    case_id = _queue(factory, data)
    with factory() as s:
        first = store.claim_next(s, "host-a:1:2")
        token_a = first.claim_token
    assert first.id == case_id and token_a
    _lapse(factory, case_id)  # host-a stalled: its claim lapsed and host-b took the case up
    with factory() as s:
        second = store.claim_next(s, "host-b:1:2", lease_seconds=60)
        token_b = second.claim_token
    assert second.id == case_id and token_b != token_a and second.attempts == 2
    folder = next(SAMPLES.glob("c01_*"))
    review = prefill(sorted(folder.glob("*.txt"))).review
    with factory() as s:
        stale = store.get_case(s, case_id)
        assert not store.heartbeat(s, case_id, token_a)
        assert not store.finish_claim(s, stale, token_a, review)
        s.rollback()
    with factory() as s:
        assert store.load_review_json(s, case_id) is None and store.get_case(s, case_id).status == "processing"
        assert not store.fail_claim(s, store.get_case(s, case_id), token_a, "late")
        s.rollback()
    with factory() as s:
        assert store.finish_claim(s, store.get_case(s, case_id), token_b, review)
        s.commit()
    with factory() as s:
        done = store.get_case(s, case_id)
        assert done.status == "ready" and done.claim_token is None and store.load_review_json(s, case_id)


def test_a_heartbeat_keeps_the_claim_and_a_silent_holder_loses_it(db):
    _, factory, data = db
    case_id = _queue(factory, data)
    with factory() as s:
        token = store.claim_next(s, "host-a:1:2", lease_seconds=1).claim_token
    for _ in range(6):  # 1.8 s of a running case, renewed every 0.3 s
        time.sleep(0.3)
        with factory() as s:
            assert store.heartbeat(s, case_id, token)
            s.commit()
        with factory() as s:
            assert store.claim_next(s, "host-b:1:2", lease_seconds=1) is None
    time.sleep(1.3)  # the holder fell silent for more than a lease
    with factory() as s:
        taken = store.claim_next(s, "host-b:1:2", lease_seconds=1)
    assert taken.id == case_id and taken.claimed_by == "host-b:1:2"


def test_a_restart_releases_only_the_claims_of_its_hosts_dead_servers(db):
    _, factory, data = db
    host = socket.gethostname()[:40]
    dead = 2**22 + 12345  # above pid_max's default: no such process
    assert not pid_alive(dead)
    owners = {
        "other": "some-other-host:1:2",  # another server on the same database
        "alive": f"{host}:{os.getpid()}:7",  # a server of this host still running
        "dead": f"{host}:{dead}:8",  # this host's server that was killed
    }
    ids = {}
    for name, owner in owners.items():
        ids[name] = _queue(factory, data, [(f"{name}.txt", f"note for {name}".encode())])
        with factory() as s:
            assert store.claim_next(s, owner).id == ids[name]
    with factory() as s:
        assert store.release_orphans(s, host, pid_alive) == 1
        s.commit()
    with factory() as s:
        status = {name: (store.get_case(s, i).status, store.get_case(s, i).claimed_by) for name, i in ids.items()}
    assert status == {"other": ("processing", owners["other"]), "alive": ("processing", owners["alive"]),
                      "dead": ("queued", None)}  # fmt: skip


def _fax_case(factory, data, samples: str = "c0[12]") -> str:
    files = [(p.name, p.read_bytes()) for p in sorted(SAMPLES.glob(f"{samples}_*/fax/packet.pdf"))]
    return _queue(factory, data, files)


def test_a_running_case_keeps_its_claim_and_one_past_its_deadline_fails(db, monkeypatch):
    _, factory, data = db
    monkeypatch.setenv("EXTRACTOR_WEB_CLAIM_LEASE_SECONDS", "0.6")
    case_id = _fax_case(factory, data)
    stolen: list = []
    stop = threading.Event()

    def rival() -> None:  # another server's worker polling the queue all along
        while not stop.wait(0.1):
            with factory() as s:
                if (got := store.claim_next(s, "rival:1:2", lease_seconds=0.6)) is not None:
                    stolen.append(got.id)

    thread = threading.Thread(target=rival, daemon=True)
    thread.start()
    started = time.monotonic()
    try:
        assert worker.process_one(factory, data) == case_id
    finally:
        stop.set()
        thread.join(5)
    assert time.monotonic() - started > 1.5  # long enough that a lease without heartbeat would have lapsed
    with factory() as s:
        case = store.get_case(s, case_id)
        assert (case.status, case.attempts, stolen) == ("ready", 1, [])

    monkeypatch.setenv("EXTRACTOR_WEB_CASE_DEADLINE_SECONDS", "1")
    late = _fax_case(factory, data, "c0[34]")  # other faxes: the document-text cache has not read these
    started = time.monotonic()
    assert worker.process_one(factory, data) == late
    assert time.monotonic() - started < 10
    with factory() as s:
        case = store.get_case(s, late)
        assert (case.status, case.error) == ("failed", "processing took longer than 1 s; stopped")
