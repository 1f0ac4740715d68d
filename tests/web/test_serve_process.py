"""`extractor serve` as a real process: SIGTERM to it, or to its whole process group, ends the server and every
worker (the PDF readers included) within 10 s, the case in hand goes back to the queue; what it wrote is private."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest

from extractor import store
from tests.helpers import SAMPLES


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _slow_case(data_dir) -> str:
    """A case of scanned fax packets: OCR keeps a worker busy with it for a while."""
    files = [(f"{p.parent.parent.name}-{p.name}", p.read_bytes()) for p in sorted(SAMPLES.glob("*/fax/*.pdf"))]
    _, factory = store.open_store(store.default_url(data_dir))
    with factory() as s:
        case, _ = store.create_case(s, None, files, data_dir)
        s.commit()
    return case.id


def _status(data_dir, case_id):
    _, factory = store.open_store(store.default_url(data_dir))
    with factory() as s:
        case = store.get_case(s, case_id)
        return case.status, case.attempts, case.claimed_by


def _alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.mark.parametrize("target", ["process", "group"])
def test_sigterm_ends_server_and_workers_within_10_s_and_hands_the_case_back(tmp_path, target):
    logs, tmp_path = tmp_path, tmp_path / "data"  # the data dir is created by the store, under umask 022
    os.umask(0o022)
    case_id = _slow_case(tmp_path)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EXTRACTOR_")}
    cmd = [sys.executable, "-m", "extractor.cli", "serve", "--data-dir", str(tmp_path), "--port", str(port)]
    log = (logs / "serve.log").open("wb")
    server = subprocess.Popen(
        [*cmd, "--workers", "1"], stdout=log, stderr=log, env=env, start_new_session=True, umask=0o022
    )
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and _status(tmp_path, case_id)[0] != "processing":
            assert server.poll() is None, (logs / "serve.log").read_text()[-2000:]
            time.sleep(0.2)
        assert _status(tmp_path, case_id)[0] == "processing"
        urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read()
        time.sleep(1.0)  # into the case: the PDF reader is running
        family = psutil.Process(server.pid).children(recursive=True)
        assert family, "no worker processes"
        started = time.monotonic()
        if target == "group":
            os.killpg(server.pid, signal.SIGTERM)
        else:
            server.send_signal(signal.SIGTERM)
        server.wait(timeout=10)
        assert time.monotonic() - started < 10
        deadline = time.monotonic() + 10 - (time.monotonic() - started)
        while _alive(family) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(family), [p.cmdline()[-3:] for p in _alive(family)]
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
    status, attempts, claimed_by = _status(tmp_path, case_id)
    text = (logs / "serve.log").read_text()
    assert "restarting" not in text
    assert (status, claimed_by) in (("queued", None), ("ready", None)), text[-2000:]
    assert attempts == (0 if status == "queued" else 1)
    assert_private(tmp_path)


def assert_private(folder) -> None:
    """The folder and everything under it: folders 0700, files 0600 (listed, so a failure names them)."""
    loose = {
        str(p.relative_to(folder.parent)): oct(p.stat().st_mode & 0o777)
        for p in [folder, *folder.rglob("*")]
        if p.stat().st_mode & 0o777 != (0o700 if p.is_dir() else 0o600)
    }
    assert loose == {}


def test_page_renders_are_private(tmp_path):
    from extractor.web.page_images import page_png
    from tests.helpers import make_pdf

    os.umask(0o022)
    source = tmp_path / "doc.pdf"
    source.write_bytes(make_pdf([["hello"]]))
    page_png(source, tmp_path / "renders", 1)
    assert_private(tmp_path / "renders")
