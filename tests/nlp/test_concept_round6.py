"""Concept look-alikes and mentions, sixth round (issue 11), in voices rounds 1-5 did not cover: cardiology,
ophthalmology, ENT, dermatology, GI/GU, orthopaedics and pain, obstetrics, psychiatry, paediatrics, medication and
allergy lists, pathology, consent and quality boilerplate. The [bracketed] word is, or is not, the concept.
Written and labelled before the rules were run on them. On main's rules 42 of 288 were wrong: 30 of 158 look-alikes
found, 5 of 8 unticked template boxes read as current, 7 of 109 mentions missed (two rows first written as look-alikes
were negated mentions, moved to WARNED before any rule change); after this round's rules 1 (STILL_LOOKALIKES).
Conventions: labels/mtsamples/README.md."""

import pytest

from extractor.nlp.extract import extract
from tests.helpers import found_at, marked

LOOKALIKES = [
    # cardiology: a ventricle's stroke, a heat stroke, a stroke scale or risk score, an ECG infarct, a coronary lesion
    ("Echo: LV [stroke] volume 62 mL, ejection fraction 55%.", "STROKE"),
    ("Cardiac output 4.8 L/min, [stroke] volume index 31 mL/m2.", "STROKE"),
    ("SV ([stroke] volume) fell after the fluid challenge.", "STROKE"),
    ("Exertional heat [stroke] during a marathon, core temperature 41.2 C.", "STROKE"),
    ("Admitted for classic heat [stroke] during the heat wave.", "STROKE"),
    ("NIH [Stroke] Scale score of 0 on arrival.", "STROKE"),
    ("NIHSS (NIH [stroke] scale) was 2 for mild dysarthria.", "STROKE"),
    ("[Stroke] scale performed by the ED nurse: 0.", "STROKE"),
    ("ECG: old inferior [infarct], age undetermined.", "STROKE"),
    ("EKG shows a septal [infarct], age undetermined.", "STROKE"),
    ("Anterior wall [infarction] in 2017, status post LAD stent.", "STROKE"),
    ("Nuclear stress test: fixed inferior [infarct] without ischemia.", "STROKE"),
    ("NSTEMI with a small lateral [infarct] on cardiac MRI.", "STROKE"),
    ("Catheterization: 90% proximal LAD [lesion], stented.", "BRAIN_LESION"),
    ("The culprit [lesion] in the right coronary artery was treated with a drug-eluting stent.", "BRAIN_LESION"),
    ("Left main [lesion] of 50%, referred for CABG.", "BRAIN_LESION"),
    ("TEE: a mobile [mass] on the anterior mitral leaflet, likely vegetation.", "BRAIN_LESION"),
    ("Left atrial [mass], 2 cm, attached to the septum.", "BRAIN_LESION"),
    ("[Progression] of her aortic stenosis, valve area now 0.8 cm2.", "TUMOR_RECURRENCE"),
    ("[Recurrence] of angina six months after the stent.", "TUMOR_RECURRENCE"),
    ("Fluoroscopy time 12 minutes; air kerma 640 m[Gy].", "PRIOR_RADIATION"),
    ("[Radiation] dose for the procedure: 1.2 Gy air kerma.", "PRIOR_RADIATION"),
    ("Radiation-induced heart disease after mantle [radiation] for Hodgkin disease.", "PRIOR_RADIATION"),
    ("Radiofrequency [ablation] of the AV node reentry pathway.", "PRIOR_SURGERY"),
    ("Pulmonary vein isolation by cryo[ablation] in 2022.", "PRIOR_SURGERY"),
    ("Infective endocarditis of the mitral valve; blood cultures grew MSSA; [infection] cleared.", "INFECTION"),
    ("Pacemaker pocket [infection], device extracted.", "INFECTION"),
    # ophthalmology: the retina, the optic disc, the visual field, the eyelid
    ("Fundus: a flat pigmented [lesion] of the choroid, likely a nevus.", "BRAIN_LESION"),
    ("OCT shows a macular [lesion] with subretinal fluid.", "BRAIN_LESION"),
    ("A yellow [lesion] of the retina along the inferior arcade.", "BRAIN_LESION"),
    ("Eyelid [lesion] of the left lower lid, excised.", "BRAIN_LESION"),
    ("Choroidal [melanoma] of the right eye treated with plaque brachytherapy.", "BRAIN_TUMOR"),
    ("Visual field testing shows [progression] of her glaucoma.", "TUMOR_RECURRENCE"),
    ("Optic nerve cupping with [progression] on serial OCT.", "TUMOR_RECURRENCE"),
    ("Diabetic retinopathy with [progression] to proliferative disease.", "TUMOR_RECURRENCE"),
    ("[Recurrence] of anterior uveitis in the left eye.", "TUMOR_RECURRENCE"),
    ("Pterygium [excision] with conjunctival autograft.", "PRIOR_SURGERY"),
    ("Panretinal [laser] photocoagulation of the right eye.", "PRIOR_SURGERY"),
    ("YAG [laser] capsulotomy of the left eye.", "PRIOR_SURGERY"),
    ("Selective [laser] trabeculoplasty for open-angle glaucoma.", "PRIOR_SURGERY"),
    ("Branch retinal artery occlusion, an eye [stroke], in the right eye.", "STROKE"),
    ("Central retinal artery occlusion, sometimes called a [stroke] of the eye.", "STROKE"),
    ("Subperiosteal orbital [abscess] from ethmoid sinusitis.", "ABSCESS"),
    ("Corneal ulcer with bacterial [infection], on fortified drops.", "INFECTION"),
    ("Optic disc drusen; visual [field] defects are stable.", "BRAIN_LESION"),
    # ENT / head and neck: the nasopharynx, the parotid, a sinus mass, a neck dissection, radiation to the neck
    ("Nasopharyngeal [carcinoma], stage III, EBV positive.", "BRAIN_TUMOR"),
    ("Maxillary sinus [mass] on CT, biopsy pending.", "BRAIN_LESION"),
    ("Left nasal cavity [mass], polypoid, on endoscopy.", "BRAIN_LESION"),
    ("Parotid [mass], 2.5 cm, pleomorphic adenoma on FNA.", "BRAIN_LESION"),
    ("Pleomorphic [adenoma] of the left parotid gland.", "BRAIN_TUMOR"),
    ("Warthin [tumor] of the right parotid.", "BRAIN_TUMOR"),
    ("Base of tongue [mass] on laryngoscopy.", "BRAIN_LESION"),
    ("Supraglottic [lesion], biopsied under anesthesia.", "BRAIN_LESION"),
    ("Left modified radical neck [dissection] in 2019.", "PRIOR_SURGERY"),
    ("Total laryngectomy and bilateral neck dissection; [resection] margins were clear.", "PRIOR_SURGERY"),
    ("Superficial parotid[ectomy] for a benign tumor.", "PRIOR_SURGERY"),
    ("Functional endoscopic sinus [surgery] for chronic sinusitis.", "PRIOR_SURGERY"),
    ("[Radiation] to the neck for laryngeal cancer in 2015.", "PRIOR_RADIATION"),
    ("She completed [radiation] to the left neck and parotid bed.", "PRIOR_RADIATION"),
    ("Postoperative [radiotherapy] to the parotid bed, 60 Gy.", "PRIOR_RADIATION"),
    ("Laryngeal cancer treated with [chemoradiation], now with dysphagia.", "PRIOR_RADIATION"),
    ("[Recurrence] of the laryngeal cancer at the stoma.", "TUMOR_RECURRENCE"),
    ("Cholesteatoma with [recurrence] behind the tympanic membrane.", "TUMOR_RECURRENCE"),
    ("Peritonsillar [abscess], drained in the office.", "ABSCESS"),
    ("Retropharyngeal [abscess] in a 3-year-old.", "ABSCESS"),
    ("Deep neck [infection] with a parapharyngeal collection.", "INFECTION"),
    # dermatology: skin lesions of the scalp and face, an excision, Mohs
    ("A 6 mm pigmented [lesion] on the left temporal scalp.", "BRAIN_LESION"),
    ("Scaly [lesion] of the frontal scalp, treated with cryotherapy.", "BRAIN_LESION"),
    ("Shave biopsy of a [lesion] on the occipital scalp.", "BRAIN_LESION"),
    ("Pearly [lesion] of the right temple, likely basal cell carcinoma.", "BRAIN_LESION"),
    ("Mohs [excision] of a basal cell carcinoma of the forehead.", "PRIOR_SURGERY"),
    ("Shave [biopsy] of a pigmented lesion on the parietal scalp.", "PRIOR_SURGERY"),
    ("[Excision] of a 1 cm epidermoid cyst from the posterior scalp.", "PRIOR_SURGERY"),
    ("Melanoma in situ of the cheek, [excised] with 5 mm margins.", "PRIOR_SURGERY"),
    ("Squamous cell carcinoma of the scalp with local [recurrence].", "TUMOR_RECURRENCE"),
    ("Superficial radiation [therapy] for a basal cell carcinoma of the nose.", "PRIOR_RADIATION"),
    ("Scalp [abscess] incised and drained.", "ABSCESS"),
    ("Infantile hemangioma of the scalp with rapid [growth].", "TUMOR_RECURRENCE"),
    # GI / GU: masses, polyps, stones that recur
    ("Colonoscopy: a 1 cm sessile [polyp] in the sigmoid, removed.", "BRAIN_LESION"),
    ("Polyp [removal] by snare in the ascending colon.", "PRIOR_SURGERY"),
    ("Rectal [mass] at 8 cm from the anal verge.", "BRAIN_LESION"),
    ("Bladder [mass] on cystoscopy, TURBT scheduled.", "BRAIN_LESION"),
    ("Hepatic [lesion] of 2 cm, likely a hemangioma.", "BRAIN_LESION"),
    ("The liver [mass] has grown since the last CT.", "BRAIN_LESION"),
    ("The liver mass has [grown] since the last CT.", "TUMOR_RECURRENCE"),
    ("Gastrointestinal stromal [tumor] of the stomach.", "BRAIN_TUMOR"),
    ("Carcinoid [tumor] of the appendix.", "BRAIN_TUMOR"),
    ("[Recurrence] of kidney stones despite citrate.", "TUMOR_RECURRENCE"),
    ("Stone [recurrence] is common without hydration.", "TUMOR_RECURRENCE"),
    ("[Recurrent] nephrolithiasis, last stone in May.", "TUMOR_RECURRENCE"),
    ("[Recurrent] diverticulitis, two episodes this year.", "TUMOR_RECURRENCE"),
    ("Perianal [abscess], incised and drained.", "ABSCESS"),
    ("Liver [abscess] from ascending cholangitis.", "ABSCESS"),
    ("Prostate [biopsy] showed Gleason 3+3 in two cores.", "PRIOR_SURGERY"),
    ("Testicular [mass] on ultrasound, orchiectomy planned.", "BRAIN_LESION"),
    # orthopaedics and pain: radiating pain, a stimulator, a lumbar mass
    ("Low back pain [radiating] down the left leg to the foot.", "PRIOR_RADIATION"),
    ("Neck pain with [radiation] into the right arm.", "PRIOR_RADIATION"),
    ("The pain [radiates] to the groin.", "PRIOR_RADIATION"),
    ("Sciatica with [radiation] below the knee.", "PRIOR_RADIATION"),
    ("Spinal cord [stimulator] implanted in 2020 for failed back syndrome.", "PRIOR_SURGERY"),
    ("Spinal cord stimulator trial; the [leads] were placed at T9.", "PRIOR_SURGERY"),
    ("Lumbar [mass] at L3 on MRI, paraspinal.", "BRAIN_LESION"),
    ("Paraspinal [mass] at L2 compressing the psoas.", "BRAIN_LESION"),
    ("Synovial cyst [resection] at L4-L5.", "PRIOR_SURGERY"),
    ("Radiofrequency [ablation] of the L4 and L5 medial branches.", "PRIOR_SURGERY"),
    ("Hill-Sachs [lesion] of the humeral head.", "BRAIN_LESION"),
    ("SLAP [lesion] of the right shoulder.", "BRAIN_LESION"),
    ("Osteosarcoma of the distal femur, status post limb-salvage [resection].", "PRIOR_SURGERY"),
    ("Osteoid osteoma of the tibia treated with radiofrequency [ablation].", "PRIOR_SURGERY"),
    ("[Recurrent] dislocation of the left shoulder.", "TUMOR_RECURRENCE"),
    ("[Progression] of the lumbar scoliosis to 40 degrees.", "TUMOR_RECURRENCE"),
    ("Degenerative disc disease with [progression] at L5-S1.", "TUMOR_RECURRENCE"),
    # obstetrics: eclampsia warned about, an adnexal mass, a placental infarct
    ("Preeclampsia with severe features; magnesium given to prevent [eclampsia].", "EPILEPSY"),
    ("Risk of [recurrence] of preeclampsia in the next pregnancy is about 15%.", "TUMOR_RECURRENCE"),
    ("Uterine fibroid [mass], 6 cm, fundal.", "BRAIN_LESION"),
    ("Group B streptococcal [infection] screening was positive.", "INFECTION"),
    ("Placental [infarction] on pathology, 20% of the disc.", "STROKE"),
    ("Cervical [lesion] on colposcopy at 12 weeks.", "BRAIN_LESION"),
    # psychiatry: memory, confusion, a breakdown, panic and adjustment disorders, ECT
    ("She reports [memory] lapses when anxious.", "NEURODEGENERATIVE"),
    ("Acute [confusion] from a urinary tract infection, now resolved.", "NEURODEGENERATIVE"),
    ("He had a nervous [breakdown] in college.", "NEURODEGENERATIVE"),
    ("Panic disorder ([PD]) with agoraphobia.", "NEURODEGENERATIVE"),
    ("Adjustment disorder ([AD]) with depressed mood.", "NEURODEGENERATIVE"),
    ("ECT session 6: [seizure] duration 42 seconds, adequate.", "EPILEPSY"),
    ("Motor [seizure] of 35 seconds was induced with ECT.", "EPILEPSY"),
    ("Mental status ([MS]) exam: alert, oriented, mood euthymic.", "INFLAMMATORY"),
    ("Borderline personality disorder; [PD] traits noted.", "NEURODEGENERATIVE"),
    ("[Dementia] praecox was the old term in the chart.", "NEURODEGENERATIVE"),
    # paediatrics: growth, a head circumference, a kidney tumour
    ("Good interval [growth] since the last visit; weight at the 50th percentile.", "TUMOR_RECURRENCE"),
    ("Head circumference [growth] is normal along the 40th percentile.", "TUMOR_RECURRENCE"),
    ("Poor weight [gain] and linear growth; failure to thrive.", "TUMOR_RECURRENCE"),
    ("Wilms [tumor] of the left kidney, stage II.", "BRAIN_TUMOR"),
    ("Abdominal [mass] in a 2-year-old, likely Wilms tumor.", "BRAIN_LESION"),
    ("Hepatoblastoma treated with [resection] and cisplatin.", "PRIOR_SURGERY"),
    # medication and allergy lists
    ("MEDICATIONS: Keppra 500 mg twice daily, [seizure] precautions.", "EPILEPSY"),
    ("Antiepileptic [drug] levels were therapeutic.", "EPILEPSY"),
    ("Anti-[seizure] medications: none.", "EPILEPSY"),
    ("Lamotrigine, an [anticonvulsant], for bipolar depression.", "EPILEPSY"),
    ("ALLERGIES: iodinated contrast (hives); [radiation] contrast premedication needed.", "PRIOR_RADIATION"),
    ("Medications for [Parkinson's] disease or dementia: none.", "NEURODEGENERATIVE"),
    ("Donepezil was stopped; no [dementia] medications now.", "NEURODEGENERATIVE"),
    # lab and pathology: tumour markers, a tumour board, margins, a recurrence score, a grade
    ("CEA 3.1 and CA 19-9 normal; [tumor] markers unremarkable.", "BRAIN_TUMOR"),
    ("[Tumor] markers (AFP, beta-hCG, LDH) are pending.", "BRAIN_TUMOR"),
    ("Breast pathology: [tumor] size 1.8 cm, margins negative.", "BRAIN_TUMOR"),
    ("Case discussed at the multidisciplinary [tumor] board.", "BRAIN_TUMOR"),
    ("[Tumor] lysis syndrome after the first cycle of chemotherapy.", "BRAIN_TUMOR"),
    ("Anti-TNF ([tumor] necrosis factor) therapy for Crohn disease.", "BRAIN_TUMOR"),
    ("Lymph nodes: [metastatic] carcinoma in 2 of 14 axillary nodes.", "BRAIN_TUMOR"),
    ("Oncotype DX [recurrence] score of 18.", "TUMOR_RECURRENCE"),
    ("Histologic [grade] 2 of 3, Nottingham score 6.", "GLIOMA_GRADING"),
    ("[Treatment effect] in the breast after neoadjuvant chemotherapy: residual cancer burden II.", "TREATMENT_EFFECT"),
    ("No [residual] invasive carcinoma in the mastectomy specimen.", "TUMOR_RECURRENCE"),
    ("Tumor [necrosis] of 40% in the osteosarcoma resection.", "TREATMENT_EFFECT"),
    # boilerplate: consent text, quality measures, templates
    ("Risks including bleeding, [infection], stroke, seizure and death were discussed.", "INFECTION"),
    ("The risks of the procedure (bleeding, [infection], damage to nearby structures) were explained.", "INFECTION"),
    ("Quality measure: [Stroke] and Stroke Rehabilitation, discharged on antithrombotic therapy.", "STROKE"),
    ("MIPS 047: advance care plan documented; [dementia] cognitive assessment reviewed.", "NEURODEGENERATIVE"),
]

