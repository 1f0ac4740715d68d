"""An abbreviation read in its note's sense (issue 11): "HCT" is a head CT in a neurology history ("A HCT there
demonstrated a subarachnoid hemorrhage") and the haematocrit in a blood count ("HCT 31% (low)"). Prior imaging
on the documentation checklist needs the first, never the second."""

import pytest

from extractor.nlp.extract import extract


@pytest.mark.parametrize(
    ("text", "imaging"),
    [
        ("He presented at a local hospital. A HCT there demonstrated a subarachnoid hemorrhage.", True),
        ("A HCT scan was obtained and he was transferred to Neurosurgery.", True),
        ("HCT on admission was negative. MRI brain was done locally.", True),
        ("CBC: Hgb 10.4 g/dL (low), HCT 31% (low), WBC 5.8K, Plt 201K.", False),
        ("Labs: WBC 7.2, HCT: 38.2, platelets 240.", False),
    ],
)
def test_hct_is_a_head_ct_unless_it_is_a_blood_count_value(text, imaging):
    found = [m.text for m in extract(text).mentions if m.label == "DOC_IMAGING"]
    assert ("HCT" in found) is imaging
