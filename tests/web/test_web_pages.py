"""Server-rendered pages: login, cookies, CSRF, roles, the case page with boxes and highlights, audit."""

import html
import json
import logging
import re

import pytest
from fastapi.testclient import TestClient

from extractor import store
from extractor.config import Settings
from extractor.render import fhir
from extractor.web import create_app, worker
from tests.helpers import PASSWORD, add_users, login, sample_upload

NOTE = "Discussed with Dr. Patel: patient's sister has a history we must not log"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    data = tmp_path_factory.mktemp("pages")
    app = create_app(Settings(data_dir=data, login_max_failures=3), workers=0)
    add_users(app.state.extractor.factory)
    with TestClient(app):
        yield app


def client_for(app, name: str | None = None, https: bool = False) -> tuple[TestClient, str]:
    client = TestClient(app, base_url="https://testserver" if https else "http://testserver")
    return client, (login(client, name) if name else "")


@pytest.fixture(scope="module")
def ready(app):
    """A text-layer PDF case uploaded through the intake form and processed by the worker code."""
    intake, csrf = client_for(app, "ina")
    r = intake.post(
        "/intake/upload", data={"csrf_token": csrf}, files=[("files", sample_upload())], follow_redirects=False
    )
    assert r.status_code == 303
    case_id = r.headers["location"].split("case=")[1]
    state = app.state.extractor
    assert worker.process_one(state.factory, state.data_dir) == case_id
    return case_id


