"""More ConText probe rows (run by test_context_probes.py): note headers, ED and consult wording, negated lists and
denied histories, dated sentence openings, relative clauses, MR spectroscopy and treatment-effect wording.
Issue 11."""

# rows only: test_context_probes.py runs them with its own rows (text, label, word in the span, flags)
PROBES = [
        # negated lists, denied histories (negated only: the flag decides nothing for a negated finding)
        ("No seizures, stroke, or dementia.", "NEURODEGENERATIVE", None, "negated"),
        ("No history of stroke or seizures.", "EPILEPSY", None, "negated"),
        ("He denies any history of brain surgery or radiation.", "PRIOR_RADIATION", None, "negated historical"),
        ("No known history of brain tumor.", "BRAIN_TUMOR", None, "negated"),
        ("There is no abscess, but there is a new enhancing lesion.", "BRAIN_LESION", None, ""),
        ("No hydrocephalus or abscess.", "ABSCESS", None, "negated"),
        ("No residual enhancing tumor is seen.", "TUMOR_RECURRENCE", None, "negated"),
        ("Stable postoperative appearance without evidence of recurrent glioma.", "TUMOR_RECURRENCE", None, "negated"),
        ("No mass, mass effect, or midline shift.", "BRAIN_LESION", None, "negated"),
        ("Not consistent with infection.", "INFECTION", None, "negated"),
        ("The lesion was not biopsied.", "PRIOR_SURGERY", None, "negated"),
        ("He never received radiation to the brain.", "PRIOR_RADIATION", None, "negated historical"),
        ("She is free of recurrence 5 years after resection.", "TUMOR_RECURRENCE", None, "negated"),
        ("No radiation necrosis.", "TREATMENT_EFFECT", None, "negated"),
        ("There is no evidence of pseudoprogression.", "TREATMENT_EFFECT", None, "negated"),
        ("The tumor has not recurred since 2020.", "BRAIN_TUMOR", None, ""),
        ("No recurrence since resection in 2020.", "TUMOR_RECURRENCE", None, "negated"),
        # section headers, dates at the head of a sentence; a 'known' lesion or tumour is a current one
        ("PAST SURGICAL HISTORY: Craniotomy for meningioma 2012.", "PRIOR_SURGERY", None, "historical"),
        (
            "PAST MEDICAL HISTORY: Glioblastoma, s/p resection and chemoradiation.",
            "PRIOR_RADIATION",
            None,
            "historical",
        ),
        ("HISTORY OF PRESENT ILLNESS: She presents with a new seizure.", "EPILEPSY", None, ""),
        ("IMPRESSION: New enhancing lesion in the resection cavity.", "BRAIN_LESION", None, ""),
        ("The patient underwent stereotactic biopsy on 02/14/2026.", "PRIOR_SURGERY", None, "historical"),
        ("Three years ago she had a left frontal craniotomy.", "PRIOR_SURGERY", None, "historical"),
        ("In 2019 she underwent whole brain radiation.", "PRIOR_RADIATION", None, "historical"),
        ("Her known meningioma is unchanged.", "BRAIN_TUMOR", None, ""),
        ("The glioma was treated with proton therapy.", "PRIOR_RADIATION", None, "historical"),
        ("He has been receiving temozolomide since completing radiation.", "PRIOR_RADIATION", None, "historical"),
        ("MR spectroscopy performed in 2024 favored treatment effect.", "MRS_REQUEST", None, "historical"),
        ("A prior MRS in 2023 was inconclusive.", "MRS_REQUEST", None, "historical"),
        (
            "Radiation necrosis was diagnosed in 2022 and treated with bevacizumab.",
            "TREATMENT_EFFECT",
            None,
            "historical",
        ),
        ("He had radiation necrosis after SRS in 2021.", "TREATMENT_EFFECT", None, "historical"),
        ("Recurrence in 2022 was treated with re-resection.", "TUMOR_RECURRENCE", None, "historical"),
        # plans in ED, consult and disposition wording
        ("DISPOSITION: Follow up in neurosurgery clinic to discuss resection.", "PRIOR_SURGERY", None, "hypothetical"),
        (
            "ED course: neurosurgery consulted; no surgery planned tonight; craniotomy tomorrow.",
            "PRIOR_SURGERY",
            "craniotomy",
            "hypothetical",
        ),
        ("Neurosurgery was consulted for possible craniotomy.", "PRIOR_SURGERY", None, "hypothetical"),
        ("We are requesting MR spectroscopy before deciding on re-resection.", "PRIOR_SURGERY", None, "hypothetical"),
        ("Options include repeat resection, re-irradiation, or observation.", "PRIOR_SURGERY", None, "hypothetical"),
        ("She prefers to avoid radiation.", "PRIOR_RADIATION", None, "hypothetical"),
        ("Radiation therapy is not recommended.", "PRIOR_RADIATION", None, "hypothetical"),
        ("Request MR spectroscopy of the left frontal lesion.", "MRS_REQUEST", None, ""),
        ("Grade 2 astrocytoma; if it transforms to a higher grade, we would treat.", "BRAIN_TUMOR", None, ""),
        # family: possessives and relative clauses
        ("His brother's glioblastoma was diagnosed at 45.", "BRAIN_TUMOR", None, "family"),
        ("Patient's mother has dementia and lives with her.", "NEURODEGENERATIVE", None, "family"),
        ("She cares for her husband, who had a stroke.", "STROKE", None, "family"),
        ("Her husband, who had a stroke, brought her in for her seizure.", "EPILEPSY", None, ""),
        (
            "His father had radiation necrosis after treatment of a brain metastasis.",
            "TREATMENT_EFFECT",
            None,
            "family",
        ),
        # uncertainty ('possibly' too); 'felt to represent' is none
        # (dev 464: 'This was felt to represent a thromboembolic event')
        ("Possible early recurrence versus pseudoprogression.", "TREATMENT_EFFECT", None, "uncertain"),
        ("The lesion is felt to represent a metastasis.", "BRAIN_TUMOR", None, ""),
        ("Findings raise concern for abscess.", "ABSCESS", None, "uncertain"),
        ("There is suspicion of encephalitis.", "INFECTION", None, "uncertain"),
        ("Suspected tumor progression.", "TUMOR_RECURRENCE", None, "uncertain"),
        ("The seizure was possibly provoked.", "EPILEPSY", None, ""),
        ("Pseudoprogression is favored.", "TREATMENT_EFFECT", None, "uncertain"),
        ("Treatment effect is the favored diagnosis.", "TREATMENT_EFFECT", None, "uncertain"),
        ("Increasing enhancement, possibly recurrence.", "TUMOR_RECURRENCE", "recurrence", "uncertain"),
        ("Recurrence is considered less likely.", "TUMOR_RECURRENCE", None, "uncertain"),
        # review-of-systems lines and yes/no fields
        ("CNS: No seizures. No stroke.", "STROKE", None, "negated"),
        ("Seizure disorder: No", "EPILEPSY", None, "negated"),
]


# Still wrong (a fix moves the row up): 'last spring' reads backward only; a "(Y/N): N" field is not read as an
# answer.
STILL_WRONG = [
        ("He was admitted last spring with meningitis.", "INFECTION", "historical", ""),
        ("Dementia (Y/N): N", "NEURODEGENERATIVE", "negated", ""),
]
