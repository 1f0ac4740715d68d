"""Session fixtures; the shared helpers are in tests/helpers.py."""

from pathlib import Path

import pytest

from tests.helpers import ROOT


@pytest.fixture(scope="session")
def nlp():
    from extractor.nlp import pipeline

    return pipeline.load()


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory) -> Path:
    """The project built as a wheel and installed into a folder of its own, outside the repo (built once)."""
    import subprocess
    import sys

    base = tmp_path_factory.mktemp("wheel")
    dist, target = base / "dist", base / "site"
    pip = [sys.executable, "-m", "pip"]
    run = {"check": True, "capture_output": True, "timeout": 300}
    subprocess.run([*pip, "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)], **run)
    subprocess.run([*pip, "install", "-q", "--no-deps", "--target", str(target), str(next(dist.glob("*.whl")))], **run)
    return target
