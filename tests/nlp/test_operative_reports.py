"""Operative reports and the brain-tumour findings around them (issue 11), class by class: an operative
narrative names "the tumor" sentence after sentence without naming the brain again, and names bone, muscle
and skin as it closes; its instruments, steps and the clot it removes are no findings. Each case is a short
sentence a clinician can read; `kept` says whether it is a mention of the concept
(labels/mtsamples/README.md, fifth round's decisions).
"""

import pytest

from extractor import knowledge
from extractor.nlp.extract import extract
from tests.helpers import mentioned

CLOSING = " The muscle, fascia and bone were closed in layers and the skin was stapled."


def found(text: str, label: str) -> list[str]:
    return [m.text for m in extract(text).mentions if m.label == label]


def test_the_tumor_of_an_operative_narrative_refers_back_to_the_brain_tumour():
    """Each "the tumor" refers back to the one before it, however many sentences name no anatomy."""
    text = (
        "A left occipital craniotomy was performed for the metastasis. The tumor was exposed under the microscope."
        " We biopsied the tumor and sent it to pathology. Frozen section showed adenocarcinoma."
        " Following this we debulked the tumor with the CUSA." + CLOSING
    )
    tumors = [m for m in extract(text).mentions if m.label == "BRAIN_TUMOR" and m.text == "tumor"]
    assert len(tumors) == 3
    assert "debulked" in found(text, "PRIOR_SURGERY")


def test_a_tumour_named_across_a_chunk_cut_is_judged_by_the_sentence_before_the_cut():
    """The sentence before the cut names the brain and the breast the metastasis came from: it is about the brain."""
    size = knowledge.pipeline_config().chunk_chars
    filler = "The patient tolerated this step well and the team proceeded as planned. " * 40
    head = (
        filler[: size - 160]
        + "\n\nThis was returned as a malignant brain tumor, adenocarcinoma compatible with breast cancer.\n\n"
    )
    tail = "Following this we debulked this tumor using CUSA." + CLOSING + "\n"
    assert len(head) < size < len(head + tail)
    mentions = extract(head + tail).mentions
    assert [m.text for m in mentions if m.label == "BRAIN_TUMOR" and m.start >= len(head)] == ["tumor"]


@pytest.mark.parametrize(
    ("text", "label", "word", "kept"),
    [
        # a craniotomy's own words place the sentence in the brain: the bone flap, the interhemispheric fissure
        (
            "The bone flap was elevated. The ultrasound showed the tumors in the interhemispheric fissure.",
            "BRAIN_TUMOR",
            "tumors",
            True,
        ),
        ("The free bone flap was replaced. The tumor bed was dry.", "BRAIN_TUMOR", "tumor", True),
    ],
)
def test_operative_words(text, label, word, kept):
    assert mentioned(extract(text).mentions, label, word) is kept


@pytest.mark.parametrize(
    ("text", "label", "word", "kept"),
    [
        # an instrument is no biopsy; the clot or haematoma removed is no tumour surgery (the craniotomy is)
        (
            "Left craniotomy. Using suction and biopsy forceps, acute clot was resected from the frontal pole.",
            "PRIOR_SURGERY",
            "biopsy",
            False,
        ),
        (
            "Left craniotomy. Using suction and biopsy forceps, acute clot was resected from the frontal pole.",
            "PRIOR_SURGERY",
            "resected",
            False,
        ),
        (
            "The dura was opened over the brain, and after removal of the hematoma the brain came back up.",
            "PRIOR_SURGERY",
            "removal",
            False,
        ),
        (
            "The dura was opened and a gelatinous mass of subdural clot was peeled away from the brain.",
            "BRAIN_LESION",
            "mass",
            False,
        ),
        ("Stereotactic biopsy of the left thalamic mass was performed.", "PRIOR_SURGERY", "biopsy", True),
        ("The left frontal tumor was resected in 2019.", "PRIOR_SURGERY", "resected", True),
        ("MRI brain: a left frontal mass with surrounding edema.", "BRAIN_LESION", "mass", True),
        # a step of the approach is not the operation; a scar excised on the way is no brain surgery
        ("Here we made a small corticectomy over the temporal tumor.", "PRIOR_SURGERY", "corticectomy", False),
        (
            "Shave was carried out over the occipital region and I marked the hypertrophic scar for excision.",
            "PRIOR_SURGERY",
            "excision",
            False,
        ),
        # a device named first is what is removed; the department; the temple is not the temporal lobe
        (
            "Intraventricular hemorrhage with an Ommaya reservoir, recommendation for removal and a new VP shunt.",
            "PRIOR_SURGERY",
            "removal",
            False,
        ),
        (
            "She had a consult with Radiation-Oncology about her brain metastases.",
            "PRIOR_RADIATION",
            "Radiation",
            False,
        ),
        (
            "On admission she complained of a left temporal headache at the biopsy site.",
            "PRIOR_SURGERY",
            "biopsy",
            False,
        ),
    ],
)
def test_instruments_steps_and_what_is_removed(text, label, word, kept):
    assert mentioned(extract(text).mentions, label, word) is kept


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # a craniotomy's own burr holes are brain surgery; a shunt's, a drain's or an electrode's are not
        ("Burr holes were placed low in the temporal bone and the bone flap was turned.", True),
        ("Using a craniotome, several bur holes were made on either side of the midline.", True),
        ("A right frontal burr hole was made and the ventricular catheter was passed into the frontal horn.", False),
        ("The Ommaya reservoir was placed through a small burr hole.", False),
        ("This electrode was secured in position using a bur-hole ring and cap system.", False),
        ("A bur hole was fashioned with the perforator and a subdural drain was inserted.", False),
        ("A burr hole was made.", False),  # no operation named at all: nothing says whose it is
    ],
)
def test_a_burr_hole_is_brain_surgery_when_it_is_a_craniotomys(text, kept):
    assert mentioned(extract(text).mentions, "PRIOR_SURGERY", "hole") is kept


