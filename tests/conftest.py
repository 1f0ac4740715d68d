import functools
import json
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_notes"
KIT = ROOT.parent / "shared" / "eval" / "negex_kit"


@pytest.fixture(scope="session")
def nlp():
    from extractor import nlp as nlp_module

    return nlp_module.load()


def find(mentions, label, text=None):
    """The first mention of `label` (and, if given, containing `text`)."""
    for m in mentions:
        if m.label == label and (text is None or text.lower() in m.text.lower()):
            return m
    raise AssertionError(f"no {label} {text or ''} in {[(m.label, m.text) for m in mentions]}")


GUIDELINE_MD = ROOT.parent / "shared" / "guideline" / "NIA_CG_003_brain_mrs.md"


@functools.cache
def prefilled(case_name: str):
    """One sample case read and prefilled once per test session: (labels, review, documents by name)."""
    from extractor.case import prefill_documents, read_documents
    from extractor.evaluate import case_files

    folder = SAMPLES / case_name
    labels = json.loads((folder / "labels.json").read_text(encoding="utf-8"))
    docs, failed = read_documents(case_files(folder))
    review = prefill_documents(docs, failed, request_date=date.fromisoformat(labels["request_date"]))
    return labels, review, {d.name: d for d in docs}


def sample_case_names() -> list[str]:
    return sorted(p.name for p in SAMPLES.iterdir() if (p / "labels.json").is_file())


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

