"""What a concept word is about, class by class, as real notes write it (issue 11): a word that names a brain
finding in one sentence names another organ's, a test, a drug or a heading in the next. Each case is a short
sentence a clinician can read; `kept` says whether it is a mention of the concept (labels/mtsamples/README.md).
"""

import pytest

from extractor.nlp.extract import extract
from tests.helpers import mentioned

CASES = [
    # a list of operations or a sentence about two organs: the organ nearest the word decides, not any brain word
    (
        "PAST SURGICAL HISTORY: Craniotomy in 2001, left ovary resection and biopsy of a tumor in the neck.",
        "PRIOR_SURGERY",
        "resection",
        False,
    ),
    (
        "PAST SURGICAL HISTORY: Craniotomy in 2001, left ovary resection and biopsy of a tumor in the neck.",
        "BRAIN_TUMOR",
        "tumor",
        False,
    ),
    (
        "PAST SURGICAL HISTORY: Knee arthroscopy, then craniotomy for resection of a left frontal tumor.",
        "PRIOR_SURGERY",
        "resection",
        True,
    ),
    (
        "PAST SURGICAL HISTORY: Knee arthroscopy, then craniotomy for resection of a left frontal tumor.",
        "BRAIN_TUMOR",
        "tumor",
        True,
    ),
    # where words overlap the longer wins: the left ventricle is the heart's, a lateral ventricle the brain's
    (
        "ECHO: The left atrium was mildly dilated. No masses or thrombi in the left ventricle.",
        "BRAIN_LESION",
        "mass",
        False,
    ),
    ("MRI brain: a 2 cm mass in the left lateral ventricle.", "BRAIN_LESION", "mass", True),
    (
        "She was thought to have temporal arteritis and underwent temporal artery biopsy.",
        "PRIOR_SURGERY",
        "biopsy",
        False,
    ),
    # the organ a metastasis came from is not where it is
    (
        "POSTOPERATIVE DIAGNOSES: Brain tumors, multiple - adenocarcinoma and metastasis from breast.",
        "BRAIN_TUMOR",
        "metastasis",
        True,
    ),
    # organs and sites the vocabulary lacked: genital, joint, vessel, the jaw, the buttock, the sternum
    ("She specifically denies any blistering, herpetic genital lesions.", "BRAIN_LESION", "lesion", False),
    (
        "MRI left elbow: tendinitis of the common extensor tendon. No solid or cystic mass lesion.",
        "BRAIN_LESION",
        "lesion",
        False,
    ),
    ("The carotid bulb was opened and extended through the very tight lesion.", "BRAIN_LESION", "lesion", False),
    ("Incision and drainage of a left mandibular vestibular abscess.", "ABSCESS", "abscess", False),
    ("PREOPERATIVE DIAGNOSIS: Left gluteal abscess.", "ABSCESS", "abscess", False),
    ("After her bypass she developed a sternal abscess.", "ABSCESS", "abscess", False),
    ("PREOPERATIVE DIAGNOSES: 1. Left calcaneus fracture with infection.", "INFECTION", "infection", False),
    ("Biopsy showed a schwannoma of the brachial plexus.", "BRAIN_TUMOR", "schwannoma", False),
    ("MRI brain: a schwannoma at the right cerebellopontine angle.", "BRAIN_TUMOR", "schwannoma", True),
    # a sentence before the word counts if it names the brain at all; a weak arm is no stroke's site
    (
        "New ring-enhancing left frontal lesion; ddx includes glioma versus abscess after a dental procedure. "
        "Cannot exclude abscess.",
        "ABSCESS",
        "abscess",
        True,
    ),
    ("She has had right arm weakness for two days. MRI showed an acute infarct.", "STROKE", "infarct", True),
    ("The MRI showed only an old right basal ganglion infarct.", "STROKE", "infarct", True),
    (
        "It was suspected that he sustained an anterior spinal cord infarction with paraplegia.",
        "STROKE",
        "infarct",
        False,
    ),
    # INFECTION is a CNS infection: a site or organism outside the CNS names another one
    ("ASSESSMENT: 2. Urinary tract infection. Will treat with ceftriaxone.", "INFECTION", "infection", False),
    ("Two sets of laboratory testing were done to stage his HIV infection.", "INFECTION", "infection", False),
    ("PREOPERATIVE DIAGNOSES: 1. Postoperative wound infection.", "INFECTION", "infection", False),
    ("FAMILY HISTORY: Her father was treated for a lung infection for 9 months.", "INFECTION", "infection", True),
    (
        "Central nervous system infection remains possible; bacterial meningitis is the main concern.",
        "INFECTION",
        "meningitis",
        True,
    ),
    # a procedure's risks are no finding, however long the list
    ("This procedure carries a 2% to 3% risk of meningitis.", "INFECTION", "meningitis", False),
    (
        "There is also the risk of a dural tear with its attendant problems of CSF leak, headache, nausea, vomiting, "
        "photophobia, pseudomeningocele, and meningitis.",
        "INFECTION",
        "meningitis",
        False,
    ),
    # a test named for a disease, a drug class, a non-epileptic event
    (
        "TESTS ADMINISTERED: Clinical Interview, Mattis Dementia Rating Scale, Trail Making Test.",
        "NEURODEGENERATIVE",
        "dementia",
        False,
    ),
    ("On arrival the NIH Stroke Scale was 4.", "STROKE", "stroke", False),
    ("She had failed most of the first and second line anti-epileptic drugs.", "EPILEPSY", "epileptic", False),
    ("The event was consistent with a non-epileptic pseudoseizure.", "EPILEPSY", "epileptic", False),
    ("Neurologic consultation was requested to adjust her seizure medication.", "EPILEPSY", "seizure", False),
    ("She had a breakthrough seizure at home.", "EPILEPSY", "seizure", True),
    ("Moderate-to-severe dementia, Alzheimer type.", "NEURODEGENERATIVE", "dementia", True),
    # CVA is also the costovertebral angle of an abdominal or back exam
    ("Back: No CVA or spinal tenderness.", "STROKE", "CVA", False),
    ("Abdomen: Soft, nondistended. CVA is benign.", "STROKE", "CVA", False),
    ("PAST MEDICAL HISTORY: CVA in 2002 with right eye blindness.", "STROKE", "CVA", True),
    # an inflammatory process of the bowel, a vasculitis of the eye
    ("CT abdomen: inflammatory changes around this loop of bowel.", "INFLAMMATORY", "inflammatory", False),
    ("They did not think she had evidence of vasculitis in her eye.", "INFLAMMATORY", "vasculitis", False),
    (
        "MRI brain: white matter lesions; the differential includes an inflammatory process.",
        "INFLAMMATORY",
        "inflammatory",
        True,
    ),
    # progression, recurrence and residual of something that is no brain tumour
    ("EKG shows atrial fibrillation with poor R-wave progression.", "TUMOR_RECURRENCE", "progression", False),
    (
        "The stalk appeared cauterized and no residual adenomatous tissue was present.",
        "TUMOR_RECURRENCE",
        "residual",
        False,
    ),
    ("She would be at risk for hemorrhagic pericardial effusion recurrence.", "TUMOR_RECURRENCE", "recurrence", False),
    ("MRI brain shows recurrence of the left temporal glioblastoma.", "TUMOR_RECURRENCE", "recurrence", True),
    # the radiation of pain
    ("She describes sharp chest pain without radiation.", "PRIOR_RADIATION", "radiation", False),
    ("Low back pain with radiation down the left leg.", "PRIOR_RADIATION", "radiation", False),
    ("She completed whole brain radiation in 2019.", "PRIOR_RADIATION", "radiation", True),
    # an operation's name is an organ's word; a disease that says nothing of where a word is places nothing
    ('PMH: 3) Right oophorectomy 1949 for "tumor." 4) Bladder repair 1980.', "BRAIN_TUMOR", "tumor", False),
    (
        "IMPRESSION: Cervical cord lesion at C7 to T2. Consider a transverse myelitis, tumor or contusion.",
        "BRAIN_TUMOR",
        "tumor",
        False,
    ),
    (
        "He denies liver disease, hepatitis major infection, seizure disorders or other problems.",
        "INFECTION",
        "infection",
        False,
    ),
    ("Known left temporal glioblastoma; the tumor has grown.", "BRAIN_TUMOR", "tumor", True),
    # removing a dressing is no operation
    ("Placement of a new VP shunt and removal of right frontal Ommaya reservoir.", "PRIOR_SURGERY", "removal", False),
    ("Plan was for removal of the dressing tomorrow.", "PRIOR_SURGERY", "removal", False),
    # a lesion of the skull's bone (myeloma, a lytic metastasis) is the bone's, not the brain's
    ("Multiple myeloma with lytic lesions of the skull.", "BRAIN_LESION", "lesions", False),
    ("There is a lytic lesion of the skull from myeloma.", "BRAIN_LESION", "lesion", False),
    (
        "MRI brain shows an enhancing lesion in the left parietal lobe eroding the skull.",
        "BRAIN_LESION",
        "lesion",
        True,
    ),
    # a skin lesion of the face, its punch biopsy or excision, is the skin's
    ("A punch biopsy of a lesion on the nose was performed.", "BRAIN_LESION", "lesion", False),
    ("A punch biopsy of a lesion on the nose was performed.", "PRIOR_SURGERY", "biopsy", False),
    ("Basal cell carcinoma of the forehead was excised.", "PRIOR_SURGERY", "excised", False),
    # Hodgkin lymphoma and its mantle-field radiation are the chest's; a CNS lymphoma "of the brain" is the brain's
    ("Hodgkin lymphoma treated with mantle field radiation.", "BRAIN_TUMOR", "lymphoma", False),
    ("Hodgkin lymphoma treated with mantle field radiation.", "PRIOR_RADIATION", "radiation", False),
    ("Non-Hodgkin lymphoma with a mass in the right frontal lobe.", "BRAIN_TUMOR", "lymphoma", True),
    ("Primary CNS non-Hodgkin lymphoma of the brain.", "BRAIN_TUMOR", "lymphoma", True),
    ("Lymphoma of the stomach.", "BRAIN_TUMOR", "Lymphoma", False),
    # a tumour named for another organ (Wilms, Warthin, Pancoast, GIST) and a lesion of the back, palm or shoulder
    ("Wilms tumor as a child.", "BRAIN_TUMOR", "tumor", False),
    ("Pancoast tumor of the right apex.", "BRAIN_TUMOR", "tumor", False),
    ("Gastrointestinal stromal tumor.", "BRAIN_TUMOR", "tumor", False),
    ("He had a mass removed from his back.", "BRAIN_LESION", "mass", False),
    ("Target lesions on the palms.", "BRAIN_LESION", "lesions", False),
    ("Hill-Sachs lesion of the humeral head.", "BRAIN_LESION", "lesion", False),
    ("Excision of a ganglion cyst.", "PRIOR_SURGERY", "Excision", False),
    ("Glioblastoma of the left frontal lobe. The tumor came back.", "BRAIN_TUMOR", "tumor", True),
    ("MRI brain shows a lesion in the left basal ganglia, and he has back pain.", "BRAIN_LESION", "lesion", True),
    # a peripheral nerve's lesion and an ear canal's mass are not the brain's
    ("Peroneal nerve lesion.", "BRAIN_LESION", "lesion", False),
    ("Lower motor neuron lesion.", "BRAIN_LESION", "lesion", False),
    ("Mass in the external auditory canal.", "BRAIN_LESION", "Mass", False),
    ("Lesion of the cerebellopontine angle.", "BRAIN_LESION", "Lesion", True),
    # an imaging study's radiation dose or exposure is no radiation treatment; a treatment dose in cGy is
    (
        "Cerebral angiogram. Fluoroscopy time was 5 minutes and the radiation dose was 300 mGy.",
        "PRIOR_RADIATION",
        "radiation",
        False,
    ),
    (
        "CT head without contrast. Dose reduction techniques were used to minimize radiation dose.",
        "PRIOR_RADIATION",
        "radiation",
        False,
    ),
    ("He has a history of radiation exposure at work.", "PRIOR_RADIATION", "radiation", False),
    (
        "Glioblastoma treated with a radiation dose of 6000 cGy to the left temporal lobe.",
        "PRIOR_RADIATION",
        "radiation",
        True,
    ),
    # treatment changes of another organ are no brain treatment effect
    ("Posttreatment changes in the breast.", "TREATMENT_EFFECT", "Posttreatment changes", False),
    ("Treatment effect in the liver metastases.", "TREATMENT_EFFECT", "Treatment effect", False),
    ("MRI brain. Posttreatment changes in the left frontal lobe.", "TREATMENT_EFFECT", "Posttreatment changes", True),
]


@pytest.mark.parametrize(("text", "label", "word", "kept"), CASES)
def test_what_the_word_is_about(text, label, word, kept):
    assert mentioned(extract(text).mentions, label, word) is kept
