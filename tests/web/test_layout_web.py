"""The web routes are thin over shared actions: the JSON API and the HTML pages never import each other."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.helpers import ROOT

WEB = ROOT / "extractor" / "web"


def imported(path: Path) -> set[str]:
    """The web modules a file imports, relatively (`from . import x`, `from .x import y`) or absolutely."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            name = node.module or ""
            if node.level == 1:
                found |= {name.split(".")[0]} if name else {a.name for a in node.names}
            elif name == "extractor.web":
                found |= {a.name for a in node.names}
            elif name.startswith("extractor.web."):
                found.add(name.split(".")[2])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[2] for a in node.names if a.name.startswith("extractor.web.")}
    return found


def test_pages_and_api_do_not_import_each_other():
    assert "api" not in imported(WEB / "pages.py")
    assert "pages" not in imported(WEB / "api.py")


def test_both_fronts_call_the_same_actions_which_sit_below_the_routes():
    assert "actions" in imported(WEB / "pages.py")
    assert "actions" in imported(WEB / "api.py")
    assert not {"api", "pages", "case_view"} & imported(WEB / "actions.py")


def test_the_checker_sees_each_way_of_writing_an_import(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "from . import api\nfrom .pages import router\nfrom extractor.web import deps\n"
        "from extractor.web.actions import log_in\nimport extractor.web.worker\nfrom extractor import store\n"
    )
    assert imported(probe) == {"api", "pages", "deps", "actions", "worker"}
