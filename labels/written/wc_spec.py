"""wc-NN findings: (concept, text, unique anchor or None, flags n/h/y/f/u); docs = clinician, office note, prior imaging, labs, alt-imaging reason."""
T, R, E, RAD, SUR, L, A, I, INF, G, EP, ND, S, M = ('BRAIN_TUMOR', 'TUMOR_RECURRENCE', 'TREATMENT_EFFECT', 'PRIOR_RADIATION',
    'PRIOR_SURGERY', 'BRAIN_LESION', 'ABSCESS', 'INFLAMMATORY', 'INFECTION', 'GLIOMA_GRADING', 'EPILEPSY',
    'NEURODEGENERATIVE', 'STROKE', 'MRS_REQUEST')
NOTES = {}
NOTES['01'] = ("Written general-medicine pre-operative H&P: remote TIA (not labelled), PMH 'No history of stroke, seizures' (negated+historical), family Alzheimer's dementia, father's stroke, brother's brain tumor (family), negated neuro ROS, 'risk of dementia' hypothetical. No indication.", 'ppmpm', [
 (S, 'stroke', 'No history of stroke', 'nh'),
 (EP, 'seizures', 'stroke, seizures or head', 'nh'),
 (ND, "Alzheimer's dementia", None, 'f'),
 (S, 'stroke', 'had a stroke at 70', 'f'),
 (T, 'brain tumor', None, 'f'),
 (EP, 'seizures', 'dizziness, seizures', 'n'),
 (ND, 'neurodegenerative disease', None, 'f'),
 (ND, 'dementia', 'risk of dementia', 'y'),
 ])
NOTES['02'] = ("Written cardiology AF follow-up: CHA2DS2-VASc, 'never had a stroke', score item 'prior stroke/TIA ... 0', stroke risk/prophylaxis/prevention hypothetical, echo 'Stroke volume' and sister's 'brain bleed' not labelled. No indication.", 'ppmpm', [
 (S, 'stroke', 'never had a stroke', 'n'),
 (S, 'stroke', 'prior stroke/TIA', 'nh'),
 (S, 'stroke', 'annual stroke risk', 'y'),
 (S, 'stroke', 'about stroke prophylaxis', 'y'),
 (S, 'stroke', 'for stroke prevention', 'y'),
 ])
NOTES['03'] = ("Written ED note, minor head injury on apixaban: CT head negative ('No mass lesion'), no seizure activity, 'No history of stroke', return precautions 'seizure' hypothetical; 'ischemic changes' not labelled. No indication.", 'ppppm', [
 (EP, 'seizure', 'No seizure activity', 'n'),
 (S, 'stroke', 'No history of stroke', 'nh'),
 (L, 'mass lesion', 'No mass lesion', 'n'),
 (EP, 'seizure', 'weakness, seizure)', 'y'),
 ])
NOTES['04'] = ("Written psychiatry C-L consult: depression, 'r/o dementia', CT head left frontal dural-based mass 'most likely a meningioma' (buried brain tumour), differential Alzheimer/FTD uncertain, father's Parkinson's (family), surgery only in a capacity statement (hypothetical). Partial + neurodegenerative present.", 'ppppm', [
 (ND, 'dementia', 'r/o dementia', 'u'),
 (L, 'mass', 'enhancing mass along', ''),
 (T, 'meningioma', 'likely a meningioma', 'u'),
 (ND, "Parkinson's disease", None, 'f'),
 (L, 'mass', 'from the left frontal mass', ''),
 (ND, 'neurodegenerative process', None, 'u'),
 (ND, "Alzheimer's disease", None, 'u'),
 (ND, 'frontotemporal dementia', None, 'u'),
 (L, 'mass', 'make the mass the', ''),
 (ND, 'dementia', 'labeling this dementia', 'u'),
 (L, 'lesion', 'until the lesion', ''),
 (SUR, 'surgery', 'including surgery', 'y'),
 ])
NOTES['05'] = ("Written head-and-neck oncology surveillance: NPC after IMRT 70 Gy to nasopharynx and neck (PRIOR_RADIATION historical, as c08), new parotid lesion, negated intracranial extension; orbit, nasopharynx, parotid not brain. No indication (radiation only).", 'pppmm', [
 (RAD, 'IMRT', 'cisplatin and IMRT', 'h'),
 (RAD, '70 Gy', None, 'h'),
 (RAD, 'RT', 'since RT', 'h'),
 (RAD, 'radiation', 'hypothyroidism (post radiation)', 'h'),
 (RAD, 'radiotherapy', 'before radiotherapy', 'h'),
 (RAD, 'radiation', 'post radiation fibrosis', 'h'),
 (RAD, 'chemoradiation', 'after chemoradiation for NPC', 'h'),
 (RAD, 'radiation', 'radiation-induced', 'h'),
 (RAD, 'radiation', 'post-radiation hypothyroidism', 'h'),
 ])
NOTES['06'] = ("Written neuro-ophthalmology: bitemporal hemianopia from an enlarging residual pituitary macroadenoma after transsphenoidal resection (buried brain tumour, recurrence); retinal 'lesion' (choroidal nevus), optic nerves not labelled; repeat surgery/radiosurgery hypothetical.", 'ppppm', [
 (T, 'pituitary macroadenoma', 'hx of pituitary macroadenoma', 'h'),
 (SUR, 'transsphenoidal resection', None, 'h'),
 (T, 'pituitary adenoma', 'pathology: pituitary adenoma', 'h'),
 (R, 'enlarging', 'enlarging residual', ''),
 (L, 'mass', 'suprasellar mass measuring', ''),
 (R, 'recurrent', 'from recurrent pituitary', ''),
 (T, 'pituitary macroadenoma', 'recurrent pituitary macroadenoma', ''),
 (SUR, 'transsphenoidal surgery', None, 'h'),
 (SUR, 'repeat surgery', None, 'y'),
 (RAD, 'radiation', 'and/or radiation', 'y'),
 (RAD, 'stereotactic radiosurgery', None, 'y'),
 ])
