"""Web latency: case page and API review read under 20 concurrent readers; upload of a 3-page PDF to ready.

Starts `extractor serve` (one worker process, SQLite in a temporary data dir) on a free loopback port and
measures against a baseline taken in the same run: the trivial /healthz route under the same load.
Targets: case page p95 < 200 ms, API review read p95 < 100 ms, upload to ready < 5 s. The FHIR Bundle read
(built and validated with fhir.resources per request) is reported without a target.

Beside each latency, the server process's CPU per request over the same requests (from /proc, Linux): on a
shared machine the latencies move with the other jobs' load, the CPU a read costs much less.

Cold reads: 20 cases uploaded, none read before; 20 readers start at once, reader i reading case i first,
then the others in turn, so the first round is 20 cold reads of 20 different cases (the API reads first,
then the case pages, whose rendered fragments are not built until a case page is asked for; then the page
images, rendered at intake and read from disk).
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor import store  # noqa: E402
from tests.helpers import PASSWORD, SAMPLE_PAGES, add_users, make_pdf  # noqa: E402

READERS = 20
REQUESTS_PER_READER = 25
UPLOADS = 5
COLD_CASES = 20


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """Server CPU ms per request, per measured phase; and this process's (the load generator's: the readers
    share the machine's cores with the server, so what they cost is CPU the server does not get)."""

    def __init__(self, pid: int):
        self.pid, self.per_request, self.client = pid, {}, {}

    def measure(self, label: str, run, *args, **kwargs):
        before, mine = server_cpu(self.pid), time.process_time()
        result = run(*args, **kwargs)
        times = result[1] if isinstance(result, tuple) else result
        self.per_request[label] = (server_cpu(self.pid) - before) * 1000 / len(times)
        self.client[label] = (time.process_time() - mine) * 1000 / len(times)
        return result


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(client: httpx.Client, headers: dict, case_id: str, timeout: float = 60) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = client.get(f"/api/cases/{case_id}", headers=headers).json()["status"]
        if status in ("ready", "failed"):
            assert status == "ready", status
            return time.perf_counter()
        time.sleep(0.02)
    raise TimeoutError(case_id)


def page_session(base: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token})
    assert r.status_code in (200, 303), r.status_code
    return client


async def _get(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """One GET on a kept-alive connection, its whole body read; the status."""
    writer.write(request)
    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin1").split("\r\n")
    fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:] if line)}
    if "content-length" in fields:
        await reader.readexactly(int(fields["content-length"]))
    elif fields.get("transfer-encoding") == "chunked":
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")
    return int(head[0].split(" ", 2)[1])


async def _lean(port: int, requests: list[list[bytes]]) -> list[list[float]]:
    """Reader i sends requests[i] in turn on its own connection; all readers connected first, then started at
    once. One asyncio loop for all: ~0.1 ms of this process's CPU a request against ~0.8 ms for 20 threads of
    httpx, whose GIL also holds a reader whose answer has come while another thread parses its own."""
    conns = [await asyncio.open_connection("127.0.0.1", port) for _ in requests]
    go = asyncio.Event()

    async def reader(i: int) -> list[float]:
        r, w = conns[i]
        mine = []
        await go.wait()
        for request in requests[i]:
            t = time.perf_counter()
            status = await _get(r, w, request)
            mine.append((time.perf_counter() - t) * 1000)
            assert status == 200, (request.split(b" ")[1], status)
        return mine

    tasks = [asyncio.ensure_future(reader(i)) for i in range(len(requests))]
    await asyncio.sleep(0)
    go.set()
    result = await asyncio.gather(*tasks)
    for _, w in conns:
        w.close()
    return result


def _threaded(clients: list[httpx.Client], paths: list[list[str]], headers: dict | None) -> list[list[float]]:
    """The same with one httpx client per reader, each in its own thread (this benchmark's client until
    2026-12-03; `--httpx-client`)."""
    out: list[list[float]] = [[] for _ in clients]
    start = threading.Barrier(len(clients))

    def reader(i: int) -> None:
        start.wait()
        for path in paths[i]:
            t = time.perf_counter()
            r = clients[i].get(path, headers=headers)
            out[i].append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, (path, r.status_code)

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


HTTPX_CLIENT = "--httpx-client" in sys.argv


def run_readers(clients: list[httpx.Client], paths: list[list[str]], headers: dict | None) -> list[list[float]]:
    """Reader i (with clients[i]'s session cookie, and `headers`) requests paths[i] in turn, all at once; each
    reader's latencies in ms."""
    if HTTPX_CLIENT:
        return _threaded(clients, paths, headers)
    port = int(str(clients[0].base_url).rstrip("/").rsplit(":", 1)[1])
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    requests = []
    for client, mine in zip(clients, paths, strict=True):
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        lines = f"Host: 127.0.0.1:{port}\r\n{extra}" + (f"Cookie: {cookie}\r\n" if cookie else "")
        requests.append([f"GET {path} HTTP/1.1\r\n{lines}\r\n".encode() for path in mine])
    return asyncio.run(_lean(port, requests))


def load(clients: list[httpx.Client], path: str, headers: dict | None = None) -> list[float]:
    """Every client requests `path` REQUESTS_PER_READER times at once; the latencies in ms."""
    per_reader = run_readers(clients, [[path] * REQUESTS_PER_READER for _ in clients], headers)
    return [t for mine in per_reader for t in mine]


