"""Peak memory (max RSS) of a whole `extractor prefill` process, next to a bare interpreter measured in the
same run. Target: under 400 MB for a sample case and for a 3 MB note.
Usage: python benchmarks/prefill_memory.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def peak_mb(args: list[str]) -> tuple[float, float]:
    """Max RSS of one child process, in MB, and its wall time."""
    code = (
        "import resource, subprocess, sys; t = __import__('time').perf_counter();"
        "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True);"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, __import__('time').perf_counter() - t)"
    )
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, check=True)
    mb, secs = out.stdout.split()
    return float(mb), float(secs)


def main() -> None:
    cli = [sys.executable, "-m", "extractor.cli", "prefill"]
    bare, _ = peak_mb([sys.executable, "-c", "pass"])
    case = sorted((ROOT / "sample_notes").glob("c01_*/*.txt"))
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "big.txt"
        para = (
            "Follow-up for left temporal glioblastoma status post resection and radiotherapy; stable appearance "
            "without new enhancement today and no new neurological deficits on examination.\n\n"
        )
        big.write_text(para * (3_000_000 // len(para) + 1))
        case_mb, case_s = peak_mb([*cli, *map(str, case)])
        big_mb, big_s = peak_mb([*cli, str(big)])
    print(f"bare interpreter:             {bare:7.1f} MB")
    print(f"prefill sample case c01:      {case_mb:7.1f} MB  ({case_mb / bare:.1f}x bare, {case_s:.1f} s)")
    print(f"prefill 3 MB note:            {big_mb:7.1f} MB  ({big_mb / bare:.1f}x bare, {big_s:.1f} s)")
    print(f"target: under 400 MB -> {'met' if max(case_mb, big_mb) < 400 else 'NOT met'}")


if __name__ == "__main__":
    main()
