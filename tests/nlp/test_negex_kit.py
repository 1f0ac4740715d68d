"""The NegEx/ConText kit: our pipeline against medspaCy's default, measured in the same run."""

import pytest

from extractor.evaluate import evaluate_kit
from tests.helpers import KIT, needs

pytestmark = needs((KIT / "rsAnnotations-1-120-random.tsv").is_file(), "../shared NegEx kit")


@pytest.fixture(scope="module")
def scores():
    return evaluate_kit(KIT, baseline=True)


def test_test_split_negation_f1_at_least_095(scores):
    assert scores[("extractor", "test")]["negated"] >= 0.95


def test_test_split_holds_the_reported_figures(scores):
    """Floors at the measured test figures (rounded down), tuned on dev only: negated 0.984, historical
    0.766 (target 0.78 not met; 0.769 the session before), hypothetical 0.943 (docs/evaluation.md)."""
    test = scores[("extractor", "test")]
    assert test["negated"] >= 0.98 and test["historical"] >= 0.76 and test["hypothetical"] >= 0.94


@pytest.mark.parametrize("attr", ["negated", "historical", "hypothetical", "family"])
def test_no_attribute_below_medspacy_default_on_test_split(scores, attr):
    assert scores[("extractor", "test")][attr] >= scores[("medspacy default", "test")][attr]
