"""The store on a real database: SQLite always, PostgreSQL when EXTRACTOR_TEST_PG_URL names a server."""

import json

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import sessionmaker

from extractor import store
from extractor.case import prefill
from extractor.web import worker
from tests.helpers import backends, fresh_url, sample_case_files, sample_upload


def test_migration_from_empty_database_to_head_matches_the_models(db):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine, _, _ = db
    tables = set(inspect(engine).get_table_names())
    assert {"users", "tokens", "cases", "documents", "reviews", "decisions", "overrides", "audit_events",
            "pas_requests", "qa_reviews", "login_failures"} <= tables  # fmt: skip
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "0008"
        diff = compare_metadata(MigrationContext.configure(conn), store.Base.metadata)
    assert diff == []
    store.migrate(engine)  # a second start is a no-op


def test_users_hash_passwords_and_authenticate(db):
    _, factory, _ = db
    with factory() as s:
        user = store.add_user(s, "nurse.kim", "reviewer", "long enough pw")
        s.commit()
        assert user.password_hash.startswith("$argon2") and "long enough pw" not in user.password_hash
        assert store.authenticate(s, "nurse.kim", "long enough pw").id == user.id
        assert store.authenticate(s, "nurse.kim", "wrong password") is None
        assert store.authenticate(s, "nobody", "long enough pw") is None
        with pytest.raises(store.StoreError, match="exists"):
            store.add_user(s, "nurse.kim", "reviewer", "long enough pw")
        with pytest.raises(store.StoreError, match="role"):
            store.add_user(s, "x", "superuser", "long enough pw")


def test_tokens_are_stored_hashed_and_expire(db):
    _, factory, _ = db
    with factory() as s:
        user = store.add_user(s, "ina", "intake", "long enough pw")
        secret, token = store.issue_token(s, user, "api", hours=1)
        s.commit()
        assert token.token_hash != secret
        assert store.token_for(s, secret, "api").user.name == "ina"
        assert store.token_for(s, secret, "session") is None
        expired, _ = store.issue_token(s, user, "api", hours=-1)
        assert store.token_for(s, expired, "api") is None


def test_upload_is_stored_under_a_random_name_and_duplicates_are_recognised(db):
    _, factory, data = db
    name, pdf = sample_upload()
    with factory() as s:
        first, dups = store.create_case(s, None, [("../../etc/<script>x.pdf", pdf)], data)
        assert dups == []
        doc = first.documents[0]
        assert doc.name == "_script_x.pdf" and doc.kind == "pdf"
        path = store.stored_path(data, doc)
        assert path.parent == data / "uploads" and path.name == doc.stored_name and "x" not in path.name[-4:]
        assert path.read_bytes() == pdf
        second, dups = store.create_case(s, None, [(name, pdf)], data)
        s.commit()
        assert [(d.name, d.case_id) for d in dups] == [(name, first.id)]
        assert second.documents[0].duplicate_of == first.id
        with pytest.raises(store.StoreError, match="not a PDF or text"):
            store.create_case(s, None, [("image.pdf", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)], data)


def test_queue_claims_each_case_once_and_survives_a_restart(db):
    _, factory, data = db
    with factory() as s:
        a, _ = store.create_case(s, None, sample_case_files("c01_"), data)
        b, _ = store.create_case(s, None, sample_case_files("c11_"), data)
        s.commit()
    with factory() as s:
        claimed = store.claim_next(s)
        assert claimed.id == a.id and claimed.status == "processing" and claimed.attempts == 1
    with factory() as s:  # a second worker gets the next case, never the same one
        assert store.claim_next(s).id == b.id
        assert store.claim_next(s) is None
    with factory() as s:  # the server stopped mid-processing: on restart both go back to the queue
        assert store.requeue_processing(s) == 2
        s.commit()
    assert worker.process_one(factory, data) == a.id
    assert worker.process_one(factory, data) == b.id
    assert worker.process_one(factory, data) is None
    with factory() as s:
        case = store.get_case(s, a.id)
        assert case.status == "ready" and case.recommendation == "likely_meets_criteria"
        assert json.loads(store.load_review_json(s, a.id))["recommendation"] == "likely_meets_criteria"
        assert all(d.text for d in case.documents)


