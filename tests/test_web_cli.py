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
