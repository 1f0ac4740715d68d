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
    from extractor.ingest import decode_text, rejoin

    texts = []
    for path in sorted((ROOT / "sample_notes").glob("*/*.txt")):
        texts.append(rejoin(decode_text(path.read_bytes()))[0])
    return texts


def tokens_per_second(nlp, texts: list[str], repeat: int) -> float:
    runs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        list(nlp.pipe(texts[:3]))
        for _ in range(repeat):
            start = time.perf_counter()
            n = sum(len(doc) for doc in nlp.pipe(texts))
            runs.append(n / (time.perf_counter() - start))
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    import medspacy

    from extractor import nlp as ours

    ours.quiet_library_logs()
    texts = notes()
    baseline = medspacy.load()
    product = ours.load()
    words = sum(len(t.split()) for t in texts)
    base_tps = tokens_per_second(baseline, texts, args.repeat)
    ours_tps = tokens_per_second(product, texts, args.repeat)
    print(f"notes: {len(texts)} documents, {words} words; median of {args.repeat} runs")
    print(f"medspacy.load() (PyRuSH, logs disabled): {base_tps:,.0f} tokens/s")
    print(f"extractor.nlp.load():                    {ours_tps:,.0f} tokens/s")
    print(f"ratio: {ours_tps / base_tps:.1f}x (target >= 10x)")


if __name__ == "__main__":
    main()