def test_a_case_with_no_readable_document_fails_with_the_reason(db):
    _, factory, data = db
    with factory() as s:
        # a PDF by its header (accepted at upload) that pdfplumber cannot parse
        case, _ = store.create_case(s, None, [("broken.pdf", b"%PDF-1.4\n" + b"\x00garbage" * 200)], data)
        s.commit()
    assert worker.process_one(factory, data) == case.id
    with factory() as s:
        case = store.get_case(s, case.id)
    assert case.status == "failed"
    assert case.error.startswith("broken.pdf: ")
    assert worker.process_one(factory, data) is None  # a failed case is not retried forever


@pytest.mark.parametrize("backend", backends())
def test_upgrading_a_database_with_decisions_keeps_them_and_adds_the_rationale(backend, tmp_path):
    """0001 -> head on a database in use: the decisions recorded before keep everything, with no rationale."""
    from sqlalchemy import text

    engine = store.make_engine(fresh_url(backend, tmp_path))
    try:
        store.migrate(engine, "0001")
        assert "rationale" not in {c["name"] for c in inspect(engine).get_columns("decisions")}
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO users (id, name, role, password_hash, active, created_at) "
                    "VALUES (1, 'rev', 'reviewer', 'x', true, '2026-11-01 10:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO cases (id, status, source, created_at, updated_at, attempts) "
                    "VALUES ('c1', 'ready', 'upload', '2026-11-01 10:00:00', '2026-11-01 10:00:00', 0)"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO decisions (case_id, user_id, decision, note, created_at) "
                    "VALUES ('c1', 1, 'approve', 'see MRI', '2026-11-02 09:00:00')"
                )
            )
        store.migrate(engine)
        with sessionmaker(engine)() as s:
            (old,) = store.decisions_for(s, "c1")
            assert (old.decision, old.note, old.user.name, old.rationale) == ("approve", "see MRI", "rev", None)
            assert store.reviewed_rationale(s, "c1") is None
    finally:
        engine.dispose()


def test_decisions_keep_overrides_with_who_and_when(db):
    _, factory, data = db
    with factory() as s:
        rev = store.add_user(s, "rev", "reviewer", "long enough pw")
        ina = store.add_user(s, "ina", "intake", "long enough pw")
        case, _ = store.create_case(s, ina, sample_case_files("c01_"), data)
        s.commit()
    worker.process_one(factory, data)
    with factory() as s:
        case = store.get_case(s, case.id)
        with pytest.raises(PermissionError):
            store.record_decision(s, case, s.get(store.User, ina.id), "approve")
        with pytest.raises(store.StoreError, match="decision must be"):
            store.record_decision(s, case, s.get(store.User, rev.id), "deny")
        row = store.record_decision(
            s,
            case,
            s.get(store.User, rev.id),
            "refer_to_physician",
            "see MRI",
            {"recurrence_vs_treatment_effect": "partial", "epilepsy": "not_found"},
        )
        s.commit()
        saved = store.decisions_for(s, case.id)[0]
        assert saved.user.name == "rev" and saved.note == "see MRI" and saved.created_at is not None
        assert saved.rationale is None and store.reviewed_rationale(s, case.id) is None
        # epilepsy was already not_found: only the real change is kept, beside the prefilled status
        assert [(o.indication_id, o.prefilled_status, o.status) for o in row.overrides] == [
            ("recurrence_vs_treatment_effect", "supported", "partial")
        ]
        assert store.get_case(s, case.id).decision == "refer_to_physician"
        with pytest.raises(store.StoreError, match="status must be"):
            store.record_decision(s, case, s.get(store.User, rev.id), "approve", "", {"epilepsy": "supported"})
        s.rollback()
        # the reviewer's rationale is stored as sent (browser line ends normalised) beside the untouched draft
        draft = json.loads(store.load_review_json(s, case.id))["rationale"]
        reviewer = s.get(store.User, rev.id)
        store.record_decision(s, case, reviewer, "approve", rationale="Supported:\r\nrecurrent GBM on MRI.")
        store.record_decision(s, case, reviewer, "approve", rationale="   ")  # blank: no rationale sent
        s.commit()
        latest = store.reviewed_rationale(s, case.id)
        assert latest.rationale == "Supported:\nrecurrent GBM on MRI." and latest.user.name == "rev"
        history = [d.rationale for d in store.decisions_for(s, case.id)]
        assert history[-2:] == ["Supported:\nrecurrent GBM on MRI.", None]
        assert json.loads(store.load_review_json(s, case.id))["rationale"] == draft != latest.rationale


