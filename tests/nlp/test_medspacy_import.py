"""medspaCy without QuickUMLS (extractor/nlp/medspacy_import.py), and the unpatched path beside it."""

import json
import subprocess
import sys

from tests.helpers import ROOT

NOTE = "MRI brain: enlarging enhancing lesion, concerning for recurrent glioblastoma. No seizures."
FINDINGS = f"""
import json, sys
from extractor.nlp.pipeline import load
doc = load()({NOTE!r})
heavy = sorted(m for m in ("nltk", "sklearn", "scipy") if m in sys.modules)
import quickumls
print(json.dumps({{"heavy": heavy, "real_quickumls": hasattr(quickumls, "QuickUMLS"),
                  "ents": [(e.label_, e.start_char, e.end_char, e._.is_negated, e._.is_uncertain) for e in doc.ents]}}))
"""


def _run(before: str) -> dict:
    done = subprocess.run([sys.executable, "-c", before + "\n" + FINDINGS], capture_output=True, text=True,
                          cwd=ROOT, timeout=300, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_pipeline_loads_without_nltk_scipy_or_scikit_learn_and_finds_the_same_as_with_them():
    lean = _run("")
    unpatched = _run("import quickumls  # imported first: medspaCy gets the real package")
    assert lean["heavy"] == [] and unpatched["heavy"] == ["nltk", "scipy", "sklearn"]
    assert lean["ents"] == unpatched["ents"] and len(lean["ents"]) >= 3
    assert lean["real_quickumls"] and unpatched["real_quickumls"]  # a later import is the real package
