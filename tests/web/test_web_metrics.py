"""The request clock's figures and oversight on a store with known decisions (SQLite and PostgreSQL): every
metric of GET /api/metrics and its CSV, the admin page, the QA second review with Cohen's kappa, the AI tool
review export. Times are set, never read off the wall clock."""

import csv
import io
import json
from datetime import datetime

import pytest
from fastapi.testclient import TestClient

from extractor import store
from extractor.case import prefill
from extractor.config import Settings
from extractor.web import create_app
from tests.helpers import PASSWORD, add_users, backends, bearer, fresh_url, login, sample_case_files


@pytest.fixture(scope="module")
def review(tmp_path_factory) -> dict:
    """One real prefilled review (six indications), reused with the recommendation each case needs."""
    folder = tmp_path_factory.mktemp("review")
    paths = []
    for name, data in sample_case_files("c01_"):
        (folder / name).write_bytes(data)
        paths.append(folder / name)
    return prefill(paths).review.model_dump(mode="json")


# (case, urgency, received, recommendation, [(decision, at, overrides)])
CASES = [
    ("A", "expedited", datetime(2026, 12, 1), "likely_meets_criteria", [("approve", datetime(2026, 12, 1, 10), {})]),
    ("B", "expedited", datetime(2026, 12, 2), "needs_clinical_review",
     [("approve", datetime(2026, 12, 6), {"epilepsy": "present"})]),
    ("C", "standard", datetime(2026, 12, 1), "experimental_investigational",
     [("request_information", datetime(2026, 12, 2), {}), ("refer_to_physician", datetime(2026, 12, 5), {})]),
    ("D", "standard", datetime(2026, 12, 3), "likely_meets_criteria",
     [("refer_to_physician", datetime(2026, 12, 12), {})]),
    ("E", "standard", datetime(2026, 12, 4), "likely_meets_criteria", []),
    ("F", "standard", datetime(2026, 11, 15), "likely_meets_criteria", [("approve", datetime(2026, 11, 16), {})]),
]  # fmt: skip


@pytest.fixture(params=backends())
def env(request, tmp_path, review):
    app = create_app(Settings(data_dir=tmp_path / "data", qa_sample_share=1.0),
                     db_url=fresh_url(request.param, tmp_path), workers=0)  # fmt: skip
    state = app.state.extractor
    add_users(state.factory)
    ids = {}
    with state.factory() as s:
        rev = store.add_user(s, "rev2", "reviewer", PASSWORD)
        first = next(u for u in s.query(store.User).all() if u.name == "rev")
        for name, urgency, received, rec, decisions in CASES:
            case, _ = store.create_case(s, None, [(f"{name}.txt", f"Case {name}.\n".encode())], state.data_dir,
                                        urgency=urgency, received_at=received, now=received)  # fmt: skip
            store.finish_case(s, case, {**review, "recommendation": rec})
            for decision, at, overrides in decisions:
                row = store.record_decision(s, case, first, decision, overrides=overrides, at=at)
                store.sample_decision(s, case, row, 1.0, "test")
            ids[name] = case.id
        s.commit()
        assert rev.id
    with TestClient(app) as client:
        yield client, ids, state


def test_every_metric_of_the_report(env):
    client, _, _ = env
    ada = bearer(client, "ada")
    r = client.get("/api/metrics?from=2026-12-01&to=2026-12-31", headers=ada)
    assert r.status_code == 200, r.text
    m = r.json()
    assert set(m) == {"cases", "by_decision", "expedited", "standard", "agreement"}
    assert m["cases"] == 5  # F was received in November
    assert m["by_decision"] == {"approve": 2, "refer_to_physician": 2, "request_information": 0, "undecided": 1}
    # A in 10 h (within 72 h), B in 96 h (late); C decided at last 96 h after receipt (within 7 days), D 216 h (late)
    assert m["expedited"] == {"decided": 2, "decision_hours": {"mean": 53.0, "median": 53.0}, "within_clock": 0.5}
    assert m["standard"] == {"decided": 2, "decision_hours": {"mean": 156.0, "median": 156.0}, "within_clock": 0.5}
    # A and C agree with the prefill, B (approved a needs_clinical_review) and D (referred a likely) do not;
    # of 4 decided cases x 6 indications one was overridden (B's epilepsy)
    assert m["agreement"]["recommendation"] == 0.5
    assert m["agreement"]["indications"] == pytest.approx(23 / 24)


def test_the_period_counts_cases_by_receipt_day_inclusive(env):
    client, _, _ = env
    ada = bearer(client, "ada")
    one = client.get("/api/metrics?from=2026-12-01&to=2026-12-01", headers=ada).json()
    assert one["cases"] == 2 and one["by_decision"]["approve"] == 1 and one["by_decision"]["refer_to_physician"] == 1
    everything = client.get("/api/metrics", headers=ada).json()
    assert everything["cases"] == 6 and everything["by_decision"]["approve"] == 3
    empty = client.get("/api/metrics?from=2025-01-01&to=2025-01-31", headers=ada).json()
    assert empty["cases"] == 0 and empty["expedited"]["decision_hours"] == {"mean": None, "median": None}
    assert empty["expedited"]["within_clock"] is None and empty["agreement"] == {"recommendation": None,
                                                                                 "indications": None}  # fmt: skip