def test_a_burr_hole_craniotomy_is_one_finding():
    assert found("TYPE OF OPERATION: Right burr hole craniotomy for a chronic subdural hematoma.", "PRIOR_SURGERY") == [
        "burr hole craniotomy"
    ]


@pytest.mark.parametrize(
    ("text", "label", "words"),
    [
        # skull surgery named by its operation; a metastasis whose list of sites ends with the brain
        (
            "TITLE OF OPERATION: Anterior cranial vault reconstruction with fronto-orbital bar advancement.",
            "PRIOR_SURGERY",
            ["Anterior cranial vault reconstruction"],
        ),
        (
            "History of breast cancer that has metastasized to her lung, liver, spleen, and brain.",
            "BRAIN_TUMOR",
            ["metastasized"],
        ),
        ("Breast cancer that has metastasized to her lung, liver and bones.", "BRAIN_TUMOR", []),
    ],
)
def test_operation_and_metastasis_written_out(text, label, words):
    assert found(text, label) == words


@pytest.mark.parametrize(
    ("text", "label", "word", "kept"),
    [
        # the skull's bones, the scalp, the spine's roots and sac, the sinuses and larynx are other organs
        ("CT head: a 1 cm lytic lesion of the left parietal bone.", "BRAIN_LESION", "lesion", False),
        ("Excision of a 2 cm occipital scalp lesion.", "PRIOR_SURGERY", "Excision", False),
        ("Excision of a 2 cm occipital scalp lesion.", "BRAIN_LESION", "lesion", False),
        ("The thecal sac was compressed by a mass at L4.", "BRAIN_LESION", "mass", False),
        ("CT sinus: a polypoid mass filling the left ethmoid sinus.", "BRAIN_LESION", "mass", False),
        ("Laryngoscopy: an exophytic lesion of the left vocal cord.", "BRAIN_LESION", "lesion", False),
        ("MRI brain: a mass in the left parietal lobe.", "BRAIN_LESION", "mass", True),
        # a dural venous sinus is the brain's, not the bowel's sigmoid
        ("MRV: thrombosis of the right transverse and sigmoid sinus with a small mass.", "BRAIN_LESION", "mass", True),
        # an approach's tissue removed is no lesion surgery; the tumour removed with it is
        (
            "The annulus was cut and piecemeal removal of the disc and dura was done at L4-5.",
            "PRIOR_SURGERY",
            "removal",
            False,
        ),
        (
            "Left craniotomy and gross total removal of the tumor and the involved dura.",
            "PRIOR_SURGERY",
            "removal",
            True,
        ),
    ],
)
def test_other_organs_of_the_head_and_spine(text, label, word, kept):
    assert mentioned(extract(text).mentions, label, word) is kept


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        # radiosurgery planning names its target "the tumor volume", whatever is treated (here an AVM)
        ("Radiosurgery for a right occipital AVM. Treatment was planned. I outlined the tumor volume.", False),
        ("MRI brain: the left frontal tumor volume has increased since March.", True),
    ],
)
def test_a_planning_target_is_no_tumour(text, kept):
    assert mentioned(extract(text).mentions, "BRAIN_TUMOR", "tumor") is kept
