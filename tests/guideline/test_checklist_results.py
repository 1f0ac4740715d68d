"""The documentation checklist's prior imaging and labs/special testing on real-note wording (issue 11): a
negative head CT is still prior imaging, a cerebral angiogram or an infant's ventriculogram is head imaging,
a test named with its result counts, and an ordered test, a heading, a transfusion or a test that could
not be done does not (labels/mtsamples/README.md, checklist decisions)."""

import pytest

from tests.helpers import checklist


@pytest.mark.parametrize(
    ("text", "status"),
    [
        # a negative study is a documented study
        ("Patient seen for confusion. CT scan of the head was negative as was cervical spine.", "present"),
        ("COURSE: The patient underwent Cerebral Angiography on 10/13/92, which revealed an aneurysm.", "present"),
        (
            "Underwent ventriculogram at age 4 months, which illustrated massive enlargement of the ventricles.",
            "present",
        ),
        ("A HCT scan was obtained and he was transferred for evacuation.", "present"),
        # a report whose only head study is one ordered is no prior imaging
        (
            "PROCEDURE:  Nerve conduction studies.\n\nFINDINGS:  Normal motor and sensory latencies.\n\n"
            "IMPRESSION:  Normal study. I have ordered an MRI of the brain with and without contrast.\n",
            "missing",
        ),
        # another organ's angiogram is no head imaging
        ("Left heart catheterization and coronary angiogram showed no significant disease.", "missing"),
    ],
)
def test_prior_imaging(tmp_path, text, status):
    assert checklist(tmp_path, text)["prior_imaging"] == status


@pytest.mark.parametrize(
    ("text", "status"),
    [
        # a test named with a result
        ("Last cholesterol was in 2003 and was normal.", "present"),
        ("COURSE: CK normal. Fragile X analysis and karyotyping were unremarkable.", "present"),
        ("An echocardiogram done showed an ejection fraction of about 30% to 35%.", "present"),
        ("Goldmann visual fields revealed a central scotoma and an enlarged blind spot.", "present"),
        ("Since being hospitalized, his cultures apparently have grown Staph.", "present"),
        (
            "Portions of the cognitive linguistic quick test was administered; she scored within normal limits.",
            "present",
        ),
        # no result: an order, a heading over an x-ray, a transfusion, a test not done, a disease
        ("Further workup for the neuropathy to include CBC, CMP, and ammonia level.", "missing"),
        ("Anemia due to repeated blood loss; monitor hemoglobin and hematocrit.", "missing"),
        (
            "CHIEF COMPLAINT: Fall.\n\nHISTORY OF PRESENT ILLNESS: A 40-year-old man fell from a ladder.\n\n"
            "PHYSICAL EXAMINATION: Abrasions of the face.\n\n"
            "LABORATORY DATA:  Reviewed chest x-ray, which is normal, and right hand x-ray, which is normal.\n",
            "missing",
        ),
        ("Platelets and FFP as well as vitamin K have been administered.", "missing"),
        ("Mini-Mental status examination unable to be performed.", "missing"),
        ("She also suffers from high cholesterol and is on lovastatin for this.", "missing"),
    ],
)
def test_labs_or_special_testing(tmp_path, text, status):
    assert checklist(tmp_path, text)["labs_or_special_testing"] == status