def test_save_imported_case_stores_a_backfill_review_once(db, tmp_path):
    _, factory, data = db
    files = []
    for name, content in sample_case_files("c02_"):
        path = tmp_path / name
        path.write_bytes(content)
        files.append(path)
    from datetime import datetime

    # the manifest's urgency and receipt reach the review as given, and the imported case's clock from it
    review = prefill(files, urgency="expedited", received_at=datetime(2025, 3, 1, 8, 0)).review
    with factory() as s:
        case = store.save_imported_case(s, "backfill-0001", files, review, data)
        s.commit()
        assert case.status == "ready" and case.source == "import"
        assert (case.urgency, case.urgency_source, case.received_source) == ("expedited", "given", "given")
        assert case.received_at == datetime(2025, 3, 1, 8, 0) and case.due_at == datetime(2025, 3, 4, 8, 0)
        assert case.recommendation == review.recommendation
        assert [d.name for d in case.documents] == [f.name for f in files]
        again = store.save_imported_case(s, "backfill-0001", files, review.model_dump(mode="json"), data)
        s.commit()
        assert again.id == case.id
        assert s.scalar(select(func.count()).select_from(store.Case)) == 1
        assert json.loads(store.load_review_json(s, "backfill-0001"))["recommendation"] == review.recommendation


def test_a_reimported_case_with_new_files_leaves_no_old_upload_on_disk(db, tmp_path):
    """Backfill --db re-scoring a case whose files changed replaced its documents but kept the old copies."""
    engine, _, data = db
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("Neuro-oncology note: recurrent glioblastoma, enhancing lesion on MRI.\n")
    second.write_text("Neuro-oncology note: recurrent glioblastoma, enhancing lesion enlarging on MRI.\n")
    url = engine.url.render_as_string(hide_password=False)
    assert store.import_reviews(url, [("bf-1", prefill([first]).review, [first])], data).new == 1
    old = sorted(p.name for p in (data / "uploads").iterdir())
    assert len(old) == 1
    assert store.import_reviews(url, [("bf-1", prefill([second]).review, [second])], data).replaced == 1
    now = sorted(p.name for p in (data / "uploads").iterdir())
    assert len(now) == 1 and now != old
    assert (data / "uploads" / now[0]).read_bytes() == second.read_bytes()


def test_audit_log_and_csv_export(db):
    _, factory, _ = db
    with factory() as s:
        user = store.add_user(s, "ada", "admin", "long enough pw")
        store.audit(s, user, "case_viewed", case_id="abc", client="127.0.0.1")
        store.audit(s, user, "document_downloaded", case_id="abc", document_id=3, detail="=HYPERLINK(x).pdf")
        s.commit()
        assert [e.action for e in store.audit_events(s)] == ["document_downloaded", "case_viewed"]
        lines = "".join(store.audit_csv(s)).splitlines()
    assert lines[0] == ",".join(store.AUDIT_COLUMNS)
    assert lines[1].split(",")[2:5] == ["ada", "case_viewed", "abc"]
    assert "'=HYPERLINK(x).pdf" in lines[2]  # no spreadsheet formula injection through a file name


