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