def test_the_csv_gives_the_same_figures_as_rows(env):
    client, _, _ = env
    ada = bearer(client, "ada")
    r = client.get("/api/metrics.csv?from=2026-12-01&to=2026-12-31", headers=ada)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == ["metric", "value"]
    got = dict(rows[1:])
    assert got["cases"] == "5" and got["by_decision.undecided"] == "1"
    assert float(got["expedited.decision_hours.mean"]) == 53.0 and float(got["standard.within_clock"]) == 0.5
    assert float(got["agreement.indications"]) == pytest.approx(23 / 24)
    assert len(rows) - 1 == 1 + 4 + 2 * 4 + 2


def test_metrics_are_admin_only_and_a_bad_date_is_400(env):
    client, _, _ = env
    for name in ("rev", "ina"):
        for path in ("/api/metrics", "/api/metrics.csv", "/api/metrics/ai-tool-review?quarter=2026-Q4"):
            r = client.get(path, headers=bearer(client, name))
            assert r.status_code == 403 and r.json()["error"]["status"] == 403
    assert client.get("/api/metrics").status_code == 401
    ada = bearer(client, "ada")
    r = client.get("/api/metrics?from=12/01/2026", headers=ada)
    assert r.status_code == 400 and r.json() == {"error": {"status": 400, "message": "from: not a date (YYYY-MM-DD)"}}
    assert client.get("/api/metrics?from=2026-12-31&to=2026-12-01", headers=ada).status_code == 400
    assert client.get("/api/metrics/ai-tool-review?quarter=2026-Q5", headers=ada).status_code == 400


def test_qa_second_review_by_another_reviewer_gives_agreement_and_kappa(env):
    client, ids, state = env
    with state.factory() as s:
        sampled = {q.case_id: q for q in s.query(store.QaReview).all()}
        assert set(sampled) == {ids[n] for n in "ABCDF"}  # every decided case (share 1.0); E is undecided
        c = sampled[ids["C"]]
        assert c.first.decision == "refer_to_physician"  # pending: it follows the case's latest decision
        first = next(u for u in s.query(store.User).all() if u.name == "rev")
        assert store.qa_queue(s, first) == []  # never a case one decided first
        by_case = {q.case_id: q.id for q in sampled.values()}
    csrf = login(client, "rev2")
    for name, decision in (("A", "approve"), ("B", "refer_to_physician"), ("C", "refer_to_physician"),
                           ("D", "refer_to_physician")):  # fmt: skip
        assert f'data-qa="{by_case[ids[name]]}"' in client.get("/qa").text
        r = client.post(f"/qa/{by_case[ids[name]]}", data={"decision": decision, "csrf_token": csrf},
                        follow_redirects=False)  # fmt: skip
        assert r.status_code == 303, r.text
    again = client.post(f"/qa/{by_case[ids['A']]}", data={"decision": "approve", "csrf_token": csrf})
    assert again.status_code == 409
    client.cookies.clear()
    login(client, "ada")
    page = client.get("/admin/metrics?from=2026-12-01&to=2026-12-31")
    assert page.status_code == 200
    # 3 of 4 agree; first approve 2 / refer 2, second approve 1 / refer 3: p_e = 0.5, kappa = (0.75 - 0.5) / 0.5
    assert 'id="m-qa-agree">75.0%' in page.text and 'id="m-qa-kappa">0.50' in page.text
    assert f'href="/cases/{ids["B"]}"' in page.text  # the disagreeing cases one click away
    assert 'id="chart-decision-hours"' in page.text and 'id="chart-within-clock"' in page.text
    assert 'id="m-cases">5<' in page.text and 'id="m-agree-rec">50.0%' in page.text
    r = client.get("/admin/metrics/ai-tool-review.json?quarter=2026-Q4")
    bundle = json.loads(r.text)
    assert bundle["from"] == "2026-10-01" and bundle["to"] == "2026-12-31"
    assert bundle["metrics"]["cases"] == 6 and bundle["pipeline_version"] and bundle["guideline"]["version"]
    assert bundle["oversight"]["qa"]["reviewed"] == 4 and bundle["oversight"]["qa"]["kappa"] == pytest.approx(0.5)
    assert bundle["reviews_by_version"][0]["cases"] == 6
    assert bundle["oversight"]["by_indication"]["epilepsy"]["cases"] == [ids["B"]]
    client.cookies.clear()
    login(client, "rev")
    assert client.get("/admin/metrics").status_code == 403


def test_a_decision_through_the_api_enters_the_qa_sample_by_the_settings_share(env):
    client, ids, state = env
    r = client.post(f"/api/cases/{ids['E']}/decision", headers=bearer(client, "rev"), json={"decision": "approve"})
    assert r.status_code == 201, r.text
    with state.factory() as s:
        (qa,) = [q for q in s.query(store.QaReview).all() if q.case_id == ids["E"]]
        assert qa.first.decision == "approve" and qa.reviewed_at is None
        case = store.get_case(s, ids["E"])
        assert case.decided_at is not None and case.decision == "approve"
    got = client.get(f"/api/cases/{ids['E']}", headers=bearer(client, "rev")).json()
    assert got["decided_at"].endswith("Z") and got["due_at"] == "2026-12-11T00:00:00Z"


def test_the_qa_draw_is_reproducible_and_near_its_share():
    ids = [f"case-{n}" for n in range(2000)]
    drawn = [i for i in ids if store.in_sample(i, 0.1, "seed-a")]
    assert drawn == [i for i in ids if store.in_sample(i, 0.1, "seed-a")]  # the same on every run
    assert 150 <= len(drawn) <= 250
    assert drawn != [i for i in ids if store.in_sample(i, 0.1, "seed-b")]  # another seed, another sample
    assert not any(store.in_sample(i, 0.0, "seed-a") for i in ids) and all(store.in_sample(i, 1.0, "x") for i in ids)