NOTES['07'] = ("Written pain-medicine consult: lumbar radiculopathy, spinal cord stimulator, psoas 'lesion'/'schwannoma', vertebral hemangioma, 'No lumbar mass' (none brain); PMH 'No history of seizures or stroke'. No indication.", 'ppmpm', [
 (EP, 'seizures', 'No history of seizures', 'nh'),
 (S, 'stroke', 'seizures or stroke', 'nh'),
 ])
NOTES['08'] = ("Written breast oncology: HER2+ breast cancer, staging brain MRI negative ('no evidence of intracranial metastatic disease', 'no enhancing lesion', 'negative for metastases'), chest-wall radiation planned (not brain). No indication.", 'ppppm', [
 (EP, 'seizures', 'No seizures', 'n'),
 (T, 'metastatic disease', 'intracranial metastatic disease', 'n'),
 (L, 'enhancing lesion', 'no enhancing lesion', 'n'),
 (T, 'metastases', 'negative for metastases', 'n'),
 (EP, 'seizure', 'any seizure', 'y'),
 ])
NOTES['09'] = ("Written hospitalist discharge summary for urosepsis, buried GBM after GTR and 60 Gy chemoradiation on TMZ: new enhancement, treatment-related change vs tumor progression, MRS recommended; focal seizure current; perfusion not possible (alternative-imaging reason); discharge summary is no office note.", 'pmppp', [
 (EP, 'Focal seizure', '3. Focal seizure', ''),
 (T, 'Glioblastoma', '4. Glioblastoma', ''),
 (T, 'glioblastoma', 'left frontal glioblastoma diagnosed', 'h'),
 (SUR, 'gross total resection', None, 'h'),
 (RAD, 'chemoradiation', 'concurrent chemoradiation', 'h'),
 (RAD, '60 Gy', None, 'h'),
 (EP, 'focal seizure', 'consistent with a focal seizure', ''),
 (EP, 'seizures', 'without ongoing seizures', 'n'),
 (EP, 'seizure', 'Because of the seizure', ''),
 (SUR, 'resection', 'resection cavity', 'h'),
 (E, 'treatment-related change', None, 'u'),
 (E, 'pseudoprogression', None, 'u'),
 (E, 'radiation necrosis', None, 'u'),
 (R, 'tumor progression', None, 'u'),
 (M, 'MR spectroscopy', 'MR spectroscopy or perfusion', ''),
 (A, 'abscess', 'No abscess', 'n'),
 (INF, 'infection', 'suggest infection', 'n'),
 (M, 'MR spectroscopy', 'MR spectroscopy as outpatient', ''),
 (R, 'recurrence', 'distinguish recurrence', 'u'),
 (E, 'treatment effect', 'from treatment effect', 'u'),
 (SUR, 're-resection', None, 'y'),
 (M, 'MRS', 'week with MRS', ''),
 ])
NOTES['10'] = ("Written pediatric sick visit: simple febrile seizure in a toddler with a VP shunt (shunt not surgery, neonatal IVH not labelled), father's febrile seizures (family), shunt infection/meningitis unlikely (negated), counselling 'seizure' hypothetical. Epilepsy present.", 'pppmm', [
 (EP, 'seizure', 'had a seizure this', ''),
 (EP, 'seizures', 'No previous seizures', 'nh'),
 (EP, 'febrile seizures', 'father had febrile seizures', 'f'),
 (EP, 'epilepsy', 'no epilepsy in family', 'nf'),
 (EP, 'febrile seizure', 'Simple febrile seizure', ''),
 (INF, 'shunt infection', None, 'n'),
 (INF, 'meningitis', 'signs of meningitis', 'n'),
 (EP, 'febrile seizures', 'prevent febrile seizures', 'y'),
 (EP, 'seizure', 'seizure first aid', 'y'),
 (EP, 'seizure', '(seizure >', 'y'),
 ])
NOTES['11'] = ("Written ID consult: MRSA thigh abscess (not brain), meningitis ruled out by LP, MRI brain no abscess/septic emboli/ring enhancing lesions (negated); skin abscesses and Janeway lesions not labelled. No indication.", 'ppppm', [
 (INF, 'bacterial meningitis', 'So bacterial meningitis', 'n'),
 (A, 'brain abscess', None, 'n'),
 (INF, 'septic emboli', None, 'n'),
 (L, 'ring enhancing lesions', None, 'n'),
 (INF, 'Meningitis', '3. Meningitis ruled out', 'n'),
 ])
NOTES['12'] = ("Written rheumatology: GPA (systemic vasculitis, not labelled), transient aphasia with negative MRI ('no infarct', 'no evidence of CNS vasculitis', 'no CNS involvement of vasculitis'), TIA not labelled, brother's MS (family), peripheral vasculitic neuropathy not labelled, 'stroke risk factors' hypothetical. No indication.", 'ppppm', [
 (S, 'infarct', 'no infarct', 'n'),
 (I, 'CNS vasculitis', None, 'n'),
 (EP, 'seizures', 'no seizures', 'n'),
 (I, 'MS', 'brother with MS', 'f'),
 (I, 'vasculitis', 'involvement of vasculitis', 'n'),
 (S, 'stroke', 'stroke risk factors', 'y'),
 ])