# an unticked template box (label, word): as a box before the word (test_context_probes), a form's unanswered
# question is no current event: if found, negated
TEMPLATES = [
    ("PMH checklist: Stroke: [ ] Seizures: [ ] Cancer: [ ]", "STROKE", "stroke"),
    ("PMH checklist: Stroke: [ ] Seizures: [ ] Cancer: [ ]", "EPILEPSY", "seizure"),
    ("Review of systems template: Seizures: [ ] yes [ ] no", "EPILEPSY", "seizure"),
    ("Prior brain surgery: [ ] yes [ ] no", "PRIOR_SURGERY", "surgery"),
    ("Prior radiation: [ ] yes [ ] no", "PRIOR_RADIATION", "radiation"),
    ("Dementia: [ ]  Parkinson's: [ ]  ALS: [ ]", "NEURODEGENERATIVE", "dementia"),
    ("Dementia: [ ]  Parkinson's: [ ]  ALS: [ ]", "NEURODEGENERATIVE", "ALS"),
    ("History of: [ ] stroke [ ] seizure [ ] brain tumor", "BRAIN_TUMOR", "tumor"),
]

WARNED = [
    # a risk, a prevention, a warning: if found, hypothetical, negated or uncertain, never a current event
    ("Risks including bleeding, infection, [stroke], seizure and death were discussed.", "STROKE"),
    ("Risks including bleeding, infection, stroke, [seizure] and death were discussed.", "EPILEPSY"),
    ("Apixaban for [stroke] prophylaxis in atrial fibrillation.", "STROKE"),
    ("CHA2DS2-VASc score of 4; annual [stroke] risk about 4%.", "STROKE"),
    ("Aspirin for secondary [stroke] prevention.", "STROKE"),
    ("Magnesium sulfate for [seizure] prophylaxis in preeclampsia.", "EPILEPSY"),
    ("Call for headache, visual changes or [seizures].", "EPILEPSY"),
    ("Warning signs reviewed: severe headache, blurred vision, [seizure].", "EPILEPSY"),
    ("Keppra 500 mg twice daily for [seizure] prophylaxis after the craniotomy.", "EPILEPSY"),
    ("Discussed the risk of [stroke] with the carotid endarterectomy.", "STROKE"),
    ("Consent: risks include [seizure], infection and neurologic deficit.", "EPILEPSY"),
    # negated mentions (moved here from LOOKALIKES before any rule change: a negated word is a labelled mention)
    ("Breath-holding spells, not [seizures], per the parents' description.", "EPILEPSY"),
    ("Margins negative for [tumor]; closest margin 4 mm.", "BRAIN_TUMOR"),
]