def test_pages_redirect_to_login_without_a_session(app):
    client = TestClient(app)
    for path in ("/", "/intake", "/queue", "/cases/x", "/admin/audit", "/admin/users"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_login_needs_the_form_csrf_token_and_the_right_password(app):
    client = TestClient(app)
    client.get("/login")
    r = client.post("/login", data={"username": "rev", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": "rev", "password": "nope", "csrf_token": token})
    assert r.status_code == 401 and "Wrong user name or password" in r.text


def test_login_is_rate_limited(app):
    with app.state.extractor.factory() as session:
        store.add_user(session, "mallory", "reviewer", PASSWORD)
        session.commit()
    client = TestClient(app)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    for _ in range(3):
        r = client.post("/login", data={"username": "mallory", "password": "x", "csrf_token": token})
        assert r.status_code == 401
    # blocked before the password is even checked: a right guess now is refused too
    r = client.post("/login", data={"username": "mallory", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 429 and "Too many failed logins" in r.text


def test_session_cookie_flags_and_secure_under_tls(app):
    for https, secure in ((False, False), (True, True)):
        client = TestClient(app, base_url="https://testserver" if https else "http://testserver")
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
        r = client.post(
            "/login", data={"username": "rev", "password": PASSWORD, "csrf_token": token}, follow_redirects=False
        )
        cookie = r.headers["set-cookie"].lower()
        assert cookie.startswith("extractor_session=") and "httponly" in cookie and "samesite=lax" in cookie
        assert ("secure" in cookie.split("; ")) is secure


def test_pages_carry_a_content_security_policy(app):
    client, _ = client_for(app, "rev")
    r = client.get("/queue")
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["cache-control"] == "no-store"
    assert "<script>" not in r.text and " style=" not in r.text  # nothing inline for the CSP to allow


def test_intake_upload_needs_csrf_and_tells_about_duplicates(app, ready):
    intake, csrf = client_for(app, "ina")
    r = intake.post("/intake/upload", data={"csrf_token": "forged"}, files=[("files", sample_upload())])
    assert r.status_code == 403
    r = intake.post("/intake/upload", data={"csrf_token": csrf}, files=[("files", sample_upload())])
    assert r.status_code == 200 and "Already uploaded" in r.text and ready[:8] in r.text
    statuses = intake.get("/intake/statuses").json()
    assert statuses[ready]["status"] == "ready"


def test_roles_on_pages(app, ready):
    intake, csrf = client_for(app, "ina")
    assert intake.get("/queue").status_code == 403
    assert intake.get(f"/cases/{ready}").status_code == 403
    r = intake.post(f"/cases/{ready}/decision", data={"csrf_token": csrf, "decision": "approve"})
    assert r.status_code == 403
    reviewer, _ = client_for(app, "rev")
    assert reviewer.get("/intake").status_code == 403
    assert reviewer.get("/admin/audit").status_code == 403
    assert reviewer.get("/admin/users").status_code == 403
    assert reviewer.get("/cases/unknown").status_code == 404


def test_queue_lists_ready_cases_with_recommendation_member_and_cpt(app, ready):
    reviewer, _ = client_for(app, "rev")
    r = reviewer.get("/queue", params={"recommendation": "likely_meets_criteria", "sort": "newest"})
    row = re.search(rf'<tr data-case="{ready}">.*?</tr>', r.text, re.S).group(0)
    assert "likely meets criteria" in row and "XJH448812" in row and "76390" in row
    r = reviewer.get("/queue", params={"recommendation": "needs_clinical_review"})
    assert ready not in r.text


def test_case_page_draws_evidence_boxes_on_page_images_and_highlights_text(app, ready):
    reviewer, _ = client_for(app, "rev")
    html = reviewer.get(f"/cases/{ready}").text
    assert html.count('<figure class="page"') == 3
    # every evidence button points at a box drawn on a page image of that document
    targets = set(re.findall(r'data-target="(box-\d+)"', html))
    assert targets and all(f'<g id="{t}"' in html for t in targets)
    page2 = re.search(r'id="page-\d+-2".*?</figure>', html, re.S).group(0)
    necrosis = re.search(r'<g id="box-\d+" class="box c-TREATMENT_EFFECT ctx-none">.*?</g>', page2, re.S).group(0)
    rects = [[float(v) for v in r] for r in re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"', necrosis)]
    # "radiation" ends one line and "necrosis" starts the next: two tight boxes, not one over both lines
    assert len(rects) == 2
    (x1, y1, w1), (x2, y2, w2) = rects
    assert y2 > y1 + 8 and x2 < x1 and w1 < 80 and w2 < 80
    assert all(40 < x < 612 and 0 < y < 792 for x, y, _ in rects)
    # negated and family findings are drawn distinctly from support
    assert re.search(r'<g id="box-\d+" class="box c-ABSCESS ctx-negated">', html)
    assert re.search(r'<g id="box-\d+" class="box c-NEURODEGENERATIVE ctx-family">', html)
    assert re.search(r'<mark id="mark-\d+" class="c-BRAIN_TUMOR ctx-none"[^>]*>glioblastoma</mark>', html)


def test_page_images_and_downloads_are_authenticated_and_audited(app, ready):
    reviewer, _ = client_for(app, "rev")
    html = reviewer.get(f"/cases/{ready}").text
    img = re.search(r'<img src="(/cases/[^"]+/pages/1\.png)"', html).group(1)
    doc_id = int(img.split("/")[4])
    r = reviewer.get(img)
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG") and r.headers["content-type"] == "image/png"
    assert TestClient(app).get(img, follow_redirects=False).status_code == 303
    assert reviewer.get(img.replace("1.png", "9.png")).status_code == 404
    assert reviewer.get(f"/cases/{ready}/documents/{doc_id + 999}").status_code == 404
    download = reviewer.get(f"/cases/{ready}/documents/{doc_id}")
    assert download.content == sample_upload()[1]
    assert download.headers["content-disposition"] == 'attachment; filename="fax_packet.pdf"'
    admin, _ = client_for(app, "ada")
    audit = admin.get("/admin/audit", params={"case_id": ready}).text
    for action in ("case_viewed", "page_viewed", "document_downloaded"):
        assert action in audit


def test_decision_form_records_decision_and_overrides_without_logging_the_note(app, ready, caplog):
    reviewer, csrf = client_for(app, "rev")
    form = {"csrf_token": csrf, "decision": "approve", "note": NOTE, "override_epilepsy": "present"}
    assert reviewer.post(f"/cases/{ready}/decision", data={**form, "csrf_token": "x"}).status_code == 403
    assert reviewer.post(f"/cases/{ready}/decision", data={**form, "decision": "deny"}).status_code == 422
    with caplog.at_level(logging.DEBUG):
        r = reviewer.post(f"/cases/{ready}/decision", data=form, follow_redirects=True)
    assert r.status_code == 200
    assert "approve" in r.text and "epilepsy: not_found → present" in r.text and "by rev" in r.text
    assert NOTE not in caplog.text
    admin, _ = client_for(app, "ada")
    assert "decision_recorded" in admin.get("/admin/audit").text
    csv = admin.get("/admin/audit.csv").text
    assert "approve; overrides: epilepsy=present" in csv and NOTE not in csv


def test_admin_adds_users_from_the_page(app):
    admin, csrf = client_for(app, "ada")
    r = admin.post("/admin/users", data={"csrf_token": csrf, "name": "md1", "role": "reviewer", "password": "short"})
    assert r.status_code == 422 and "at least 8" in r.text
    r = admin.post("/admin/users", data={"csrf_token": csrf, "name": "md1", "role": "reviewer", "password": PASSWORD})
    assert r.status_code == 200 and "<td>md1</td>" in r.text
    assert admin.post("/admin/users", data={"name": "md2", "role": "admin", "password": PASSWORD}).status_code == 403
    md1, _ = client_for(app, "md1")
    r = admin.post("/admin/users/md1/active", data={"csrf_token": csrf, "active": "0"}, follow_redirects=False)
    assert r.status_code == 303
    assert md1.get("/queue", follow_redirects=False).status_code == 303  # their session ended at once
    assert "Deactivate" not in re.search(r"<td>md1</td>.*?</tr>", admin.get("/admin/users").text, re.S).group(0)


def test_logout_ends_the_session(app):
    client, csrf = client_for(app, "rev")
    assert client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    assert client.get("/queue", follow_redirects=False).status_code == 303


def test_a_case_imported_by_the_backfill_shows_its_pages_and_text(app, tmp_path):
    from extractor.case import prefill

    name, data = sample_upload()
    path = tmp_path / name
    path.write_bytes(data)
    state = app.state.extractor
    with state.factory() as session:
        store.save_imported_case(session, "backfill-case-7", [path], prefill([path]).review, state.data_dir)
        session.commit()
    reviewer, _ = client_for(app, "rev")
    html = reviewer.get("/cases/backfill-case-7").text
    assert html.count('<figure class="page"') == 3 and '<g id="box-' in html
    assert re.search(r'<mark id="mark-\d+" class="c-BRAIN_TUMOR ctx-none"[^>]*>glioblastoma</mark>', html)


def test_the_rationale_box_is_prefilled_with_the_draft_and_what_the_reviewer_sends_is_kept_beside_it(app, ready):
    state = app.state.extractor
    with state.factory() as s:
        draft = json.loads(store.load_review_json(s, ready))["rationale"]
    assert "NIA_CG_003" in draft  # a real draft to prefill, not an empty box
    reviewer, csrf = client_for(app, "rev")
    page = reviewer.get(f"/cases/{ready}").text
    box = re.search(r'<textarea name="rationale"[^>]*>(.*?)</textarea>', page, re.S)
    assert box and html.unescape(box.group(1)) == draft
    assert f'href="/cases/{ready}/fhir"' in page
    edited = draft + " Reviewer: the MRI of 03/01/2026 shows a new enhancing lesion; covered indication met."
    form = {"csrf_token": csrf, "decision": "approve", "rationale": edited.replace(". ", ".\r\n", 1)}
    assert reviewer.post(f"/cases/{ready}/decision", data={**form, "csrf_token": "forged"}).status_code == 403
    with state.factory() as s:
        assert all(d.rationale is None for d in store.decisions_for(s, ready))
    r = reviewer.post(f"/cases/{ready}/decision", data=form, follow_redirects=True)
    assert r.status_code == 200
    shown = re.findall(r'<div class="decided-rationale">(.*?)</div>', r.text, re.S)
    assert shown and "(edited)" in shown[-1] and "Reviewer: the MRI of 03/01/2026" in html.unescape(shown[-1])
    with state.factory() as s:
        saved = store.decisions_for(s, ready)[-1]
        assert saved.user.name == "rev" and saved.created_at is not None
        assert saved.rationale == edited.replace(". ", ".\n", 1)  # as sent, browser line ends normalised
        assert json.loads(store.load_review_json(s, ready))["rationale"] == draft  # the draft is untouched
    # the next decision starts from that rationale, not the draft: recording it again keeps the reviewer's edit
    box = re.search(r'<textarea name="rationale"[^>]*>(.*?)</textarea>', r.text, re.S)
    assert html.unescape(box.group(1)) == edited.replace(". ", ".\n", 1)


def test_the_fhir_bundle_download_from_the_case_page_is_authenticated_and_audited(app, ready):
    anonymous = TestClient(app)
    assert anonymous.get(f"/cases/{ready}/fhir", follow_redirects=False).status_code == 303
    intake, _ = client_for(app, "ina")
    assert intake.get(f"/cases/{ready}/fhir").status_code == 200  # the read policy: the uploader reads its bundle
    reviewer, csrf = client_for(app, "rev")
    assert reviewer.get("/cases/nope/fhir").status_code == 404
    note = "Spectroscopy supports recurrence over necrosis: approve."
    reviewer.post(f"/cases/{ready}/decision", data={"csrf_token": csrf, "decision": "approve", "rationale": note})
    r = reviewer.get(f"/cases/{ready}/fhir")
    assert r.status_code == 200 and r.headers["content-type"] == "application/fhir+json"
    assert r.headers["content-disposition"] == f'attachment; filename="case-{ready[:8]}-fhir.json"'
    bundle = fhir.validate(r.json())
    qr = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse")
    summary = next(g for g in qr["item"] if g["linkId"] == "summary")
    rationale = next(i for i in summary["item"] if i["linkId"] == "rationale")["answer"][0]
    assert rationale["valueString"] == note
    doc = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference")
    assert re.fullmatch(rf"http://testserver/cases/{ready}/documents/\d+", doc["content"][0]["attachment"]["url"])
    admin, _ = client_for(app, "ada")
    assert "fhir download" in admin.get("/admin/audit", params={"case_id": ready}).text


def test_the_server_never_opens_a_pdf_pages_and_images_come_from_intake(app, ready, monkeypatch, tmp_path):
    """Page sizes and images are made at intake by the bounded PDF worker and kept 0600 under the data dir;
    reading the case page, its images and the review (also of a case the backfill imported, whose views are
    made on first view) never calls pdfium or pdfplumber in the server process."""
    import stat

    import pdfplumber
    import pypdfium2

    from extractor.case import prefill

    state = app.state.extractor
    renders = sorted((state.data_dir / "renders").glob("*.png"))
    with state.factory() as session:
        stored = store.get_case(session, ready).documents[0].stored_name
    mine = [p for p in renders if p.name.startswith(stored)]
    assert len(mine) == 3 and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in mine)
    name, data = sample_upload()
    path = tmp_path / name
    path.write_bytes(data)
    with state.factory() as session:
        store.save_imported_case(session, "backfill-case-9", [path], prefill([path]).review, state.data_dir)
        session.commit()

    def no_pdf(*_args, **_kwargs):
        raise AssertionError("the server process opened a PDF")

    monkeypatch.setattr(pypdfium2, "PdfDocument", no_pdf)
    monkeypatch.setattr(pdfplumber, "open", no_pdf)
    reviewer, _ = client_for(app, "rev")
    for case_id in (ready, "backfill-case-9"):
        html = reviewer.get(f"/cases/{case_id}").text
        assert html.count('<figure class="page"') == 3
        for img in re.findall(r'<img src="(/cases/[^"]+/pages/\d+\.png)"', html):
            r = reviewer.get(img)
            assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    token = reviewer.post("/api/token", data={"username": "rev", "password": PASSWORD}).json()["access_token"]
    r = reviewer.get(f"/api/cases/{ready}", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and sum(d["pages"] for d in r.json()["review"]["documents"]) == 3


def test_purging_a_case_removes_its_files_images_and_cache_entries_no_other_case_holds(app):
    import sqlalchemy as sa

    from tests.helpers import make_pdf

    state = app.state.extractor
    pdf = ("purge.pdf", make_pdf([["NEUROLOGY NOTE", "Glioblastoma, recurrence versus radiation necrosis."]]))
    with state.factory() as session:
        first, _ = store.create_case(session, None, [pdf], state.data_dir)
        second, _ = store.create_case(session, None, [pdf], state.data_dir)
        session.commit()
    while worker.process_one(state.factory, state.data_dir):  # these two, and any left queued before
        pass
    with state.factory() as session:
        sha = store.get_case(session, first.id).documents[0].sha256
        names = [store.get_case(session, c.id).documents[0].stored_name for c in (first, second)]

    def kept() -> tuple[int, list[str]]:
        with state.factory() as session:
            rows = session.scalar(
                sa.select(sa.func.count()).select_from(store.cache_table).where(store.cache_table.c.sha256 == sha)
            )
        files = sorted(p.name for p in state.data_dir.rglob("*") if any(n in p.name for n in names))
        return rows, files

    rows, files = kept()
    assert rows == 1 and len(files) == 4  # two uploads, one page image each, one cache entry for both
    with state.factory() as session:
        assert store.purge_case(session, first.id, state.data_dir)
        session.commit()
    rows, files = kept()
    assert rows == 1 and files == sorted([names[1], f"{names[1]}-1.png"])  # the other case still holds it
    with state.factory() as session:
        assert store.purge_case(session, second.id, state.data_dir)
        with pytest.raises(store.StoreError):
            store.purge_case(session, second.id, state.data_dir)
        session.commit()
        assert store.get_case(session, second.id) is None
    assert kept() == (0, [])


def test_the_upload_form_sets_the_clock_shown_on_intake_and_beside_the_decision_form(app):
    intake, csrf = client_for(app, "ina")
    form = intake.get("/intake").text
    assert 'name="urgency"' in form and 'name="received_at"' in form
    r = intake.post("/intake/upload", data={"csrf_token": csrf, "urgency": "expedited",
                                            "received_at": "2026-03-03T14:05"},
                    files=[("files", sample_upload())], follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    case_id = r.headers["location"].split("case=")[1]
    row = intake.get("/intake").text.split(f'id="row-{case_id}"')[1].split("</tr>")[0]
    assert "expedited · overdue" in row and "received 2026-03-03T14:05:00Z (given)" in row
    bad = intake.post(
        "/intake/upload", data={"csrf_token": csrf, "urgency": "soon"}, files=[("files", sample_upload())]
    )
    assert bad.status_code == 400 and "urgency: must be one of expedited, standard" in bad.text
    state = app.state.extractor
    while worker.process_one(state.factory, state.data_dir) not in (case_id, None):
        pass
    reviewer, _ = client_for(app, "rev")
    page = reviewer.get(f"/cases/{case_id}").text
    clock = page.split('id="case-clock"')[1].split("</p>")[0]
    assert "<strong>expedited</strong> (given)" in clock and "due 2026-03-06T14:05:00Z" in clock and "overdue" in clock
    queue = reviewer.get("/queue?urgency=expedited&overdue=yes").text
    assert f'data-case="{case_id}"' in queue and 'class="clock overdue"' in queue
    assert f'data-case="{case_id}"' not in reviewer.get("/queue?urgency=standard").text
