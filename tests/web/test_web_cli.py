"""`extractor users add` from the command line: password from stdin, same store as serve."""

import subprocess
import sys

from extractor import store


def users_add(*args, password="long enough pw"):
    return subprocess.run(
        [sys.executable, "-m", "extractor.cli", "users", "add", *args],
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_users_add_creates_a_user_serve_can_authenticate(tmp_path):
    out = users_add("nurse.kim", "--role", "reviewer", "--data-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    assert "long enough pw" not in out.stdout + out.stderr
    _, factory = store.open_store(store.default_url(tmp_path))
    with factory() as s:
        assert store.authenticate(s, "nurse.kim", "long enough pw").role == "reviewer"


def test_users_add_errors_are_one_line(tmp_path):
    users_add("ina", "--role", "intake", "--data-dir", str(tmp_path))
    again = users_add("ina", "--role", "intake", "--data-dir", str(tmp_path))
    assert again.returncode == 2 and again.stderr.strip() == "error: user 'ina' exists"
    short = users_add("bob", "--role", "intake", "--data-dir", str(tmp_path), password="short")
    assert short.returncode == 2 and short.stderr.strip() == "error: password must have at least 8 characters"
    role = users_add("bob", "--role", "root", "--data-dir", str(tmp_path))
    assert role.returncode == 2 and "invalid choice" in role.stderr
    both = users_add("bob", "--role", "intake", "--data-dir", str(tmp_path), "--db", "sqlite://")
    assert both.returncode == 2 and "not allowed with" in both.stderr


def test_a_database_that_cannot_be_opened_is_one_line_without_the_password(tmp_path):
    url = "postgresql+psycopg://someone:hunter22@127.0.0.1:1/nowhere"
    out = users_add("bob", "--role", "intake", "--db", url)
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "error: cannot use database postgresql+psycopg://someone:***@127.0.0.1:1/nowhere (OperationalError)"
    )
    bad = users_add("bob", "--role", "intake", "--db", "not a url")
    assert bad.returncode == 2 and bad.stderr.startswith("error: --db: not a database URL")


def test_installed_wheel_migrates_and_serves_its_own_templates(tmp_path, installed_wheel):
    target = installed_wheel
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from extractor import store; assert str(store.migrations_dir()).startswith(sys.argv[1]);"
        "from fastapi.testclient import TestClient; from extractor.web import create_app;"
        "app = create_app(data_dir='d', workers=0); import extractor.web.pages as p;"
        "assert str(p.templates.env.loader.searchpath[0]).startswith(sys.argv[1]);"
        "r = TestClient(app).get('/login'); assert r.status_code == 200 and 'login-form' in r.text, r.status_code;"
        "assert TestClient(app).get('/static/app.js').status_code == 200"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(target)], cwd=elsewhere, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert (elsewhere / "d" / "extractor.db").is_file()


def test_demo_queues_every_sample_case_and_each_rendered_fax_once(tmp_path):
    from extractor.web.commands import load_demo
    from tests.helpers import SAMPLES

    _, factory = store.open_store(store.default_url(tmp_path))
    cases = sum(1 for p in SAMPLES.iterdir() if p.is_dir())
    faxes = len(list(SAMPLES.glob("*/fax/packet.pdf")))
    assert faxes >= 1
    assert load_demo(factory, tmp_path, SAMPLES) == cases + faxes
    assert load_demo(factory, tmp_path, SAMPLES) == 0