MENTIONS = [
    # cardiology voice
    ("Cardioembolic [stroke] from atrial fibrillation, off anticoagulation.", "STROKE"),
    ("Perioperative [stroke] after CABG with left hemiparesis.", "STROKE"),
    ("Embolic [infarcts] in both hemispheres after TAVR.", "STROKE"),
    ("History of [stroke]; CHA2DS2-VASc score of 5.", "STROKE"),
    ("Watershed [infarcts] after the cardiac arrest.", "STROKE"),
    ("Endocarditis complicated by a left parietal brain [abscess].", "ABSCESS"),
    ("Atrial myxoma with embolic [stroke] to the right MCA.", "STROKE"),
    ("Left MCA [stroke] after cardiac catheterization.", "STROKE"),
    ("Cerebellar [infarct] after the AF ablation.", "STROKE"),
    # ophthalmology voice
    ("Optic nerve [glioma] in a child with NF1.", "BRAIN_TUMOR"),
    ("Optic nerve sheath [meningioma] on the left, stable.", "BRAIN_TUMOR"),
    ("Bitemporal hemianopia from a pituitary [macroadenoma].", "BRAIN_TUMOR"),
    ("Right homonymous hemianopia from a left occipital [infarct].", "STROKE"),
    ("Visual field cut from a left occipital [metastasis].", "BRAIN_TUMOR"),
    ("Papilledema from a posterior fossa [tumor].", "BRAIN_TUMOR"),
    ("Retinal hemangioblastomas and a cerebellar [hemangioblastoma] in VHL.", "BRAIN_TUMOR"),
    ("Optic neuritis, and brain MRI shows [demyelinating] lesions.", "INFLAMMATORY"),
    ("[Demyelinating] plaques along the optic radiations.", "INFLAMMATORY"),
    ("Craniopharyngioma presenting with visual loss; the [tumor] compresses the chiasm.", "BRAIN_TUMOR"),
    ("A right occipital [lesion] explains the visual field defect.", "BRAIN_LESION"),
    # ENT / head and neck voice
    ("[Radiation] for nasopharyngeal cancer in 2012.", "PRIOR_RADIATION"),
    ("Nasopharyngeal carcinoma treated with [radiation] to 70 Gy.", "PRIOR_RADIATION"),
    ("[IMRT] for nasopharyngeal carcinoma, 70 Gy in 35 fractions.", "PRIOR_RADIATION"),
    ("Left vestibular [schwannoma] with hearing loss AD.", "BRAIN_TUMOR"),
    ("Temporal lobe [abscess] from chronic mastoiditis.", "ABSCESS"),
    ("Frontal lobe [abscess] from frontal sinusitis.", "ABSCESS"),
    ("[Meningitis] after the cochlear implant.", "INFECTION"),
    ("CPA [meningioma] causing hearing loss on the right.", "BRAIN_TUMOR"),
    ("Gamma Knife [radiosurgery] for the acoustic neuroma.", "PRIOR_RADIATION"),
    ("Glomus tumor of the ear and a separate left frontal [glioma].", "BRAIN_TUMOR"),
    # dermatology voice
    ("Scalp melanoma with a right parietal brain [metastasis].", "BRAIN_TUMOR"),
    ("Metastatic melanoma with a new right frontal [lesion] on brain MRI.", "BRAIN_LESION"),
    ("Excision of the scalp melanoma; [SRS] to the brain metastasis.", "PRIOR_RADIATION"),
    ("Tuberous sclerosis with a subependymal giant cell [astrocytoma].", "BRAIN_TUMOR"),
    ("Sturge-Weber syndrome with [seizures] since infancy.", "EPILEPSY"),
    ("Neurofibromatosis type 1 with an optic pathway [glioma].", "BRAIN_TUMOR"),
    ("Skin lesions on the back; brain MRI shows a left frontal enhancing [mass].", "BRAIN_LESION"),
    # GI / GU voice
    ("Colon cancer with a cerebellar [metastasis].", "BRAIN_TUMOR"),
    ("Renal cell carcinoma with brain metastases treated with [SRS].", "PRIOR_RADIATION"),
    ("Renal cell carcinoma with brain [metastases] treated with SRS.", "BRAIN_TUMOR"),
    ("Testicular cancer with brain [mets].", "BRAIN_TUMOR"),
    ("Bladder cancer [metastatic] to the brain.", "BRAIN_TUMOR"),
    ("Esophageal cancer; a new cerebellar [mass] on MRI.", "BRAIN_LESION"),
    ("Kidney stones recur; separately, the left frontal [meningioma] is unchanged.", "BRAIN_TUMOR"),
    # orthopaedics and pain voice
    ("Neck pain radiating to the arm; incidental [meningioma] on brain MRI.", "BRAIN_TUMOR"),
    ("Back pain radiating to the leg; prior whole-brain [radiation] for lung cancer.", "PRIOR_RADIATION"),
    ("Lumbar puncture confirmed bacterial [meningitis].", "INFECTION"),
    ("Spinal cord stimulator in place; brain MRI shows a right temporal [glioma].", "BRAIN_TUMOR"),
    ("Lumbar stenosis, and a left cerebellar [mass] found on head CT.", "BRAIN_LESION"),
    # obstetrics voice
    ("Eclamptic [seizure] at 36 weeks, treated with magnesium.", "EPILEPSY"),
    ("She had a [seizure] postpartum, attributed to eclampsia.", "EPILEPSY"),
    ("Postpartum [stroke] in the left MCA territory.", "STROKE"),
    ("Prolactinoma; the pituitary [adenoma] enlarged during pregnancy.", "BRAIN_TUMOR"),
    ("Meningioma [growth] during pregnancy on the follow-up MRI.", "TUMOR_RECURRENCE"),
    ("Slight [growth] of the treated meningioma.", "TUMOR_RECURRENCE"),
    ("Epilepsy in pregnancy; [seizures] controlled on lamotrigine.", "EPILEPSY"),
    # psychiatry voice
    ("Frontotemporal [dementia] presenting with personality change.", "NEURODEGENERATIVE"),
    ("Major neurocognitive disorder due to [Alzheimer] disease, with agitation.", "NEURODEGENERATIVE"),
    ("Psychosis in [Parkinson] disease, on pimavanserin.", "NEURODEGENERATIVE"),
    ("Lewy body [dementia] with visual hallucinations.", "NEURODEGENERATIVE"),
    ("Depression after a left frontal [stroke].", "STROKE"),
    ("Personality change from a large frontal [meningioma].", "BRAIN_TUMOR"),
    ("[Huntington] disease with depression and chorea.", "NEURODEGENERATIVE"),
    ("Confusion from a new left temporal [mass] on CT.", "BRAIN_LESION"),
    ("Memory loss; MRI shows a left hippocampal [lesion].", "BRAIN_LESION"),
    ("Alzheimer [dementia], moderate, with sundowning.", "NEURODEGENERATIVE"),
    # paediatrics voice
    ("Simple febrile [seizure] at 15 months.", "EPILEPSY"),
    ("Complex febrile [seizures], two in one day.", "EPILEPSY"),
    ("Febrile [convulsion] at age 2, none since.", "EPILEPSY"),
    ("[Medulloblastoma] in a 6-year-old, status post resection.", "BRAIN_TUMOR"),
    ("Craniopharyngioma in a 9-year-old; [resection] in 2021.", "PRIOR_SURGERY"),
    ("Posterior fossa syndrome after medulloblastoma [resection].", "PRIOR_SURGERY"),
    ("[Infantile spasms] with hypsarrhythmia, on ACTH.", "EPILEPSY"),
    ("Childhood absence [epilepsy] on ethosuximide.", "EPILEPSY"),
    ("DIPG treated with focal [radiation], 54 Gy.", "PRIOR_RADIATION"),
    ("Pilocytic [astrocytoma] of the cerebellum in a 7-year-old, good growth since.", "BRAIN_TUMOR"),
    # medication and allergy voice
    ("Keppra for [seizures] since her craniotomy.", "EPILEPSY"),
    ("Keppra for seizures since her [craniotomy].", "PRIOR_SURGERY"),
    ("Levetiracetam 500 mg twice daily for [seizures].", "EPILEPSY"),
    ("Dexamethasone for edema around the cerebellar [metastasis].", "BRAIN_TUMOR"),
    ("Temozolomide cycle 4 for the [glioblastoma].", "BRAIN_TUMOR"),
    ("Donepezil for [Alzheimer] disease.", "NEURODEGENERATIVE"),
    ("Bevacizumab for symptomatic radiation [necrosis].", "TREATMENT_EFFECT"),
    ("Lacosamide added for breakthrough [seizures].", "EPILEPSY"),
    ("ALLERGIES: phenytoin (rash), started for [seizures] after the brain surgery.", "EPILEPSY"),
    ("Medications: ocrelizumab for relapsing [MS].", "INFLAMMATORY"),
    # lab and pathology voice
    ("Pathology: [glioblastoma], IDH-wildtype, MGMT promoter methylated.", "BRAIN_TUMOR"),
    ("Frozen section of the left frontal mass: high-grade [glioma].", "BRAIN_TUMOR"),
    ("Pathology confirmed metastatic adenocarcinoma in the cerebellar [mass].", "BRAIN_LESION"),
    ("Ki-67 of 12% in the atypical [meningioma].", "BRAIN_TUMOR"),
    ("CSF PCR positive for HSV; HSV [encephalitis].", "INFECTION"),
    ("CSF oligoclonal bands, consistent with [MS].", "INFLAMMATORY"),
    ("Tumor markers normal; the brain lesion is most likely a primary [glioma].", "BRAIN_TUMOR"),
    ("Resection margins: [tumor] extends to the deep margin of the temporal lobe specimen.", "BRAIN_TUMOR"),
    ("Treated [meningioma] of the left convexity with no residual enhancement.", "BRAIN_TUMOR"),
    # radiation and radiosurgery after another organ's cancer
    ("[SRS] for a lung cancer metastasis in the right frontal lobe.", "PRIOR_RADIATION"),
    ("SRS for a lung cancer [metastasis] in the right frontal lobe.", "BRAIN_TUMOR"),
    ("[SRS] for a breast cancer metastasis in the left cerebellum, 18 Gy.", "PRIOR_RADIATION"),
    ("Colon cancer with a brain metastasis treated with [radiosurgery] in 2023.", "PRIOR_RADIATION"),
    ("Whole-brain [radiation] for small cell lung cancer.", "PRIOR_RADIATION"),
    ("Prophylactic cranial [irradiation] for small cell lung cancer.", "PRIOR_RADIATION"),
    # boilerplate voice: the brain concept is still meant
    ("Indication for MRS: [recurrent] glioblastoma versus radiation necrosis.", "TUMOR_RECURRENCE"),
    ("Indication for MRS: recurrent glioblastoma versus radiation [necrosis].", "TREATMENT_EFFECT"),
    ("Diagnosis code C71.1, malignant [neoplasm] of the frontal lobe.", "BRAIN_TUMOR"),
    ("Problem list: [glioblastoma], seizures, DVT.", "BRAIN_TUMOR"),
    ("Problem list: glioblastoma, [seizures], DVT.", "EPILEPSY"),
    ("PMH: [stroke] in 2018, hypertension, diabetes.", "STROKE"),
    ("Consent signed for stereotactic [biopsy] of the thalamic lesion.", "PRIOR_SURGERY"),
    ("Risks of the [craniotomy] were discussed.", "PRIOR_SURGERY"),
]

