"""The tree shows the flow: no import loop, package imports at the top of their file, no oversized file."""

from __future__ import annotations

import ast
import os
import pkgutil
import subprocess
import sys

import extractor
from tests.helpers import ROOT

PACKAGE = ROOT / "extractor"
MAX_LINES = 500


def modules() -> list[str]:
    found = pkgutil.walk_packages(extractor.__path__, "extractor.")
    return sorted(m.name for m in found if ".migrations." not in m.name and not m.name.endswith("__main__"))


def sources() -> list:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


# Forks one child per module from an interpreter that has imported nothing of the package, so each module is
# imported first in a fresh state: a loop held together only by import order fails here. The third-party
# modules the package uses are imported once before the forks (a first child lists them), and the children
# run two at a time: the loop check is about the package's own modules, and this way it costs seconds, not
# a minute and more of CI.
IMPORT_EACH_FIRST = """
import os, sys, traceback
names = sys.argv[1:]
read, write = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(read)
    for name in names:
        try:
            __import__(name)
        except BaseException:
            pass
    used = [m for m in list(sys.modules) if m.split(".")[0] not in ("extractor", "__main__")]
    os.write(write, "\\n".join(used).encode())
    os._exit(0)
os.close(write)
with os.fdopen(read) as fh:
    libraries = fh.read().split()
os.waitpid(pid, 0)
for library in libraries:
    try:
        __import__(library)
    except BaseException:
        pass
assert not any(m == "extractor" or m.startswith("extractor.") for m in sys.modules), "a library imported the package"
failed, running = [], {}
def reap():
    pid, status = os.wait()
    if status != 0:
        failed.append(running[pid])
    del running[pid]
for name in names:
    while len(running) >= max(2, os.cpu_count() or 1):
        reap()
    pid = os.fork()
    if pid == 0:
        try:
            __import__(name)
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    running[pid] = name
while running:
    reap()
print("FAILED:" + ",".join(sorted(failed)))
"""


def test_every_module_imports_first_in_a_fresh_interpreter():
    names = modules()
    assert len(names) > 30
    out = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH_FIRST, *names],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    failed = out.stdout.strip().rsplit("FAILED:", 1)[-1]
    assert failed == "", f"{failed}\n{out.stderr[-3000:]}"


def _package_imports_inside_functions(path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = path.read_text(encoding="utf-8").splitlines()
    found = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.ImportFrom):
                own = node.level > 0 or (node.module or "").startswith("extractor")
            else:
                own = isinstance(node, ast.Import) and any(a.name.startswith("extractor") for a in node.names)
            if own and "# lazy:" not in lines[node.lineno - 1]:
                where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path.name
                found.append(f"{where}:{node.lineno}")
    return found


def test_package_imports_are_at_the_top_unless_marked_lazy_with_a_reason():
    found = [hit for p in sources() for hit in _package_imports_inside_functions(p)]
    assert found == []


def test_no_import_reaches_a_parent_folder_relatively():
    found = []
    for p in sources():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level > 1:
                found.append(f"{p.relative_to(ROOT)}:{node.lineno}")
    assert found == []


def test_no_source_file_is_over_500_lines():
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines()) for p in sources()}
    long = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert long == {}


def test_the_regression_checker_sees_a_lazy_import(tmp_path):
    """The checker itself: an unmarked package import inside a function is reported, a marked one is not."""
    probe = tmp_path / "probe.py"
    probe.write_text(
        "def f():\n    from extractor import knowledge\n\n\ndef g():\n    from . import errors  # lazy: why\n"
    )
    assert _package_imports_inside_functions(probe) == ["probe.py:2"]
