"""Classes of over-matching that the spurious findings left on the training notes showed (labels/mtsamples/dev,
the written notes wa/wb/wc/wd, sample_notes; issue 11's finding-precision target). Each row is a short sentence as
a neurologist, neurosurgeon, radiologist or hospitalist writes it, with the [bracketed] word the rules must not
report as the concept, and the near miss beside it that must still be found (labels/mtsamples/README.md
conventions)."""

import pytest

from tests.helpers import found_at

# (text with the [word], label, found)
CASES = [
    # Enhancement that grows or remains is an imaging finding, the question an MRS is asked to answer, not a tumour
    # that recurs: the labels never count "increasing/enlarging enhancement" or "residual enhancement" (wb-12, wd-08,
    # wa-01, wa-04, wd-11); growth of a named tumour, mass or lesion still is TUMOR_RECURRENCE.
    ("01/2025 MRI with [increasing] enhancement - treated as pseudoprogression.", "TUMOR_RECURRENCE", False),
    ("[Increasing] enhancement at the resection cavity on the 01/2026 MRI.", "TUMOR_RECURRENCE", False),
    (
        "IMPRESSION: 1. [Enlarging] nodular enhancement along the R temporal resection cavity.",
        "TUMOR_RECURRENCE",
        False,
    ),
    ("[Enlarging] enhancement around the resection cavity.", "TUMOR_RECURRENCE", False),
    ("Slowly [increasing] contrast enhancement in the left frontal surgical bed.", "TUMOR_RECURRENCE", False),
    (
        "Near total resection with a thin rim of [residual] enhancement at the posterior margin.",
        "TUMOR_RECURRENCE",
        False,
    ),
    (
        "Subtotal resection; [residual] enhancement along the temporal horn was expected.",
        "TUMOR_RECURRENCE",
        False,
    ),
    ("No nodular [residual] enhancement to suggest residual tumor.", "TUMOR_RECURRENCE", False),
    ("No nodular residual enhancement to suggest [residual] tumor.", "TUMOR_RECURRENCE", True),
    ("[Enlarging] treated R parietal met s/p SRS.", "TUMOR_RECURRENCE", True),
    ("[Enlarging] enhancing lesion in the right frontal lobe after radiosurgery.", "TUMOR_RECURRENCE", True),
    ("[Increasing] enhancing mass at the resection margin of the glioblastoma.", "TUMOR_RECURRENCE", True),
    ("MRI: [enlarging] residual sellar/suprasellar mass measuring 2.4 cm.", "TUMOR_RECURRENCE", True),
    ("Small amount of [residual] enhancing tumor along the medial margin.", "TUMOR_RECURRENCE", True),
    ("[Increasing] FLAIR signal around the cavity of the resected glioma.", "TUMOR_RECURRENCE", True),
    # a lesion's non-enhancing component is a part of the lesion already named, no second lesion (sample c02);
    # an enhancing component or nodule is still reported
    (
        "The treated right parietal enhancing lesion has a thick irregular rim and a central non-[enhancing]"
        " component.",
        "BRAIN_LESION",
        False,
    ),
    ("Right frontal mass with a solid [enhancing component] and a cyst.", "BRAIN_LESION", True),
    ("Non-enhancing left temporal [mass] with FLAIR hyperintensity.", "BRAIN_LESION", True),
    # an intracerebral haemorrhage whose cause is unknown is no stroke (README, rounds 5 and 6: dev 1294); the
    # symptomatic ICH of thrombolysis is a complication risk quoted in consent, no stroke of the patient (wb-06)
    ("IMPRESSION: [Intracerebral hemorrhage] of uncertain etiology to be determined while inpatient.", "STROKE", False),
    ("Right parietal [intraparenchymal hemorrhage] of unclear etiology; CTA negative.", "STROKE", False),
    ("Left thalamic [ICH], etiology unknown, MRI pending.", "STROKE", False),
    ("Hypertensive left putaminal [intracerebral hemorrhage].", "STROKE", True),
    ("Left basal ganglia [ICH] from uncontrolled hypertension, NIHSS 12.", "STROKE", True),
    ("Risks incl symptomatic [ICH] ~ 3-6% discussed with pt/wife, they agreed.", "STROKE", False),
    ("Symptomatic [ICH] after alteplase occurs in about 6% of patients.", "STROKE", False),
    ("Acute left MCA [stroke]; risks incl symptomatic ICH discussed.", "STROKE", True),
    # an organism in the parentheses after the infection names the same infection, and a test of an organism
    # (toxo PCR) names no infection (wb-02); the organism named as a diagnosis still counts
    ("Fungal infection ([Aspergillus], Cryptococcus) less likely with negative CrAg.", "INFECTION", False),
    ("[Fungal infection] (Aspergillus, Cryptococcus) less likely with negative CrAg.", "INFECTION", True),
    ("LP: cell count, cytology, flow, EBV PCR, [toxo] PCR.", "INFECTION", False),
    ("Send serum [toxo] IgG and CSF toxo PCR.", "INFECTION", False),
    ("Ring-enhancing lesions in AIDS: [toxo] versus CNS lymphoma.", "INFECTION", True),
    ("Invasive [aspergillosis] of the right frontal lobe.", "INFECTION", True),
    # a lesion or abscess the sentence places in a muscle, a salivary gland or the abdomen is not the brain's, even
    # when the same sentence names the skull base or the next one the brain (wc-05, wc-11, wb-07)
    (
        "MRI neck and skull base w/wo contrast 03/02/2026: 1.7 cm [enhancing solid lesion] in the superficial lobe"
        " of the left parotid gland.",
        "BRAIN_LESION",
        False,
    ),
    ("MRI skull base: 2 cm [mass] within the right submandibular gland.", "BRAIN_LESION", False),
    ("MRI skull base: 2 cm enhancing [mass] in the left cavernous sinus.", "BRAIN_LESION", True),
    ("MRI brain: ring-enhancing [lesion] in the left thalamus.", "BRAIN_LESION", True),
    (
        "Admitted with a painful swollen left thigh. CT LLE showed a 7 x 4 cm multiloculated intramuscular"
        " [abscess] of the vastus lateralis; ortho did I&D. MRI brain was normal.",
        "ABSCESS",
        False,
    ),
    ("MRI brain negative. Track marks on both forearms, no [abscess] now.", "ABSCESS", False),
    (
        "We would not image the brain now. Repeat CT abd in 1-2 weeks to assess [abscess] size and drain position.",
        "ABSCESS",
        False,
    ),
    ("MRI brain: 2 cm ring-enhancing [abscess] in the right frontal lobe.", "ABSCESS", True),
    ("MRI brain: ring-enhancing lesion, differential includes [abscess] versus glioblastoma.", "ABSCESS", True),
    # Janeway lesions are the skin signs of endocarditis
    ("MRI brain with septic emboli. No Janeway [lesions] or splinter hemorrhages.", "BRAIN_LESION", False),
    ("MRI brain with septic emboli: multiple small enhancing [lesions] in both hemispheres.", "BRAIN_LESION", True),
    # a tumour-control rate or 'this tumor type' in counselling names no tumour of the patient (wd-05, wd-12)
    (
        "Stereotactic radiosurgery (Gamma Knife, 12-13 Gy marginal dose) - [tumor] control ~95%, hearing"
        " preservation perhaps 50%.",
        "BRAIN_TUMOR",
        False,
    ),
    ("Radiation necrosis is well described 2-4 years after radiotherapy in this [tumor] type.", "BRAIN_TUMOR", False),
    ("Local [tumor] control at 5 years is about 90% for a vestibular schwannoma.", "BRAIN_TUMOR", False),
    ("The brain [tumor] has clearly grown on the MRI.", "BRAIN_TUMOR", True),
    ("Seizure control is good; the left frontal [tumor] is stable.", "BRAIN_TUMOR", True),
]


@pytest.mark.parametrize(("text", "label", "found"), CASES)
def test_precision_class(text, label, found):
    assert found_at(text, label) is found
