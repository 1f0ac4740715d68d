"""Text-layer PDF pages/s on one core, end to end to the review, against pdfplumber's page parse alone.

Builds a multi-page text-layer PDF from every sample note (scripts/render_samples.py's writer), pins
this process (and so its PDF worker) to one CPU, and measures in the same run:
- pdfplumber: `extract_text_lines(return_chars=True)` per page (what reading with boxes cost before);
- pypdfium2: text and every character's box per page (what extractor.pdf does);
- end to end: `extractor.case.prefill` on the PDF (worker process, text, boxes, NLP, guideline, review),
  with the worker already started, and with isolation off (in-process) for the worker's cost.
Usage: python benchmarks/pdf_throughput.py [--repeat N]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))


def build_pdf() -> tuple[bytes, int]:
    from render_samples import read_text, text_pdf

    text = "\n\n".join(read_text(p) for p in sorted((ROOT / "sample_notes").glob("*/*.txt")))
    data = text_pdf(text)
    import pypdfium2 as pdfium

    return data, len(pdfium.PdfDocument(data))


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    warnings.simplefilter("ignore")
    data, pages = build_pdf()

    import pdfplumber

    from extractor.case import prefill
    from extractor.config import Settings
    from extractor.ingest import sandbox
    from extractor.ingest.pdf import _text_lines

    def plumber() -> None:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            for page in pdf.pages:
                page.extract_text_lines(return_chars=True, strip=True)

    def pdfium_boxes() -> None:
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(data)
        for i in range(len(pdf)):
            _text_lines(pdf[i])

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "record.pdf"
        path.write_bytes(data)
        start = time.perf_counter()
        prefill([path])  # starts the PDF worker and loads the NLP pipeline
        cold = time.perf_counter() - start
        t_plumber = best(plumber, args.repeat)
        t_pdfium = best(pdfium_boxes, args.repeat)
        t_end = best(lambda: prefill([path]), args.repeat)
        os.environ["EXTRACTOR_PDF_ISOLATION"] = "false"
        assert not Settings().pdf_isolation
        t_inproc = best(lambda: prefill([path]), args.repeat)
        del os.environ["EXTRACTOR_PDF_ISOLATION"]
    sandbox.shutdown()

    print(f"text-layer PDF: {pages} pages, {len(data) // 1024} KB, one core")
    for name, seconds in (
        ("pdfplumber page parse alone", t_plumber),
        ("pypdfium2 text + char boxes", t_pdfium),
        ("end to end (worker process)", t_end),
        ("end to end (in-process)", t_inproc),
    ):
        print(f"  {name:30s}{pages / seconds:7.1f} pages/s  ({1000 * seconds / pages:5.1f} ms/page)")
    print(f"  first call (worker start + NLP load) {cold:.2f} s")
    print(f"load average: {os.getloadavg()[0]:.1f} (other processes share this core)")
    print(f"ratio end to end / pdfplumber parse alone: {t_plumber / t_end:.2f}x   (target: >= 12 pages/s end to end)")


if __name__ == "__main__":
    main()