def load_cold(clients: list[httpx.Client], paths: list[str], headers: dict | None = None) -> tuple[list, list]:
    """Reader i reads paths[i] first, then every other path in turn, all readers at once; the latencies
    (ms) of the first round (every read cold) and of all reads."""
    plans = [[paths[(i + k) % len(paths)] for k in range(len(paths))] for i in range(len(clients))]
    per_reader = run_readers(clients, plans, headers)
    return [mine[0] for mine in per_reader], [t for mine in per_reader for t in mine]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        _, factory = store.open_store(store.default_url(data))
        add_users(factory)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        proc = subprocess.Popen(
            [sys.executable, "-m", "extractor.cli", "serve", "--port", str(port), "--data-dir", str(data)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            api = httpx.Client(base_url=base, timeout=30)
            for _ in range(200):
                try:
                    api.get("/healthz")
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            token = api.post("/api/token", data={"username": "ina", "password": PASSWORD}).json()["access_token"]
            auth = {"Authorization": f"Bearer {token}"}

            def upload(i: int) -> tuple[str, float]:
                pages = [list(p) for p in SAMPLE_PAGES]
                pages[0].append(f"Reference {i}")  # a different file each time (no duplicate)
                pdf = make_pdf(pages)
                t = time.perf_counter()
                r = api.post("/api/cases", headers=auth, files=[("files", ("packet.pdf", pdf))])
                case_id = r.json()["id"]
                return case_id, wait_ready(api, auth, case_id) - t

            case_id, first = upload(0)  # includes the worker's one-off pipeline load
            timings = [upload(i)[1] for i in range(1, UPLOADS + 1)]
            cold_ids = [upload(1000 + i)[0] for i in range(COLD_CASES)]

            readers = [page_session(base, "rev") for _ in range(READERS)]
            rev_token = api.post("/api/token", data={"username": "rev", "password": PASSWORD}).json()
            rev = {"Authorization": f"Bearer {rev_token['access_token']}"}
            # the server process warmed on another case (templates compiled); the 20 cases stay unread
            readers[0].get(f"/cases/{case_id}")
            api.get(f"/api/cases/{case_id}", headers=rev)
            cpu = CpuMeter(proc.pid)
            cold_api = cpu.measure("cold API", load_cold, readers, [f"/api/cases/{c}" for c in cold_ids], headers=rev)
            cold_page = cpu.measure("cold page", load_cold, readers, [f"/cases/{c}" for c in cold_ids])
            doc_ids = [
                re.search(r'<img src="(/cases/[^"]+/pages/)1\.png"', readers[0].get(f"/cases/{c}").text).group(1)
                for c in cold_ids
            ]
            cold_image = cpu.measure("cold image", load_cold, readers, [f"{d}2.png" for d in doc_ids])
            load(readers[:2], f"/cases/{case_id}")  # warm up: page images are not part of the page
            health = cpu.measure("healthz", load, readers, "/healthz")
            page = cpu.measure("page", load, readers, f"/cases/{case_id}")
            review = cpu.measure("API", load, readers, f"/api/cases/{case_id}", headers=rev)
            bundle = cpu.measure("bundle", load, readers, f"/api/cases/{case_id}/fhir", headers=rev)
            size = len(api.get(f"/api/cases/{case_id}", headers=rev).content)
        finally:
            proc.terminate()
            proc.wait(20)

    base_p95 = p95(health)
    kind = "httpx, a thread per reader" if HTTPX_CLIENT else "one asyncio loop, a kept-alive connection per reader"
    print(f"web latency, {READERS} concurrent readers x {REQUESTS_PER_READER} requests, SQLite, 1 server process")
    print(f"  load generator: {kind} (its CPU a request is printed as client)")
    per = cpu.per_request
    print(
        f"  baseline /healthz        p50 {statistics.median(health):6.1f} ms  p95 {base_p95:6.1f} ms  "
        f"server CPU {per['healthz']:.2f} ms a request, "
        f"client CPU {cpu.client['healthz']:.2f} ms"
    )
    for label, values, target, key in (("case page", page, 200, "page"), ("API review read", review, 100, "API")):
        q = p95(values)
        verdict = "met" if q < target else "NOT met"
        print(
            f"  {label:<24} p50 {statistics.median(values):6.1f} ms  p95 {q:6.1f} ms  "
            f"({q / base_p95:.1f}x baseline; target < {target} ms: {verdict})  server CPU {per[key]:.2f} ms a read, "
            f"client {cpu.client[key]:.2f} ms"
        )
    print(
        f"  {'FHIR Bundle read':<24} p50 {statistics.median(bundle):6.1f} ms  p95 {p95(bundle):6.1f} ms  "
        f"({p95(bundle) / base_p95:.1f}x baseline; no target)  server CPU {per['bundle']:.2f} ms a read"
    )
    print(f"  (review JSON {size / 1024:.0f} KB)")
    print(f"cold reads: {COLD_CASES} cases none read before, {READERS} readers at once, each case once per reader")
    for label, (first_round, values), target, key in (
        ("API review read", cold_api, 100, "cold API"),
        ("case page", cold_page, 200, "cold page"),
        ("page image (from disk)", cold_image, None, "cold image"),
    ):
        q = p95(values)
        verdict = f"target < {target} ms: {'met' if q < target else 'NOT met'}" if target else "no target"
        print(
            f"  {label:<24} p50 {statistics.median(values):6.1f} ms  p95 {q:6.1f} ms  "
            f"first (cold) round p95 {p95(first_round):6.1f} ms, max {max(first_round):6.1f} ms  ({verdict})  "
            f"server CPU {per[key]:.2f} ms a read, client {cpu.client[key]:.2f} ms"
        )
    worst = max(timings)
    print(
        f"upload of a 3-page text PDF to ready: median {statistics.median(timings):.2f} s, worst {worst:.2f} s "
        f"over {UPLOADS} uploads (first after start, with pipeline load: {first:.2f} s); "
        f"target < 5 s: {'met' if worst < 5 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
