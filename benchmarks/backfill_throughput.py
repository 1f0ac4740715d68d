"""Backfill throughput, worker memory and resume time, against a baseline measured in the same run.

Cases are ~600-word text notes cut from the sample notes (real clinical prose, varied). Measured:
- cases/s with 1 and with 2 local workers (steady state: from the first finished case to the last), and the ratio;
- RSS of every worker process over a long run (after warm-up versus the peak later; target: within 10%);
- the time of `extractor backfill` re-run over the finished long job (target < 5 s).

    python benchmarks/backfill_throughput.py              # 10,000 cases for memory and resume
    python benchmarks/backfill_throughput.py --cases 1000 # a quicker run
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from extractor.batch import backfill, progress

ROOT = Path(__file__).resolve().parent.parent
WORDS_PER_CASE = 600


def make_cases(folder: Path, n: int) -> None:
    """n case files of ~600 words, each a different window over the sample notes' text."""
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted((ROOT / "sample_notes").glob("*/*.txt"))]
    lines = [line for t in texts for line in t.splitlines()]
    folder.mkdir(parents=True)
    for i in range(n):
        start = (i * 37) % len(lines)
        chunk, words = [], 0
        j = start
        while words < WORDS_PER_CASE:
            line = lines[j % len(lines)]
            chunk.append(line)
            words += len(re.findall(r"\S+", line))
            j += 1
        (folder / f"case{i:05d}.txt").write_text(f"Case reference {i}\n" + "\n".join(chunk) + "\n")


class Meter:
    """Progress callbacks: steady-state rate and worker RSS samples."""

    def __init__(self, sample_every: int = 0):
        self.first: tuple[float, int] | None = None
        self.last: tuple[float, int] | None = None
        self.sample_every = sample_every
        self.next_sample = 0
        self.rss: list[tuple[int, dict[int, int]]] = []
        self.cpu_first = self.cpu_last = 0.0

    def __call__(self, p: progress.Progress) -> None:
        now = time.perf_counter()
        if self.first is None:
            self.first = (now, p.done)
            self.cpu_first = worker_cpu()
        self.last = (now, p.done)
        if self.sample_every == 0:
            self.cpu_last = worker_cpu()
        if self.sample_every and p.done >= self.next_sample:
            self.next_sample = p.done + self.sample_every
            self.rss.append((p.done, worker_rss()))

    def cpu_per_case(self) -> float:
        """Worker CPU seconds per case: what a case costs whatever else loads the machine."""
        assert self.first and self.last
        return (self.cpu_last - self.cpu_first) / max(1, self.last[1] - self.first[1])

    def rate(self) -> float:
        assert self.first and self.last and self.last[0] > self.first[0]
        return (self.last[1] - self.first[1]) / (self.last[0] - self.first[0])


def _workers() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        try:
            cmd = " ".join(child.cmdline())
        except psutil.Error:
            continue
        if "spawn_main" in cmd and "resource_tracker" not in cmd:
            found.append(child)
    return found


def worker_cpu() -> float:
    total = 0.0
    for w in _workers():
        try:
            t = w.cpu_times()
            total += t.user + t.system
        except psutil.Error:
            pass
    return total


def worker_rss() -> dict[int, int]:
    """RSS of the LocalCluster worker processes (our spawned children running the Dask worker)."""
    found = {}
    for child in psutil.Process().children(recursive=True):
        try:
            if "spawn_main" in " ".join(child.cmdline()) and "resource_tracker" not in " ".join(child.cmdline()):
                found[child.pid] = child.memory_info().rss
        except psutil.Error:
            pass
    return found


def run(folder: Path, out: Path, workers: int, meter: Meter) -> backfill.JobResult:
    return backfill.run_backfill(folder, out, workers=workers, on_progress=meter)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000, help="cases for the memory and resume runs")
    ap.add_argument("--rate-cases", type=int, default=400, help="cases for each throughput run")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="backfill-bench-") as tmp:
        tmp_path = Path(tmp)
        small = tmp_path / "small"
        make_cases(small, args.rate_cases)
        rates = {}
        for workers in (1, 2):
            meter = Meter()
            run(small, tmp_path / f"rate{workers}.jsonl", workers, meter)
            rates[workers] = meter.rate()
            cpu = meter.cpu_per_case()
            print(
                f"{workers} worker(s): {rates[workers]:.1f} cases/s over {args.rate_cases} ~600-word cases; "
                f"{cpu * 1000:.0f} ms worker CPU per case ({workers / cpu:.1f} cases/s if {workers} cores were free)"
            )
        ratio = rates[2] / rates[1]
        print(f"load average during the runs: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"2 workers / 1 worker: {ratio:.2f}x (target >= 1.7x); 2 workers {rates[2]:.1f} cases/s (target >= 40)")

        big = tmp_path / "big"
        make_cases(big, args.cases)
        out = tmp_path / "big.jsonl"
        meter = Meter(sample_every=max(1, args.cases // 20))
        started = time.perf_counter()
        job = run(big, out, 2, meter)
        wall = time.perf_counter() - started
        print(f"long run: {job.processed} cases with 2 workers in {wall:.0f} s ({meter.rate():.1f} cases/s steady)")
        samples = [(done, sum(r.values()) / max(1, len(r))) for done, r in meter.rss if r]
        warm = next((s for s in samples if s[0] >= args.cases // 10), samples[0])
        peak = max(s[1] for s in samples if s[0] >= warm[0])
        growth = peak / warm[1] - 1
        print(
            f"worker RSS: {warm[1] / 2**20:.0f} MB after {warm[0]} cases, peak {peak / 2**20:.0f} MB later; "
            f"growth {growth * 100:+.1f}% (target <= 10%)"
        )
        print("  RSS per worker (MB) by cases done: " + ", ".join(f"{d}:{r / 2**20:.0f}" for d, r in samples))

        started = time.perf_counter()
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "extractor"), "backfill", str(big), "--out", str(out)],
            capture_output=True,
            text=True,
        )
        resume = time.perf_counter() - started
        assert proc.returncode == 0, proc.stderr
        lines = out.read_bytes().count(b"\n")
        print(f"resume over {lines} finished cases: {resume:.2f} s (target < 5 s), output unchanged: {lines} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