def test_an_audit_row_is_written_by_its_transactions_commit_and_gone_with_a_rollback_or_close(db):
    """store.audit queues the row on the session as session.add would an object: one INSERT in the commit."""
    _, factory, _ = db
    with factory() as s:
        user = store.add_user(s, "ada", "admin", "long enough pw")
        s.commit()
        store.audit(s, user, "case_viewed", case_id="rolled-back")
        s.rollback()
        store.audit(s, user, "case_viewed", case_id="closed")
    with factory() as s:
        store.audit(s, user, "case_viewed", case_id="kept", detail="api")
        store.audit(s, None, "login_failed", detail="user=x")
        s.commit()
        s.commit()  # nothing queued: nothing written twice
    with factory() as s:
        events = store.audit_events(s)
        assert [(e.action, e.case_id, e.username) for e in events] == [
            ("login_failed", None, "-"),
            ("case_viewed", "kept", "ada"),
        ]
        assert events[1].user_id == user.id and events[1].detail == "api" and events[1].at is not None


@pytest.mark.parametrize("backend", backends())
def test_upgrading_to_the_request_clock_gives_old_cases_their_receipt_due_and_decision_times(backend, tmp_path):
    """0004 -> 0005 on a database in use: a case of before was received when uploaded, is standard (due 7 days
    later) and was decided when its latest decision was recorded."""
    from datetime import datetime

    from sqlalchemy import text

    engine = store.make_engine(fresh_url(backend, tmp_path))
    try:
        store.migrate(engine, "0004")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO users (id, name, role, password_hash, active, created_at) "
                              "VALUES (1, 'rev', 'reviewer', 'x', true, '2026-11-01 10:00:00')"))  # fmt: skip
            for cid in ("c1", "c2"):
                conn.execute(text("INSERT INTO cases (id, status, source, created_at, updated_at, attempts) "
                                  f"VALUES ('{cid}', 'ready', 'upload', '2026-11-01 10:00:00', "
                                  "'2026-11-01 10:00:00', 0)"))  # fmt: skip
            conn.execute(text("INSERT INTO pas_requests (case_id, claim_system, claim_value, expedited, received_at, "
                              "claim_json) VALUES ('c2', '', 'REQ-1', true, '2026-11-01 09:30:00', '{}')"))  # fmt: skip
            for when, what in (("2026-11-02 09:00:00", "request_information"), ("2026-11-05 12:30:00", "approve")):
                conn.execute(text("INSERT INTO decisions (case_id, user_id, decision, note, created_at) "
                                  f"VALUES ('c1', 1, '{what}', '', '{when}')"))  # fmt: skip
        store.migrate(engine)
        with sessionmaker(engine)() as s:
            c1, c2 = s.get(store.Case, "c1"), s.get(store.Case, "c2")
            assert (c1.urgency, c1.urgency_source, c1.received_source) == ("standard", "default", "upload")
            assert c1.received_at == datetime(2026, 11, 1, 10) and c1.due_at == datetime(2026, 11, 8, 10)
            assert c1.decided_at == datetime(2026, 11, 5, 12, 30) and c2.decided_at is None
            assert (c2.urgency, c2.urgency_source) == ("expedited", "given")  # a PAS stat Claim
            assert c2.received_at == datetime(2026, 11, 1, 9, 30)
            assert c2.due_at == datetime(2026, 11, 4, 9, 30)
            assert [d.decision for d in store.decisions_for(s, "c1")] == ["request_information", "approve"]
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(store.migrations_dir()))
        with engine.begin() as conn:  # and back down
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0004")
        assert "urgency" not in {c["name"] for c in inspect(engine).get_columns("cases")}
        assert "qa_reviews" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_the_worker_takes_urgency_and_receipt_from_the_documents_unless_intake_gave_them(db):
    """A fax cover sheet's checked URGENT box and header time make the case expedited, received then, due 72 h
    later; what intake gave is kept, and the review's request says where each came from."""
    from datetime import datetime, timedelta

    _, factory, data = db
    cover = (b"12/03/2026 14:05 FROM: Neuro-Oncology Clinic  TO: UM  PAGE 1/3\nFAX COVER SHEET\n"
             b"[X] URGENT    [ ] ROUTINE\n")  # fmt: skip
    files = [("cover.txt", cover), *sample_case_files("c01_")]
    uploaded = datetime(2026, 12, 4, 9, 0)
    with factory() as s:
        read, _ = store.create_case(s, None, files, data, now=uploaded)
        given, _ = store.create_case(s, None, files, data, urgency="standard",
                                     received_at=datetime(2026, 12, 4, 8, 30), now=uploaded)  # fmt: skip
        plain, _ = store.create_case(s, None, sample_case_files("c01_"), data, now=uploaded)
        assert (read.urgency, read.urgency_source, read.received_at) == ("standard", "default", uploaded)
        assert read.due_at == uploaded + timedelta(days=7)
        s.commit()
    for _ in range(3):
        worker.process_one(factory, data)
    with factory() as s:
        read, given, plain = (s.get(store.Case, c.id) for c in (read, given, plain))
        assert (read.urgency, read.urgency_source, read.received_source) == ("expedited", "documents", "documents")
        assert read.received_at == datetime(2026, 12, 3, 14, 5) and read.due_at == datetime(2026, 12, 6, 14, 5)
        request = json.loads(store.load_review_json(s, read.id))["request"]
        assert (request["urgency"], request["urgency_source"]) == ("expedited", "documents")
        assert (request["received_at"], request["received_at_source"]) == ("2026-12-03T14:05:00Z", "documents")
        assert (given.urgency, given.urgency_source, given.received_source) == ("standard", "given", "given")
        assert given.received_at == datetime(2026, 12, 4, 8, 30) and given.due_at == datetime(2026, 12, 11, 8, 30)
        assert json.loads(store.load_review_json(s, given.id))["request"]["urgency_source"] == "given"
        assert (plain.urgency_source, plain.received_source, plain.received_at) == ("default", "upload", uploaded)
        assert json.loads(store.load_review_json(s, plain.id))["request"]["received_at"] == "2026-12-04T09:00:00Z"


