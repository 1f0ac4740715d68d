"""The README and docs/ show only what exists: every command and flag, make target, module and route they name.

A reader copies these lines; a renamed flag or route must fail here, not on a reviewer's desk.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import shlex

import pytest

from extractor.cli import build_parser
from tests.helpers import ROOT

PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
COMMAND = re.compile(r"(?:^|[`(\s$])extractor ((?:prefill|evaluate|backfill|serve|users|cache)\b[^`\n#]*)")
ROUTE = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE) +(/[\w/{}.\[\]$-]*)")
MAKE = re.compile(r"`make ([a-z-]+)`|^make ([a-z-]+)", re.M)
MODULE = re.compile(r"python -m (extractor[\w.]*)")


def _text(page) -> str:
    return page.read_text(encoding="utf-8")


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse has no public accessor for its subcommands
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _options(parser: argparse.ArgumentParser) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings}


def shown_commands() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        for m in COMMAND.finditer(_text(page)):
            found.append((page.name, m.group(1).strip()))
    return found


def shown_routes() -> list[tuple[str, str, str]]:
    return [(page.name, m.group(1), m.group(2)) for page in PAGES for m in ROUTE.finditer(_text(page))]


def test_the_docs_show_commands_and_routes_at_all():
    """The checks below would pass vacuously if the patterns stopped matching the pages."""
    commands = {c.split()[0] for _, c in shown_commands()}
    assert commands == {"prefill", "evaluate", "backfill", "serve", "users", "cache"}
    assert len(shown_routes()) >= 10


@pytest.mark.parametrize(("page", "line"), shown_commands())
def test_every_command_and_flag_shown_exists(page, line):
    words = shlex.split(line.replace("[", " ").replace("]", " ").replace("|", " "), posix=True)
    parser = _subparsers(build_parser())[words[0]]
    if words[0] in ("users", "cache") and len(words) > 1 and not words[1].startswith("-"):
        assert words[1] in _subparsers(parser), f"{page}: extractor {words[0]} {words[1]}"
        parser = _subparsers(parser)[words[1]]
    known = _options(parser)
    for word in words[1:]:
        if word.startswith("--"):
            assert word.split("=")[0] in known, f"{page}: extractor {words[0]} has no option {word}"


@pytest.fixture(scope="module")
def app_routes():
    from extractor.web import api, fhir, oversight, pages  # lazy: FastAPI loads only for this test

    routes = [*api.router.routes, *pages.router.routes, *fhir.router.routes, *oversight.router.routes]
    return {(method, re.sub(r"\{[^}]+\}", "{}", r.path)) for r in routes for method in r.methods}


@pytest.mark.parametrize(("page", "method", "path"), shown_routes())
def test_every_route_shown_exists(app_routes, page, method, path):
    variants = [path]
    if "[" in path:  # "/api/audit[.csv]": both spellings
        variants = [re.sub(r"\[.*?\]", "", path), path.replace("[", "").replace("]", "")]
    for p in variants:
        assert (method, re.sub(r"\{[^}]+\}", "{}", p)) in app_routes, f"{page}: {method} {p}"


def test_every_make_target_shown_exists():
    makefile = _text(ROOT / "Makefile")
    targets = set(re.findall(r"^([a-z-]+):", makefile, re.M))
    shown = {a or b for page in PAGES for a, b in MAKE.findall(_text(page))}
    assert shown, "no make target found in the docs"
    assert shown <= targets, shown - targets


def test_every_module_run_with_python_m_exists():
    shown = {m for page in PAGES for m in MODULE.findall(_text(page))}
    for name in shown:
        assert importlib.util.find_spec(name.rstrip(".")) is not None, name


def test_the_readme_quick_start_is_two_commands():
    readme = _text(ROOT / "README.md")
    block = re.search(r"```[a-z]*\n(make [^\n]*\n)+```", readme)
    assert block is not None
    assert [line.split()[1] for line in block.group(0).splitlines()[1:-1]] == ["demo", "test"]