# look-alikes the rules still find (xfail strict): "maternal" reads as a relative, and a relative's infection is
# kept whatever its organ (keep_family), so the mother's own chorioamnionitis stays a family INFECTION
STILL_LOOKALIKES = [
    ("Chorioamnionitis; maternal [infection] treated with ampicillin and gentamicin.", "INFECTION"),
]


def _found(text: str, label: str) -> list:
    """The `label` mentions overlapping the [bracketed] word."""
    clean, start, end = marked(text)
    return [m for m in extract(clean).mentions if m.label == label and m.start < end and start < m.end]


@pytest.mark.parametrize(("text", "label"), LOOKALIKES)
def test_lookalike_is_no_mention(text, label):
    assert not found_at(text, label)


@pytest.mark.parametrize(("text", "label", "word"), TEMPLATES)
def test_template_box_is_no_current_event(text, label, word):
    found = [m for m in extract(text).mentions if m.label == label and word.lower() in m.text.lower()]
    assert all(m.negated or m.hypothetical or m.uncertain for m in found)


@pytest.mark.parametrize(("text", "label"), WARNED)
def test_warning_is_no_current_event(text, label):
    assert all(m.hypothetical or m.negated or m.uncertain for m in _found(text, label))


@pytest.mark.parametrize(("text", "label"), MENTIONS)
def test_mention_is_found(text, label):
    assert found_at(text, label)


@pytest.mark.parametrize(("text", "label"), STILL_LOOKALIKES)
@pytest.mark.xfail(strict=True, reason="a look-alike the rules still find")
def test_lookalike_still_found(text, label):
    assert not found_at(text, label)
