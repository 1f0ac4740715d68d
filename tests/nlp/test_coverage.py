"""Coverage of the ways real notes write each concept (issue 11): one short clinical sentence per class,
with the exact words that must be found, and the same words about another organ or a symptom that must not."""

import pytest

from extractor.nlp.extract import extract


def found(text: str) -> set[tuple[str, str]]:
    return {(m.label, m.text) for m in extract(text).mentions}


@pytest.mark.parametrize(
    ("text", "label", "words"),
    [
        # WHO CNS tumour types beyond the common ones
        ("MRI shows a cerebellar liponeurocytoma.", "BRAIN_TUMOR", "cerebellar liponeurocytoma"),
        (
            "Pathology: pineal parenchymal tumor of intermediate differentiation.",
            "BRAIN_TUMOR",
            "pineal parenchymal tumor",
        ),
        (
            "Findings are typical of a rosette-forming glioneuronal tumor of the fourth ventricle.",
            "BRAIN_TUMOR",
            "rosette-forming glioneuronal tumor",
        ),
        ("She has a prolactin-secreting pituitary macroadenoma.", "BRAIN_TUMOR", "pituitary macroadenoma"),
        ("Known prolactinoma on cabergoline.", "BRAIN_TUMOR", "prolactinoma"),
        (
            "Dysplastic cerebellar gangliocytoma (Lhermitte-Duclos disease) in the left hemisphere.",
            "BRAIN_TUMOR",
            "Dysplastic cerebellar gangliocytoma",
        ),
        ("The frontal mass is most likely a high-grade glial neoplasm.", "BRAIN_TUMOR", "high-grade glial neoplasm"),
        (
            "It is unknown whether this was a primary tumor or a metastatic brain involvement.",
            "BRAIN_TUMOR",
            "metastatic brain involvement",
        ),
        ("Her lung cancer metastasized to the brain in 2019.", "BRAIN_TUMOR", "metastasized to the brain"),
        # doses in cGy, written with or without a space or a thousands comma
        ("He received 5580 cGy to the left temporal tumor bed.", "PRIOR_RADIATION", "5580 cGy"),
        ("She completed 6020cGy of XRT to the brain.", "PRIOR_RADIATION", "6020cGy"),
        ("Whole brain radiation, 3,000 cGy in 10 fractions.", "PRIOR_RADIATION", "3,000 cGy"),
        (
            "The right occipital AVM was treated; the radiosurgical treatment was uneventful.",
            "PRIOR_RADIATION",
            "radiosurgical treatment",
        ),
        # progression and residual disease in plain words
        ("Follow-up MRI of the brain shows an enlarging left frontal mass.", "TUMOR_RECURRENCE", "enlarging"),
        (
            "The most recent MRI of the pituitary tumor demonstrated an increased growth.",
            "TUMOR_RECURRENCE",
            "increased growth",
        ),
        (
            "Repeat brain MRI showed interval worsening of disease in the corpus callosum.",
            "TUMOR_RECURRENCE",
            "interval worsening of disease",
        ),
        ("On brain MRI the parietal tumor has regrown.", "TUMOR_RECURRENCE", "has regrown"),
        ("MRI brain: enlargement of the tumor along the falx.", "TUMOR_RECURRENCE", "enlargement of the tumor"),
        (
            "The vestibular schwannoma was resected; there was no tumor remaining at the end.",
            "TUMOR_RECURRENCE",
            "tumor remaining",
        ),
        ("A small remnant of the tumor was left on the cavernous sinus.", "TUMOR_RECURRENCE", "remnant of the tumor"),
        ("The frontal glioma is progressing on serial brain MRI.", "TUMOR_RECURRENCE", "glioma is progressing"),
        # surgery words for a brain lesion
        ("Radical excision of the left frontal meningioma was performed.", "PRIOR_SURGERY", "Radical excision"),
        ("The cerebellar metastasis was excised in 2018.", "PRIOR_SURGERY", "excised"),
        (
            "He was taken to the operating room for the orbitozygomatic approach to the skull base tumor.",
            "PRIOR_SURGERY",
            "orbitozygomatic approach",
        ),
        ("She had a left anterior temporal lobectomy for epilepsy.", "PRIOR_SURGERY", "anterior temporal lobectomy"),
        ("Status post selective amygdalohippocampectomy.", "PRIOR_SURGERY", "selective amygdalohippocampectomy"),
        (
            "Laser interstitial thermal therapy of the thalamic lesion.",
            "PRIOR_SURGERY",
            "Laser interstitial thermal therapy",
        ),
        # the many ways neurodegenerative disease, infection and demyelination are written
        ("Elderly demented woman from a nursing home.", "NEURODEGENERATIVE", "demented"),
        ("Diagnosed with corticobasal degeneration last year.", "NEURODEGENERATIVE", "corticobasal degeneration"),
        ("History of Pick's disease.", "NEURODEGENERATIVE", "Pick's disease"),
        ("Probable motor neuron disease.", "NEURODEGENERATIVE", "motor neuron disease"),
        ("Admitted with meningoencephalitis.", "INFECTION", "meningoencephalitis"),
        ("CSF VDRL positive, consistent with neurosyphilis.", "INFECTION", "neurosyphilis"),
        (
            "MRI of the brain suggests progressive multifocal leukoencephalopathy.",
            "INFECTION",
            "progressive multifocal leukoencephalopathy",
        ),
        ("Frontal subdural empyema after sinusitis.", "INFECTION", "subdural empyema"),
        ("She has relapsing-remitting MS on natalizumab.", "INFLAMMATORY", "relapsing-remitting MS"),
        ("Neuromyelitis optica spectrum disorder (NMOSD), AQP4 positive.", "INFLAMMATORY", "NMOSD"),
        ("First demyelinating episode: clinically isolated syndrome.", "INFLAMMATORY", "demyelinating episode"),
        ("Biopsy-proven primary angiitis of the CNS.", "INFLAMMATORY", "primary angiitis of the CNS"),
        # stroke and epilepsy written as the syndrome
        ("Hypertensive thalamic hemorrhage two years ago.", "STROKE", "thalamic hemorrhage"),
        ("Infantile spasms at 6 months, now Lennox-Gastaut syndrome.", "EPILEPSY", "Lennox-Gastaut syndrome"),
        ("Grand mal episodes since childhood.", "EPILEPSY", "Grand mal"),
    ],
)
def test_written_form_is_found(text, label, words):
    assert (label, words) in found(text)


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("CT neck: an enlarging mass of the left parotid region.", "TUMOR_RECURRENCE"),
        ("Excision of an infected pilonidal cyst.", "PRIOR_SURGERY"),
        ("The patient now returns to undergo excision of the left breast tissue.", "PRIOR_SURGERY"),
        ("Prostate brachytherapy in 2010.", "PRIOR_RADIATION"),
        ("Septic emboli to both lungs from tricuspid endocarditis.", "INFECTION"),
        ("Serum cysticercus EITB is negative.", "INFECTION"),
        ("She has had some worsening of her symptoms over the last few days.", "TUMOR_RECURRENCE"),
        ("Transnasal transsphenoidal approach in resection of pituitary tumor.", "PRIOR_SURGERY"),
    ],
)
def test_other_organ_or_symptom_is_not_found(text, label):
    hits = [w for lab, w in found(text) if lab == label]
    if label == "PRIOR_SURGERY" and "resection" in text:
        assert hits == ["resection"]  # the approach of a named resection is that resection, not a second one
    else:
        assert hits == []


def test_a_bare_word_at_a_chunk_start_is_judged_by_the_sentences_before_the_chunk():
    """Long notes run in chunks; "The tumor" opening a chunk refers back across the cut, whatever other
    organs the rest of the chunk names (a closing paragraph's muscle, bone and skin)."""
    from extractor import knowledge

    size = knowledge.pipeline_config().chunk_chars
    filler = "The patient tolerated this step well and the team proceeded as planned. " * 40
    head = filler[: size - 120] + "\n\nThe acoustic neuroma was exposed in the cerebellopontine angle.\n\n"
    tail = "The tumor was debulked. The muscle was closed. The bone flap was replaced. The skin was closed.\n"
    assert len(head) < size < len(head + tail)
    tumors = [m for m in extract(head + tail).mentions if m.label == "BRAIN_TUMOR" and m.text == "tumor"]
    assert tumors and tumors[0].start >= len(head)
