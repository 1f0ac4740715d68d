"""Command line: prefill, evaluate. Errors are one line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import ExtractorError, NoReadableDocuments
from .web import commands as web_commands

if TYPE_CHECKING:
    from .schemas import Review


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
    web_commands.add_parsers(sub)
    return parser


def cmd_prefill(args: argparse.Namespace) -> int:
    from . import case, review

    try:
        result = case.prefill(args.files, request_date=args.request_date)
    except NoReadableDocuments as exc:
        for name, reason in exc.errors:
            print(f"error: {name}: {reason}", file=sys.stderr)
        return 2
    for doc in result.documents:
        if doc.error:
            print(f"warning: {doc.name}: {doc.error}", file=sys.stderr)
    if args.format == "html":
        docs, _ = case.read_documents(args.files)
        case._unique_names(docs)
        sys.stdout.write(review.to_html(result, {d.name: d.text for d in docs}))
        return 0
    if args.format == "fhir":
        sys.stdout.write(_fhir_bundle(result, args.files))
        return 0
    sys.stdout.write(review.to_json(result) + "\n" if args.format == "json" else review.to_text(result))
    return 0


def _fhir_bundle(result: Review, files: list[Path]) -> str:
    """The FHIR Bundle, with size, SHA-1 and content type of each file whose name is unique in the case."""
    import json
    from collections import Counter

    from . import fhir

    counts = Counter(p.name for p in files)
    meta = {p.name: fhir.document_meta_from_file(p) for p in files if counts[p.name] == 1}
    return json.dumps(fhir.bundle(result, meta), indent=2, ensure_ascii=False) + "\n"


def cmd_evaluate(args: argparse.Namespace) -> int:
    from . import evaluate

    if not args.directory.is_dir():
        print(f"error: {args.directory}: not a directory", file=sys.stderr)
        return 2
    return evaluate.main(args.directory, args.negex_kit, baseline=not args.no_baseline)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "prefill":
            return cmd_prefill(args)
        if args.command in ("serve", "users"):
            return web_commands.run(args)
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
