"""medspaCy imported without QuickUMLS: the one reach into the import system, guarded by medspaCy's version.

medspaCy 1.3.1's `util` imports `quickumls` only to register its QuickUMLS factory, which this pipeline never
uses; `quickumls` imports nltk, and nltk scipy and scikit-learn: about 100 MB of a prefill's memory and a second
of its start. While medspaCy is imported a stand-in takes quickumls' place; afterwards the stand-in is gone,
so a later `import quickumls` loads the real package. `tests/nlp/test_medspacy_import.py` runs the pipeline
both ways.
"""

from __future__ import annotations

import sys
import types
from importlib.metadata import PackageNotFoundError, version

MEDSPACY_VERSION = "1.3.1"
STAND_INS = ("quickumls", "quickumls.spacy_component")


def _installed(package: str) -> str | None:
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def import_medspacy() -> None:
    """Import medspaCy, with quickumls deferred when medspaCy is the version this was written against and
    nobody has imported quickumls yet (then it is real and stays)."""
    if "medspacy" in sys.modules or "quickumls" in sys.modules or _installed("medspacy") != MEDSPACY_VERSION:
        import medspacy

        return
    package = types.ModuleType("quickumls")
    package.__path__ = []
    component = types.ModuleType("quickumls.spacy_component")
    package.spacy_component = component  # type: ignore[attr-defined]
    sys.modules.update({"quickumls": package, "quickumls.spacy_component": component})
    try:
        import medspacy  # noqa: F401
    finally:
        for name in STAND_INS:
            if sys.modules.get(name) in (package, component):
                del sys.modules[name]
