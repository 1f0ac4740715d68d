"""Re-scoring faxed cases: the first pass against a re-score after a guideline-version change, and the
first pass against Tesseract alone on the same pages.

Builds N faxed cases (scripts/render_samples.py: 200 dpi, 1-bit, skew, speckle, fax header; one page of
sample-note text each, `--lines` lines a page) and a manifest dated 2024-05-01, then on one Dask cluster of
`--workers` single-threaded processes (started once, its start-up timed apart):
- first pass: `run_backfill` over the manifest (every PDF read and OCR'd, readings kept in the state);
- re-score: the manifest's dates moved to 2019-03-01, which selects another guideline version, so every case
  is scored again; its PDFs come from the document-text cache. Target: >= 20x faster than the first pass;
- Tesseract alone: the same pages rendered as the product renders them (their own 200 dpi), then only the
  Tesseract runs timed, same language, page segmentation, `OMP_THREAD_LIMIT=1` and `--workers` pages at once.
  Target: the first pass's pages/s within 1.25x of it. On a shared machine wall clock follows the other
  jobs' load, so the CPU time of each phase (this process tree: coordinator, scheduler, workers, their PDF
  workers and every Tesseract) is printed beside it: the product's CPU per page over Tesseract's alone.

    python benchmarks/rescore.py              # 100 cases
    python benchmarks/rescore.py --cases 20   # a quicker run
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))


def tree_cpu() -> float:
    """CPU seconds of this process, its live descendants and the children each has waited for (Tesseract)."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for proc in [me, *me.children(recursive=True)]:
        try:
            t = proc.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def build_cases(folder: Path, n: int, lines_per_page: int) -> list[Path]:
    """n one-page faxes, each a different window over the sample notes' text."""
    import render_samples as rs

    lines = [
        line
        for doc in sorted((ROOT / "sample_notes").glob("c*/*.txt"))
        for line in rs.wrap(rs.read_text(doc), rs.FAX_WRAP)
    ]
    folder.mkdir(parents=True)
    paths = []
    for i in range(n):
        start = (i * 29) % len(lines)
        page = [f"Case reference {i:04d}"] + [lines[(start + j) % len(lines)] for j in range(lines_per_page)]
        path = folder / f"case{i:04d}.pdf"
        rs.save_fax([rs.fax_page(page, f"MAR-02-2026 10:14  FROM: NEURO ONC  P.001/001  REF {i}", 9000 + i)], path)
        paths.append(path)
    return paths


def write_manifest(path: Path, cases: list[Path], day: str) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["case_id", "path", "request_date"])
        for case in cases:
            w.writerow([case.stem, str(case), day])


def tesseract_alone(cases: list[Path], workers: int) -> tuple[float, int, float]:
    """Seconds for Tesseract alone over every page of the cases (rendered first, untimed), the page count
    and the CPU seconds."""
    import pypdfium2 as pdfium

    from extractor.config import get_settings
    from extractor.ingest.ocr import native_dpi, render, run_tesseract, scan_dpi

    settings = get_settings()
    images = []
    for case in cases:
        pdf = pdfium.PdfDocument(case.read_bytes())
        for page in pdf:
            dpi = native_dpi(scan_dpi(page)) or settings.ocr_dpi
            images.append(render(page, round(dpi), settings.ocr_max_pixels)[0])
        pdf.close()

    def ocr(image: bytes) -> str:
        return run_tesseract(image, settings.ocr_language, 1, settings.ocr_page_timeout_s)

    start, cpu = time.perf_counter(), tree_cpu()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(ocr, images))
    return time.perf_counter() - start, len(images), tree_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--lines", type=int, default=24, help="text lines on each faxed page")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    import logging

    from distributed import Client, LocalCluster

    from extractor.batch import backfill
    from extractor.batch.task import warm_up

    logging.getLogger("distributed").setLevel(logging.CRITICAL)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cases = build_cases(root / "cases", args.cases, args.lines)
        manifest = root / "manifest.csv"
        out = root / "results.jsonl"
        write_manifest(manifest, cases, "2024-05-01")
        print(f"{args.cases} faxed cases (one 200 dpi page of {args.lines + 1} lines each), {args.workers} workers")
        print(f"load average at the start: {os.getloadavg()[0]:.1f} (other processes share these cores)")
        t = time.perf_counter()
        cluster = LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None,
            silence_logs=logging.ERROR,
        )  # fmt: skip
        with Client(cluster) as client:
            client.run(warm_up)  # every worker loads the pipeline before the first pass is timed
        started = time.perf_counter() - t
        try:
            t, cpu = time.perf_counter(), tree_cpu()
            first = backfill.run_backfill(manifest, out, scheduler=cluster.scheduler_address)
            first_s, first_cpu = time.perf_counter() - t, tree_cpu() - cpu
            write_manifest(manifest, cases, "2019-03-01")  # another guideline version: every case again
            t, cpu = time.perf_counter(), tree_cpu()
            again = backfill.run_backfill(manifest, out, scheduler=cluster.scheduler_address)
            again_s, again_cpu = time.perf_counter() - t, tree_cpu() - cpu
        finally:
            cluster.close()
        alone_s, pages, alone_cpu = tesseract_alone(cases, args.workers)

    print(f"  Dask cluster start and pipeline load (once, not in the passes): {started:.1f} s")
    print(
        f"  first pass:  {first_s:6.1f} s  {pages / first_s:5.2f} pages/s  CPU {first_cpu:6.1f} s  "
        f"(PDFs read {first.cache_misses}, from cache {first.cache_hits})"
    )
    print(
        f"  re-score after a guideline-version change: {again_s:6.2f} s  CPU {again_cpu:6.1f} s  "
        f"(PDFs read {again.cache_misses}, from cache {again.cache_hits})"
    )
    ratio = first_s / again_s
    print(
        f"  re-score speed-up: {ratio:.1f}x wall, {first_cpu / again_cpu:.1f}x CPU "
        f"(target >= 20x: {'met' if ratio >= 20 else 'NOT met'})"
    )
    overhead = (pages / alone_s) / (pages / first_s)
    print(
        f"  Tesseract alone, same {pages} rendered pages, {args.workers} at once: {alone_s:6.1f} s  "
        f"{pages / alone_s:5.2f} pages/s  CPU {alone_cpu:6.1f} s"
    )
    print(
        f"  first pass pages/s vs Tesseract alone: {overhead:.2f}x slower "
        f"(target within 1.25x: {'met' if overhead <= 1.25 else 'NOT met'}); "
        f"CPU per page {first_cpu / alone_cpu:.2f}x Tesseract's"
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
