"""A 10-page fax to its review: per-page parallel OCR against one-process OCR and Tesseract's own threading.

Renders a 10-page fax packet (scripts/render_samples.py: 200 dpi, 1-bit, skew, speckle, header line)
from sample notes and times `extractor.case.prefill` end to end (worker started, NLP loaded) with
- per-page parallel OCR: one Tesseract per page, `OMP_THREAD_LIMIT=1`, one page per core (the default);
- one process: pages one after another, `OMP_THREAD_LIMIT=1`;
- Tesseract's own threading: pages one after another, `OMP_THREAD_LIMIT` = cores;
(the timed runs use the default: a full-page scan is rendered at its own resolution, here 200 dpi)
and, for the render resolution, per-page parallel OCR at a fixed 200 and 300 dpi with word recall
against the source text. Target: under 15 s on a 2-core machine.
Usage: python benchmarks/fax_ocr.py
"""

from __future__ import annotations

import os
import re
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
PAGES = 10


def build_fax(path: Path) -> str:
    """Write a PAGES-page fax of sample documents; return the source text on those pages."""
    import render_samples as rs

    per_page = (rs.FAX_H - 2 * rs.FAX_MARGIN) // rs.FAX_LEADING
    pages: list[list[str]] = []
    for doc in sorted((ROOT / "sample_notes").glob("c*/*.txt")):
        pages += rs.paginate(rs.wrap(rs.read_text(doc), rs.FAX_WRAP), per_page)
        if len(pages) >= PAGES:
            break
    pages = pages[:PAGES]
    case = ROOT / "sample_notes" / "c01_gbm_recurrence_vs_necrosis"
    images = [rs.fax_page(lines, rs.fax_header(case, i + 1, PAGES), 7000 + i) for i, lines in enumerate(pages)]
    rs.save_fax(images, path)
    return "\n".join(line for lines in pages for line in lines)


def words(text: str) -> list[str]:
    return re.findall(r"[a-z]{3,}", text.lower())


def run(path: Path, env: dict[str, str]) -> tuple[float, object]:
    from extractor.case import prefill

    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        start = time.perf_counter()
        review = prefill([path]).review
        return time.perf_counter() - start, review
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def main() -> None:
    warnings.simplefilter("ignore")
    os.environ.setdefault("EXTRACTOR_PDF_TIMEOUT_S", "900")  # Tesseract's own threading is slow here
    from extractor.case import read_documents
    from extractor.ingest import sandbox

    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fax.pdf"
        source = build_fax(path)
        small = Path(tmp) / "one.pdf"
        import render_samples as rs

        rs.save_fax([rs.fax_page(["warm up"], "FAX", 1)], small)
        run(small, {})  # start the worker, load the NLP pipeline
        configs = {
            "per-page parallel (OMP_THREAD_LIMIT=1)": {
                "EXTRACTOR_OCR_WORKERS": "0",
                "EXTRACTOR_OCR_THREADS_PER_PAGE": "1",
            },
            "one process, pages in turn (1 thread)": {
                "EXTRACTOR_OCR_WORKERS": "1",
                "EXTRACTOR_OCR_THREADS_PER_PAGE": "1",
            },
            f"Tesseract threading ({cores} threads)": {
                "EXTRACTOR_OCR_WORKERS": "1",
                "EXTRACTOR_OCR_THREADS_PER_PAGE": str(cores),
            },
        }
        print(f"{PAGES}-page fax (200 dpi, 1-bit), {cores} cores, end to end to the review")
        print(f"load average at the start: {os.getloadavg()[0]:.1f} (other processes share these cores)")
        results = {}
        for name, env in configs.items():
            seconds, review = run(path, env)
            results[name] = seconds
            print(f"  {name:42s} {seconds:6.1f} s   recommendation {review.recommendation}")
        base = results["one process, pages in turn (1 thread)"]
        for name, seconds in results.items():
            print(f"  ratio one process / {name}: {base / seconds:.2f}x")
        print("render resolution (per-page parallel):")
        want = set(words(source))
        os.environ["EXTRACTOR_OCR_NATIVE_DPI"] = "false"
        for dpi in (200, 300):
            os.environ["EXTRACTOR_OCR_DPI"] = str(dpi)
            start = time.perf_counter()
            docs, _ = read_documents([path])
            seconds = time.perf_counter() - start
            got = set(words("\n".join(d.text for d in docs)))
            conf = [c for d in docs for c in d.ocr_confidence.values()]
            print(
                f"  {dpi} dpi: {seconds:5.1f} s to text, word recall {len(want & got) / len(want):.1%}, "
                f"mean confidence {sum(conf) / len(conf):.1f}"
            )
        os.environ.pop("EXTRACTOR_OCR_DPI", None)
        os.environ.pop("EXTRACTOR_OCR_NATIVE_DPI", None)
        # CPU time of the Tesseract processes (children of this process when read in-process): what the
        # 10 pages cost whatever else runs on the machine.
        os.environ["EXTRACTOR_PDF_ISOLATION"] = "false"
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        read_documents([path])
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        os.environ.pop("EXTRACTOR_PDF_ISOLATION", None)
        cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        print(
            f"Tesseract CPU for the {PAGES} pages: {cpu:.1f} s ({cpu / PAGES:.2f} s a page); "
            f"on {cores} idle cores that is {cpu / cores:.1f} s of OCR (measured wall here {wall:.1f} s)"
        )
    sandbox.shutdown()
    print("target: < 15 s for the 10-page fax on 2 cores")
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (other processes share these cores)")


if __name__ == "__main__":
    main()