def test_an_imported_review_that_is_not_a_review_is_refused_and_the_rest_of_the_batch_stored(db, tmp_path):
    """save_imported_case stored whatever it was given: a review missing its recommendation became a ready
    case whose page failed only when a reviewer opened it."""
    engine, factory, data = db
    note = tmp_path / "n.txt"
    note.write_text("Neuro-oncology note: recurrent glioblastoma, enhancing lesion on MRI.\n")
    good = prefill([note]).review
    broken = good.model_dump(mode="json")
    del broken["recommendation"]
    with factory() as s, pytest.raises(store.StoreError, match=r"not a valid Review \(first at recommendation\)"):
        store.save_imported_case(s, "bf-broken", [note], broken, data)
    with factory() as s, pytest.raises(store.StoreError, match=r"not a valid Review$"):
        store.save_imported_case(s, "bf-broken", [note], "{not json", data)
    url = engine.url.render_as_string(hide_password=False)
    items = [("bf-bad", json.dumps(broken), [note]), ("bf-good", good.model_dump_json(), [note])]
    result = store.import_reviews(url, items, data)
    assert (result.new, result.invalid) == (1, ["bf-bad"])
    with factory() as s:
        assert store.get_case(s, "bf-bad") is None
        assert store.get_case(s, "bf-good").recommendation == good.recommendation
