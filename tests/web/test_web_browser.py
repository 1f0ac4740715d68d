"""One real-browser scenario (Debian's Chromium through Playwright) against `extractor serve`.

Intake uploads the sample fax, waits for ready; a reviewer opens the case, clicks an evidence item, sees
its box drawn on the page image, records a decision. Screenshots go to test-artifacts/ (gitignored).
"""

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from extractor import store
from tests.helpers import PASSWORD, ROOT, add_users, browser_upload, needs

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SHOTS = ROOT / "test-artifacts" / "browser"

pytestmark = needs(Path(CHROMIUM).exists(), "Debian chromium (CI installs it)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path):
    data = tmp_path / "data"
    _, factory = store.open_store(store.default_url(data))
    add_users(factory)
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "extractor.cli", "serve", "--port", str(port), "--data-dir", str(data)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError("server did not start: " + (tmp_path / "serve.log").read_text()[-2000:])
        yield base
    finally:
        proc.terminate()
        proc.wait(20)
        log.close()
    assert "Traceback" not in (tmp_path / "serve.log").read_text()


def log_in(page, base: str, name: str) -> None:
    page.goto(base + "/login")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_load_state("networkidle")


def test_intake_to_decision_in_a_real_browser(server, tmp_path):
    from playwright.sync_api import sync_playwright

    if SHOTS.exists():
        shutil.rmtree(SHOTS)
    SHOTS.mkdir(parents=True)
    name, data = browser_upload()
    upload = tmp_path / name
    upload.write_bytes(data)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

            log_in(page, server, "ina")
            assert page.url.endswith("/intake")
            page.set_input_files("#files", str(upload))
            page.click("#upload-button")
            page.wait_for_selector("#upload-result")
            case_id = page.get_attribute("#intake-cases tr[data-case]", "data-case")
            # the status cell turns ready without a reload (the page polls)
            page.wait_for_selector(f"#row-{case_id} .st-ready", timeout=90_000)
            page.screenshot(path=str(SHOTS / "1-intake-ready.png"), full_page=True)
            context.clear_cookies()

            log_in(page, server, "rev")
            assert page.url.endswith("/queue")
            page.click(f'#queue a[href="/cases/{case_id}"]')
            page.wait_for_selector("#documents figure.page img")
            page.screenshot(path=str(SHOTS / "2-case.png"))

            # the first evidence item of an indication that is drawn on a page image
            item = page.locator('.indication button.evidence[data-target^="box-"]').first
            target = item.get_attribute("data-target")
            assert target.startswith("box-")
            item.click()
            box = page.locator(f"#{target}")
            assert "active" in box.get_attribute("class")
            figure = page.locator(f"figure.page:has(#{target})")
            figure.locator("img").evaluate("img => img.decode()")
            assert figure.locator("img").evaluate("img => img.naturalWidth") > 500  # the page image loaded
            img_box = figure.locator("img").bounding_box()
            rect = box.bounding_box()
            assert rect["width"] > 10 and rect["height"] > 4
            assert img_box["x"] <= rect["x"] and rect["x"] + rect["width"] <= img_box["x"] + img_box["width"]
            assert img_box["y"] <= rect["y"] and rect["y"] + rect["height"] <= img_box["y"] + img_box["height"]
            assert 0 <= rect["y"] <= 900 - rect["height"]  # scrolled into view
            assert box.evaluate("r => getComputedStyle(r).stroke") not in ("none", "")
            page_no = int(figure.get_attribute("id").rsplit("-", 1)[1])
            assert f"p.{page_no}" in item.inner_text()  # the box is on the page the item names
            figure.screenshot(path=str(SHOTS / "3-evidence-box.png"))

            page.check("input[name=decision][value=refer_to_physician]")
            page.fill("textarea[name=note]", "Margin change: physician to review.")
            draft = page.input_value("#rationale")
            assert "NIA_CG_003" in draft  # the drafted rationale, ready to edit
            page.fill("#rationale", draft + " Physician to confirm recurrence.")
            page.click("#decide-button")
            page.wait_for_selector(".decided")
            assert "refer to physician" in page.inner_text(".decided")
            assert "by rev" in page.inner_text(".decided")
            assert "Physician to confirm recurrence." in page.inner_text(".decided-rationale")
            page.screenshot(path=str(SHOTS / "4-decided.png"))
            assert errors == []  # no CSP violation or script error
        finally:
            browser.close()


def test_the_queue_shows_time_left_and_marks_the_overdue_in_a_real_browser(server, tmp_path):
    """Cases received at set times: the queue lists the overdue expedited case first, in red, and the standard
    one with its days and hours left; the urgency and overdue filters narrow the list."""
    from datetime import timedelta

    from playwright.sync_api import sync_playwright

    _, factory = store.open_store(store.default_url(tmp_path / "data"))
    now = store.utcnow()
    made = {}
    with factory() as s:
        for name, urgency, ago in (("late", "expedited", timedelta(hours=80, minutes=30)),
                                   ("fresh", "standard", timedelta(hours=24, minutes=30))):  # fmt: skip
            case, _ = store.create_case(s, None, [(f"{name}.txt", b"Office note.\n")], tmp_path / "data",
                                        urgency=urgency, received_at=now - ago)  # fmt: skip
            store.finish_case(s, case, {"recommendation": "needs_clinical_review", "request": {}})
            made[name] = case.id
        s.commit()
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            log_in(page, server, "rev")
            assert page.url.endswith("/queue")
            rows = page.locator("#queue tbody tr[data-case]")
            assert [rows.nth(i).get_attribute("data-case") for i in range(rows.count())] == [
                made["late"],
                made["fresh"],
            ]
            late = page.locator(f'#queue tr[data-case="{made["late"]}"] td.clock')
            fresh = page.locator(f'#queue tr[data-case="{made["fresh"]}"] td.clock')
            assert late.inner_text().strip() in ("overdue 8 h", "overdue 9 h")
            assert "overdue" in late.get_attribute("class")
            assert late.evaluate("td => getComputedStyle(td).color") == "rgb(179, 38, 30)"  # red
            assert fresh.inner_text().strip() in ("5 d 23 h left", "5 d 22 h left")
            assert "overdue" not in fresh.get_attribute("class")
            assert fresh.evaluate("td => getComputedStyle(td).color") != "rgb(179, 38, 30)"
            assert page.locator(f'#queue tr[data-case="{made["late"]}"] .badge.expedited').count() == 1
            page.screenshot(path=str(SHOTS / "5-queue-clock.png"), full_page=True)
            page.select_option("select[name=urgency]", "standard")
            page.click(".filters button[type=submit]")
            page.wait_for_load_state("networkidle")
            assert page.locator("#queue tbody tr[data-case]").count() == 1
            assert page.get_attribute("#queue tbody tr[data-case]", "data-case") == made["fresh"]
            page.select_option("select[name=urgency]", "")
            page.check("input[name=overdue]")
            page.click(".filters button[type=submit]")
            page.wait_for_load_state("networkidle")
            assert [r.get_attribute("data-case") for r in page.locator("#queue tbody tr[data-case]").all()] == [
                made["late"]
            ]
        finally:
            browser.close()
