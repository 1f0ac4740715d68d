"""Every command in one group: prefill, evaluate, backfill, serve, users, cache.

Errors are one line on stderr and a non-zero exit, never a traceback. Each command imports its step when it
runs (marked lazy): `extractor --help` must not load spaCy, Dask or FastAPI.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from extractor.config import get_settings
from extractor.errors import ExtractorError, NoReadableDocuments
from extractor.private import restrict_umask
from extractor.schemas import ROLES

if TYPE_CHECKING:
    from extractor.case import CaseResult

DEMO_USERS_HELP = "load each sub-folder of SAMPLES as a case (once) and print a demo user per role"


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="extractor", description="Brain MRS prior-authorization prefill")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prefill", help="prefill one review from the files of one case")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--format", choices=["json", "text", "fhir", "html"], default="json")
    p.add_argument("--request-date", type=_date, default=None)
    e = sub.add_parser("evaluate", help="score the pipeline against labelled cases and the NegEx/ConText kit")
    e.add_argument("directory", type=Path, metavar="DIR")
    e.add_argument("--negex-kit", type=Path, default=None, help="folder of the NegEx/ConText kit")
    e.add_argument("--no-baseline", action="store_true", help="skip medspaCy's default pipeline on the kit")
    e.add_argument(
        "--corpus", type=Path, default=None, help="notes folder of real-note labels (../shared/eval/mtsamples)"
    )
    e.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    for name, what in (
        ("recommendation", "recommendation accuracy"),
        ("recall", "finding recall"),
        ("precision", "finding precision"),
        ("checklist", "documentation checklist accuracy"),
    ):
        e.add_argument(f"--min-{name}", type=float, default=None, metavar="X", help=f"exit 1 when {what} < X")
    s = sub.add_parser("serve", help="serve the intake and reviewer web app and the JSON API")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    _store_args(s, exclusive=False)
    s.add_argument("--workers", type=int, default=None, help="background prefill processes (default from settings: 1)")
    s.add_argument("--demo", type=Path, default=None, metavar="SAMPLES", help=DEMO_USERS_HELP)
    u = sub.add_parser("users", help="manage web users")
    usub = u.add_subparsers(dest="users_command", required=True)
    a = usub.add_parser("add", help="create a user; the password is read from standard input")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=ROLES)
    _store_args(a, exclusive=True)
    b = sub.add_parser("backfill", help="prefill many historical cases into JSON Lines, resumably")
    b.add_argument(
        "input", type=Path, metavar="INPUT", help="folder (each file or sub-folder one case) or manifest CSV"
    )
    b.add_argument("--out", type=Path, required=True, metavar="RESULTS.jsonl")
    b.add_argument("--workers", type=_positive, default=2, help="local worker processes (default 2)")
    b.add_argument("--scheduler", default=None, metavar="ADDRESS", help="run on an existing Dask scheduler")
    b.add_argument("--db", default=None, metavar="URL", help="also store the reviews in the web app's database")
    b.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="the web app's data dir, for --db (documents go there)",
    )
    b.add_argument("--retry-failed", action="store_true", help="run the failed and quarantined cases again")
    b.add_argument(
        "--allow-outside-input",
        action="store_true",
        help="read symbolic links and manifest paths that leave the input folder (default: an error per case)",
    )
    b.add_argument(
        "--state", default=None, metavar="PATH|URL", help="progress database (default RESULTS.jsonl.state.sqlite)"
    )
    b.add_argument(
        "--report", type=Path, default=None, metavar="HTML", help="summary report (default RESULTS.report.html)"
    )
    b.add_argument(
        "--no-cache", action="store_true", help="read and OCR every PDF again, not from the document-text cache"
    )
    c = sub.add_parser("cache", help="the document-text cache (each PDF's reading, kept so it is read once)")
    csub = c.add_subparsers(dest="cache_command", required=True)
    pr = csub.add_parser("prune", help="drop cache entries unused for DAYS, then the oldest beyond MB")
    pr.add_argument("--max-age", type=float, default=None, metavar="DAYS", help="default from settings: 365")
    pr.add_argument("--max-size", type=float, default=None, metavar="MB", help="default from settings: 10240")
    where = pr.add_mutually_exclusive_group()
    where.add_argument("--state", default=None, metavar="PATH|URL", help="a backfill's progress database")
    where.add_argument("--db", default=None, metavar="URL", help="the web app's database")
    where.add_argument("--data-dir", type=Path, default=None, metavar="DIR", help="the web app's data dir")
    return parser


def _store_args(parser: argparse.ArgumentParser, exclusive: bool) -> None:
    group = parser.add_mutually_exclusive_group() if exclusive else parser
    group.add_argument("--db", default=None, metavar="URL", help="database URL (default: SQLite in the data dir)")
    group.add_argument("--data-dir", type=Path, default=None, metavar="DIR")


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"not a positive number: {value!r}")
    return number


def cmd_backfill(args: argparse.Namespace) -> int:
    from rich.console import Console

    from extractor.batch import backfill, progress, summary  # lazy: Dask and the pipeline load only for a backfill

    restrict_umask()  # PHI at rest: output, state, report and the Dask workers' scratch files are 0600
    live = progress.LiveProgress()
    last: list[progress.Progress] = []

    def started(p: progress.Progress) -> None:
        last[:] = [p]
        live.start(p)

    def moved(p: progress.Progress) -> None:
        last[:] = [p]
        live.update(p)

    try:
        job = backfill.run_backfill(
            args.input,
            args.out,
            workers=args.workers,
            scheduler=args.scheduler,
            state=args.state,
            db_url=args.db,
            retry_failed=args.retry_failed,
            use_cache=not args.no_cache,
            allow_outside_input=args.allow_outside_input,
            db_data_dir=args.data_dir,
            on_start=started,
            on_progress=moved,
        )
    finally:
        live.stop(last[0] if last else None)
    totals = summary.summarize(job.state, job.case_ids)
    report = args.report or args.out.with_name(args.out.name.removesuffix(".jsonl") + ".report.html")
    summary.write_report(report, totals, str(args.input))
    summary.print_summary(totals, Console(), report=report, output=job.output)
    if last and last[0].replaced:
        print(f"Worker processes replaced to bound memory: {last[0].replaced}")
    if job.sync is not None:
        print(f"Stored in the web app: {job.sync.new} new, {job.sync.replaced} re-scored reviews replaced")
        if job.sync.kept_decided:
            print(
                f"Kept as decided (re-scored review not stored): {len(job.sync.kept_decided)}: "
                + ", ".join(job.sync.kept_decided[:20])
            )
        if job.sync.invalid:
            print(f"Not stored (review did not validate): {len(job.sync.invalid)}: " + ", ".join(job.sync.invalid[:20]))
    if job.cache_hits or job.cache_misses:
        print(f"PDFs from the document-text cache: {job.cache_hits}; read: {job.cache_misses}")
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    """`extractor cache prune`: bound the document-text cache of a backfill state or of the web store."""
    from extractor.ingest import cache  # lazy: SQLAlchemy loads only for the cache command

    settings = get_settings()
    max_age = args.max_age if args.max_age is not None else settings.cache_max_age_days
    max_size = args.max_size if args.max_size is not None else settings.cache_max_mb
    if args.state:
        from extractor.batch import state  # lazy: the backfill's tables

        engine = state.state_engine(args.state)
        table = state.cache_table
    else:
        from extractor import store  # lazy: the web store's tables

        url = store.resolve_url(args.db or settings.database_url, args.data_dir or settings.data_dir)
        engine = store.open_store(url)[0]
        table = store.cache_table
    try:
        entries, freed = cache.prune(engine, table, max_age, max_size)
    finally:
        engine.dispose()
    print(f"pruned {entries} cache entr{'y' if entries == 1 else 'ies'} ({freed / 2**20:.1f} MB)")
    return 0


def cmd_prefill(args: argparse.Namespace) -> int:
    from extractor import case  # lazy: spaCy and medspaCy load only when a command needs the pipeline
    from extractor.render import html, text  # lazy: Rich loads only for prefill

    try:
        result = case.prefill(args.files, request_date=args.request_date)
    except NoReadableDocuments as exc:
        for name, reason in exc.errors:
            print(f"error: {name}: {reason}", file=sys.stderr)
        return 2
    review = result.review
    for failed in result.failed:
        print(f"warning: {failed.name}: {failed.error}", file=sys.stderr)
    if args.format == "html":
        sys.stdout.write(html.to_html(review, result.texts))
        return 0
    if args.format == "fhir":
        sys.stdout.write(_fhir_bundle(result, args.files))
        return 0
    sys.stdout.write(text.to_json(review) + "\n" if args.format == "json" else text.to_text(review))
    return 0


def _fhir_bundle(result: CaseResult, files: list[Path]) -> str:
    """The FHIR Bundle, with size, SHA-1 and content type of each file whose name is unique in the case."""
    import json
    from collections import Counter

    from extractor.render import fhir  # lazy: fhir.resources loads only for --format fhir

    counts = Counter(p.name for p in files)
    meta = {p.name: fhir.document_meta_from_file(p) for p in files if counts[p.name] == 1}
    return json.dumps(fhir.bundle(result.review, meta), indent=2, ensure_ascii=False) + "\n"


def cmd_evaluate(args: argparse.Namespace) -> int:
    from extractor import evaluate, evaluate_notes  # lazy: the pipeline loads only when evaluating

    if not args.directory.is_dir():
        print(f"error: {args.directory}: not a directory", file=sys.stderr)
        return 2
    minimums = {key: getattr(args, key) for key in evaluate_notes.THRESHOLDS}
    if evaluate_notes.is_label_dir(args.directory):
        return evaluate_notes.main(args.directory, args.corpus, minimums, json_out=args.json)
    return evaluate.main(
        args.directory, args.negex_kit, baseline=not args.no_baseline, minimums=minimums, json_out=args.json
    )


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "prefill":
            return cmd_prefill(args)
        if args.command in ("serve", "users"):
            from extractor.web import commands  # lazy: FastAPI and SQLAlchemy load only for the web commands

            return commands.main(args)
        if args.command == "backfill":
            return cmd_backfill(args)
        if args.command == "cache":
            return cmd_cache(args)
        return cmd_evaluate(args)
    except ExtractorError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1
    except Exception as exc:
        if os.environ.get("EXTRACTOR_DEBUG"):
            raise
        print(
            f"error: internal error ({type(exc).__name__}); rerun with EXTRACTOR_DEBUG=1 for details", file=sys.stderr
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
