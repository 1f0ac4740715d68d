"""Tokens/s of extractor.nlp.load() against medspacy.load() on the same notes, in the same run.

Prints a ratio (machines here are noisy; only the ratio within one run means anything).
Usage: python benchmarks/nlp_throughput.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def notes() -> list[str]:
    from extractor.ingest.files import decode_text
    from extractor.nlp.normalize import rejoin

    texts = []
    for path in sorted((ROOT / "sample_notes").glob("*/*.txt")):
        texts.append(rejoin(decode_text(path.read_bytes()))[0])
    return texts


def tokens_per_second(nlp, texts: list[str], clock) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = clock()
        n = sum(len(doc) for doc in nlp.pipe(texts))
        return n / (clock() - start)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import medspacy

    from extractor.nlp import pipeline as ours

    ours.quiet_library_logs()
    texts = notes()
    baseline = medspacy.load()
    product = ours.load()
    words = sum(len(t.split()) for t in texts)
    print(f"notes: {len(texts)} documents, {words} words; {args.repeat} interleaved runs, medians")
    print("medspacy.load(): PyRuSH, logs disabled (with its loguru output on, it is a little slower still)")
    first_base = tokens_per_second(baseline, texts, time.process_time)
    first_mine = tokens_per_second(product, texts, time.process_time)
    print(
        f"first pass  medspacy.load() {first_base:>9,.0f} tokens/s   extractor.nlp.load() {first_mine:>9,.0f} tokens/s"
        f"   ratio {first_mine / first_base:.1f}x (CPU time; words not yet in the tokenizer's cache)"
    )
    for label, clock in (("CPU time", time.process_time), ("wall clock", time.perf_counter)):
        base, mine = [], []
        for _ in range(args.repeat):
            base.append(tokens_per_second(baseline, texts, clock))
            mine.append(tokens_per_second(product, texts, clock))
        ratios = [m / b for m, b in zip(mine, base, strict=True)]
        print(
            f"{label:10}  medspacy.load() {statistics.median(base):>9,.0f} tokens/s   "
            f"extractor.nlp.load() {statistics.median(mine):>9,.0f} tokens/s   "
            f"ratio {statistics.median(ratios):.1f}x (target >= 12x)"
        )
    print("CPU time is the figure to read on a shared machine; wall clock also counts other processes' load.")


if __name__ == "__main__":
    main()
