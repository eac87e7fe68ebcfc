"""ICD-9-CM codes and titles used by the built-in sample.

Codes are the public ICD-9-CM classification, written without the dot as MIMIC-III stores them
(for example "0389" for 038.9 and "V4511" for V45.11). The short and long titles of the
diagnosis codes are written for this project. D_ICD_DIAGNOSES takes its titles from the CMS list
(see `cms_dictionary`) and uses these only for a code that the CMS list lacks.

Each `elix_` condition pool contains codes that the Quan (2005) enhanced ICD-9 coding algorithm
maps to that one Elixhauser condition. Each `cci_` pool contains codes that it maps to that one
Charlson condition and to no Elixhauser condition. So the comorbidity flags of the marts come out
as drawn.
"""

# Codes per drawn condition: (code, short title, long title).
CONDITION_CODES: dict[str, list[tuple[str, str, str]]] = {
    "elix_chf": [
        ("4280", "CHF NOS", "Congestive heart failure, unspecified"),
        ("42822", "Chr systolic hrt failure", "Chronic systolic heart failure"),
        ("42823", "Ac on chr syst hrt fail", "Acute on chronic systolic heart failure"),
        ("42832", "Chr diastolic hrt fail", "Chronic diastolic heart failure"),
        ("42833", "Ac on chr diast hrt fail", "Acute on chronic diastolic heart failure"),
        ("4254", "Prim cardiomyopathy NEC", "Other primary cardiomyopathies"),
    ],
    "elix_arrhythmia": [
        ("42731", "Atrial fibrillation", "Atrial fibrillation"),
        ("42732", "Atrial flutter", "Atrial flutter"),
        ("4271", "Parox ventric tachycard", "Paroxysmal ventricular tachycardia"),
        ("42789", "Cardiac dysrhythmias NEC", "Other specified cardiac dysrhythmias"),
        ("4260", "Atrioventric block compl", "Atrioventricular block, complete"),
    ],
    "elix_valvular": [
        ("4241", "Aortic valve disorder", "Aortic valve disorders"),
        ("4240", "Mitral valve disorder", "Mitral valve disorders"),
        ("3963", "Mitral/aortic val insuff", "Mitral valve insufficiency and aortic valve insufficiency"),
    ],
    "elix_pulm_circ": [
        ("4160", "Prim pulm hypertension", "Primary pulmonary hypertension"),
        ("41519", "Pulm embol/infarct NEC", "Other pulmonary embolism and infarction"),
        ("4162", "Chr pulmonary embolism", "Chronic pulmonary embolism"),
    ],
    "elix_pvd": [
        ("4439", "Periph vascular dis NOS", "Peripheral vascular disease, unspecified"),
        ("44021", "Athscl ext ntv art claud", "Atherosclerosis of native arteries of the extremities with intermittent claudication"),
        ("4414", "Abdom aortic aneurysm", "Abdominal aneurysm without mention of rupture"),
    ],
    "elix_htn_uncomplicated": [
        ("4019", "Hypertension NOS", "Unspecified essential hypertension"),
        ("4011", "Benign hypertension", "Benign essential hypertension"),
    ],
    "elix_htn_complicated": [
        ("40390", "Hy kid NOS w cr kid I-IV", "Hypertensive chronic kidney disease, unspecified, with chronic kidney disease stage I through stage IV, or unspecified"),
        ("40310", "Ben hy kid w cr kid I-IV", "Hypertensive chronic kidney disease, benign, with chronic kidney disease stage I through stage IV, or unspecified"),
        ("40290", "Hyp ht dis NOS w/o hf", "Unspecified hypertensive heart disease without heart failure"),
    ],
    "elix_paralysis": [
        ("3441", "Paraplegia NOS", "Paraplegia"),
        ("34400", "Quadriplegia, unspecifd", "Quadriplegia, unspecified"),
        ("3449", "Paralysis NOS", "Paralysis, unspecified"),
    ],
    "elix_neuro_other": [
        ("34590", "Epilep NOS w/o intr epil", "Epilepsy, unspecified, without mention of intractable epilepsy"),
        ("3320", "Paralysis agitans", "Paralysis agitans"),
        ("340", "Multiple sclerosis", "Multiple sclerosis"),
        ("3481", "Anoxic brain damage", "Anoxic brain damage"),
    ],
    "elix_chronic_pulm": [
        ("496", "Chr airway obstruct NEC", "Chronic airway obstruction, not elsewhere classified"),
        ("49390", "Asthma NOS", "Asthma, unspecified type, unspecified"),
        ("4928", "Emphysema NEC", "Other emphysema"),
        ("49121", "Obs chr bronc w(ac) exac", "Obstructive chronic bronchitis with (acute) exacerbation"),
    ],
    "elix_diabetes_uncomplicated": [
        ("25000", "DMII wo cmp nt st uncntr", "Diabetes mellitus without mention of complication, type II or unspecified type, not stated as uncontrolled"),
        ("25001", "DMI wo cmp nt st uncntrl", "Diabetes mellitus without mention of complication, type I [juvenile type], not stated as uncontrolled"),
        ("25002", "DMII wo cmp uncntrld", "Diabetes mellitus without mention of complication, type II or unspecified type, uncontrolled"),
    ],
    "elix_diabetes_complicated": [
        ("25040", "DMII renl nt st uncntrld", "Diabetes with renal manifestations, type II or unspecified type, not stated as uncontrolled"),
        ("25060", "DMII neuro nt st uncntrl", "Diabetes with neurological manifestations, type II or unspecified type, not stated as uncontrolled"),
        ("25050", "DMII ophth nt st uncntrl", "Diabetes with ophthalmic manifestations, type II or unspecified type, not stated as uncontrolled"),
    ],
    "elix_hypothyroidism": [
        ("2449", "Hypothyroidism NOS", "Unspecified acquired hypothyroidism"),
        ("2448", "Acquired hypothyroid NEC", "Other specified acquired hypothyroidism"),
    ],
    "elix_renal_failure": [
        ("5859", "Chronic kidney dis NOS", "Chronic kidney disease, unspecified"),
        ("5856", "End stage renal disease", "End stage renal disease"),
        ("5853", "Chr kidney dis stage III", "Chronic kidney disease, Stage III (moderate)"),
        ("V4511", "Renal dialysis status", "Renal dialysis status"),
    ],
    "elix_liver_disease": [
        ("5715", "Cirrhosis of liver NOS", "Cirrhosis of liver without mention of alcohol"),
        ("5723", "Portal hypertension", "Portal hypertension"),
        ("07054", "Chrnc hpt C wo hpat coma", "Chronic hepatitis C without mention of hepatic coma"),
        ("5728", "Oth sequela, chr liv dis", "Other sequelae of chronic liver disease"),
    ],
    "elix_peptic_ulcer": [
        ("53190", "Gastric ulcer NOS", "Gastric ulcer, unspecified as acute or chronic, without mention of hemorrhage or perforation, without mention of obstruction"),
        ("53290", "Duodenal ulcer NOS", "Duodenal ulcer, unspecified as acute or chronic, without mention of hemorrhage or perforation, without mention of obstruction"),
    ],
    "elix_aids_hiv": [
        ("042", "Human immuno virus dis", "Human immunodeficiency virus [HIV] disease"),
    ],
    "elix_lymphoma": [
        ("20280", "Oth lymphoma unsp xtrndl", "Other malignant lymphomas, unspecified site, extranodal and solid organ sites"),
        ("20300", "Mult mye w/o achv rmson", "Multiple myeloma, without mention of having achieved remission"),
    ],
    "elix_metastatic_cancer": [
        ("1970", "Secondary malig neo lung", "Secondary malignant neoplasm of lung"),
        ("1977", "Second malig neo liver", "Malignant neoplasm of liver, secondary"),
        ("1983", "Sec mal neo brain/spine", "Secondary malignant neoplasm of brain and spinal cord"),
        ("1985", "Secondary malig neo bone", "Secondary malignant neoplasm of bone and bone marrow"),
    ],
    "elix_solid_tumor": [
        ("1629", "Mal neo bronch/lung NOS", "Malignant neoplasm of bronchus and lung, unspecified"),
        ("1539", "Malig neo colon NOS", "Malignant neoplasm of colon, unspecified site"),
        ("1579", "Mal neo pancreas NOS", "Malignant neoplasm of pancreas, part unspecified"),
        ("1550", "Mal neo liver, primary", "Malignant neoplasm of liver, primary"),
    ],
    "elix_rheumatoid_arthritis": [
        ("7140", "Rheumatoid arthritis", "Rheumatoid arthritis"),
        ("7100", "Syst lupus erythematosus", "Systemic lupus erythematosus"),
    ],
    "elix_coagulopathy": [
        ("2866", "Defibrination syndrome", "Defibrination syndrome"),
        ("2875", "Thrombocytopenia NOS", "Thrombocytopenia, unspecified"),
        ("2869", "Coagulat defect NEC/NOS", "Other and unspecified coagulation defects"),
    ],
    "elix_obesity": [
        ("27800", "Obesity NOS", "Obesity, unspecified"),
        ("27801", "Morbid obesity", "Morbid obesity"),
    ],
    "elix_weight_loss": [
        ("2639", "Protein-cal malnutr NOS", "Unspecified protein-calorie malnutrition"),
        ("78321", "Loss of weight", "Loss of weight"),
        ("7994", "Cachexia", "Cachexia"),
    ],
    "elix_fluid_electrolyte": [
        ("2761", "Hyposmolality", "Hyposmolality and/or hyponatremia"),
        ("2762", "Acidosis", "Acidosis"),
        ("2767", "Hyperpotassemia", "Hyperpotassemia"),
        ("2768", "Hypopotassemia", "Hypopotassemia"),
        ("27651", "Dehydration", "Dehydration"),
    ],
    "elix_blood_loss_anemia": [
        ("2800", "Chr blood loss anemia", "Iron deficiency anemia secondary to blood loss (chronic)"),
    ],
    "elix_deficiency_anemia": [
        ("2809", "Iron defic anemia NOS", "Iron deficiency anemia, unspecified"),
        ("2811", "B12 defic anemia NEC", "Other vitamin B12 deficiency anemia"),
        ("2819", "Deficiency anemia NOS", "Unspecified deficiency anemia"),
    ],
    "elix_alcohol_abuse": [
        ("30500", "Alcohol abuse-unspec", "Alcohol abuse, unspecified"),
        ("30390", "Alcoh dep NEC/NOS-unspec", "Other and unspecified alcohol dependence, unspecified"),
        ("30391", "Alcoh dep NEC/NOS-contin", "Other and unspecified alcohol dependence, continuous"),
    ],
    "elix_drug_abuse": [
        ("30560", "Cocaine abuse-unspec", "Cocaine abuse, unspecified"),
        ("30400", "Opioid dependence-unspec", "Opioid type dependence, unspecified"),
        ("30590", "Drug abuse NEC-unspec", "Other, mixed, or unspecified drug abuse, unspecified"),
    ],
    "elix_psychoses": [
        ("29590", "Schizophrenia NOS-unspec", "Unspecified schizophrenia, unspecified"),
        ("2989", "Psychosis NOS", "Unspecified psychosis"),
        ("29570", "Schizoaffective dis NOS", "Schizoaffective disorder, unspecified"),
    ],
    "elix_depression": [
        ("311", "Depressive disorder NEC", "Depressive disorder, not elsewhere classified"),
        ("3004", "Dysthymic disorder", "Dysthymic disorder"),
        ("29620", "Depress psychosis-unspec", "Major depressive affective disorder, single episode, unspecified"),
    ],
    "cci_myocardial_infarction": [
        ("41071", "Subendo infarct, initial", "Subendocardial infarction, initial episode of care"),
        ("41041", "AMI inferior wall, init", "Acute myocardial infarction of other inferior wall, initial episode of care"),
        ("412", "Old myocardial infarct", "Old myocardial infarction"),
    ],
    "cci_cerebrovascular": [
        ("43491", "Crbl art ocl NOS w infrc", "Cerebral artery occlusion, unspecified with cerebral infarction"),
        ("431", "Intracerebral hemorrhage", "Intracerebral hemorrhage"),
        ("4359", "Trans cereb ischemia NOS", "Unspecified transient cerebral ischemia"),
    ],
    "cci_dementia": [
        ("2900", "Senile dementia uncomp", "Senile dementia, uncomplicated"),
        ("3312", "Senile degenerat brain", "Senile degeneration of brain"),
    ],
}

# Adult diagnoses that map to no Elixhauser condition, with relative weights. They fill each
# admission up to the release's number of diagnoses per admission and cover every chapter.
ADULT_OTHER_CODES: list[tuple[str, str, str, float]] = [
    ("0389", "Septicemia NOS", "Unspecified septicemia", 4.0),
    ("00845", "Int inf clstrdium dfcile", "Intestinal infection due to Clostridium difficile", 1.5),
    ("03842", "E coli septicemia", "Septicemia due to escherichia coli [E. coli]", 0.8),
    ("04111", "Mth sus Stph aur els/NOS", "Methicillin susceptible Staphylococcus aureus in conditions classified elsewhere and of unspecified site", 1.0),
    ("2113", "Benign neoplasm lg bowel", "Benign neoplasm of colon", 0.5),
    ("2252", "Benign neo cereb mening", "Benign neoplasm of cerebral meninges", 0.3),
    ("2724", "Hyperlipidemia NEC/NOS", "Other and unspecified hyperlipidemia", 5.0),
    ("2720", "Pure hypercholesterolem", "Pure hypercholesterolemia", 3.0),
    ("2749", "Gout NOS", "Gout, unspecified", 1.0),
    ("28860", "Leukocytosis NOS", "Leukocytosis, unspecified", 1.0),
    ("3051", "Tobacco use disorder", "Tobacco use disorder", 2.5),
    ("30000", "Anxiety state NOS", "Anxiety state, unspecified", 1.5),
    ("2930", "Delirium d/t other cond", "Delirium due to conditions classified elsewhere", 1.0),
    ("3384", "Chronic pain syndrome", "Chronic pain syndrome", 0.5),
    ("3569", "Idio periph neurpthy NOS", "Unspecified hereditary and idiopathic peripheral neuropathy", 0.7),
    ("41401", "Crnry athrscl natve vssl", "Coronary atherosclerosis of native coronary artery", 6.0),
    ("4589", "Hypotension NOS", "Hypotension, unspecified", 2.0),
    ("45340", "Ac DVT/emb low ext NOS", "Acute venous embolism and thrombosis of unspecified deep vessels of lower extremity", 0.8),
    ("4111", "Intermed coronary synd", "Intermediate coronary syndrome", 1.0),
    ("4139", "Angina pectoris NEC/NOS", "Other and unspecified angina pectoris", 1.0),
    ("486", "Pneumonia, organism NOS", "Pneumonia, organism unspecified", 3.5),
    ("51881", "Acute respiratry failure", "Acute respiratory failure", 4.0),
    ("5070", "Food/vomit pneumonitis", "Pneumonitis due to inhalation of food or vomitus", 1.5),
    ("5119", "Pleural effusion NOS", "Unspecified pleural effusion", 1.5),
    ("5789", "Gastrointest hemorr NOS", "Hemorrhage of gastrointestinal tract, unspecified", 1.5),
    ("53081", "Esophageal reflux", "Esophageal reflux", 3.0),
    ("5770", "Acute pancreatitis", "Acute pancreatitis", 0.8),
    ("56210", "Dvrtclo colon w/o hmrhg", "Diverticulosis of colon (without mention of hemorrhage)", 0.8),
    ("5849", "Acute kidney failure NOS", "Acute kidney failure, unspecified", 5.0),
    ("5990", "Urin tract infection NOS", "Urinary tract infection, site not specified", 3.5),
    ("70703", "Pressure ulcer, low back", "Pressure ulcer, lower back", 0.8),
    ("6826", "Cellulitis of leg", "Cellulitis and abscess of leg, except foot", 0.8),
    ("71590", "Osteoarthros NOS-unspec", "Osteoarthrosis, unspecified whether generalized or localized, site unspecified", 1.0),
    ("7242", "Lumbago", "Lumbago", 0.7),
    ("73300", "Osteoporosis NOS", "Osteoporosis, unspecified", 1.2),
    ("7455", "Secundum atrial sept def", "Ostium secundum type atrial septal defect", 0.3),
    ("7470", "Patent ductus arteriosus", "Patent ductus arteriosus", 0.1),
    ("78552", "Septic shock", "Septic shock", 2.0),
    ("78791", "Diarrhea", "Diarrhea", 0.8),
    ("7802", "Syncope and collapse", "Syncope and collapse", 0.8),
    ("78659", "Chest pain NEC", "Other chest pain", 1.0),
    ("99592", "Severe sepsis", "Severe sepsis", 2.5),
    ("99591", "Sepsis", "Sepsis", 1.0),
    ("99811", "Hemorrhage complic proc", "Hemorrhage complicating a procedure", 0.8),
    ("8208", "Fx neck of femur NOS-cl", "Closed fracture of unspecified part of neck of femur", 0.6),
    ("99662", "React-oth vasc dev/graft", "Infection and inflammatory reaction due to other vascular device, implant, and graft", 0.8),
    ("E8788", "Abn react-surg proc NEC", "Other specified surgical operations and procedures causing abnormal patient reaction, or later complication, without mention of misadventure at time of operation", 2.0),
    ("E8497", "Accid in resident instit", "Accidents occurring in residential institution", 1.5),
    ("E8859", "Fall from slipping NEC", "Fall from other slipping, tripping, or stumbling", 1.0),
    ("E9342", "Adv eff anticoagulants", "Anticoagulants causing adverse effects in therapeutic use", 0.8),
    ("E8798", "Abn react-procedure NEC", "Other specified procedures as the cause of abnormal reaction of patient, or of later complication, without mention of misadventure at time of procedure", 1.0),
    ("E8490", "Accident in home", "Home accidents", 0.6),
    ("V5861", "Long-term use anticoagul", "Long-term (current) use of anticoagulants", 2.5),
    ("V1582", "History of tobacco use", "Personal history of tobacco use", 1.5),
    ("V4582", "Status-post ptca", "Percutaneous transluminal coronary angioplasty status", 1.2),
    ("V5867", "Long-term use of insulin", "Long-term (current) use of insulin", 1.5),
    ("V4986", "Do not resusctate status", "Do not resuscitate status", 1.0),
    ("V667", "Encountr palliative care", "Encounter for palliative care", 0.5),
]

# Female admissions aged 18-44 get this pregnancy code now and then.
PREGNANCY_CODE = ("64891", "Oth curr cond-delivered", "Other current conditions classifiable elsewhere of mother, delivered, with or without mention of antepartum condition")

# Newborns: the first diagnosis is always a liveborn code, then a few perinatal codes.
NEWBORN_LIVEBORN_CODES: list[tuple[str, str, str, float]] = [
    ("V3000", "Single lb in-hosp w/o cs", "Single liveborn, born in hospital, delivered without mention of cesarean section", 0.6),
    ("V3001", "Single lb in-hosp w cs", "Single liveborn, born in hospital, delivered by cesarean section", 0.3),
    ("V3100", "Twin-mate lb-hosp w/o cs", "Twin birth, mate liveborn, born in hospital, delivered without mention of cesarean section", 0.04),
    ("V3101", "Twin-mate lb-hosp w cs", "Twin birth, mate liveborn, born in hospital, delivered by cesarean section", 0.06),
]
NEWBORN_OTHER_CODES: list[tuple[str, str, str, float]] = [
    ("V053", "Need prphyl vc vrl hepat", "Need for prophylactic vaccination and inoculation against viral hepatitis", 4.0),
    ("V290", "NB obsrv suspct infect", "Observation for suspected infectious condition", 3.0),
    ("7742", "Neonat jaund preterm del", "Neonatal jaundice associated with preterm delivery", 1.5),
    ("76519", "Preterm NEC 2500+g", "Other preterm infants, 2,500 grams and over", 0.8),
    ("76528", "35-36 comp wks gestation", "35-36 completed weeks of gestation", 1.0),
    ("7706", "NB transitory tachypnea", "Transitory tachypnea of newborn", 1.0),
    ("7470", "Patent ductus arteriosus", "Patent ductus arteriosus", 0.3),
]

# ICD-9-CM procedure codes (volume 3), dot-less: (code, short title, long title, weight).
ADULT_PROCEDURES: list[tuple[str, str, str, float]] = [
    ("9604", "Insert endotracheal tube", "Insertion of endotracheal tube", 5.0),
    ("9671", "Cont inv mec ven <96 hrs", "Continuous invasive mechanical ventilation for less than 96 consecutive hours", 5.0),
    ("9672", "Cont inv mec ven 96+ hrs", "Continuous invasive mechanical ventilation for 96 consecutive hours or more", 2.5),
    ("3893", "Venous cath NEC", "Venous catheterization, not elsewhere classified", 8.0),
    ("9904", "Packed cell transfusion", "Transfusion of packed cells", 4.0),
    ("3891", "Arterial catheterization", "Arterial catheterization", 2.5),
    ("966", "Entral infus nutrit sub", "Enteral infusion of concentrated nutritional substances", 3.0),
    ("9915", "Parent infus nutrit sub", "Parenteral infusion of concentrated nutritional substances", 1.0),
    ("4513", "Sm bowel endoscopy NEC", "Other endoscopy of small intestine", 1.0),
    ("3324", "Closed bronchial biopsy", "Closed [endoscopic] biopsy of bronchus", 0.5),
    ("0331", "Spinal tap", "Spinal tap", 0.8),
    ("311", "Temporary tracheostomy", "Temporary tracheostomy", 0.6),
    ("3129", "Other perm tracheostomy", "Other permanent tracheostomy", 0.4),
    ("4311", "Percu endosc gastrostomy", "Percutaneous [endoscopic] gastrostomy [PEG]", 0.8),
    ("9390", "Non-invasive mech vent", "Non-invasive mechanical ventilation", 1.0),
    ("8872", "Dx ultrasound-heart", "Diagnostic ultrasound of heart", 1.5),
    ("8703", "C.A.T. scan of head", "Computerized axial tomography of head", 1.0),
    ("5491", "Percu abdominal drainage", "Percutaneous abdominal drainage", 0.6),
    ("3404", "Insert intercostal cath", "Insertion of intercostal catheter for drainage", 0.8),
    ("0159", "Other brain excision", "Other excision or destruction of lesion or tissue of brain", 0.3),
    ("3897", "CV cath plcmt w guidance", "Central venous catheter placement with guidance", 1.0),
    ("0014", "Injection oxazolidinone", "Injection or infusion of oxazolidinone class of antibiotics", 0.3),
    ("0017", "Infusion of vasopressor", "Infusion of vasopressor agent", 0.8),
]
CARDIAC_PROCEDURES: list[tuple[str, str, str, float]] = [
    ("3722", "Left heart cardiac cath", "Left heart cardiac catheterization", 1.0),
    ("8856", "Coronar arteriogr-2 cath", "Coronary arteriography using two catheters", 1.0),
    ("0066", "PTCA", "Percutaneous transluminal coronary angioplasty [PTCA] or coronary atherectomy", 0.6),
    ("0045", "Insert 1 vascular stent", "Insertion of one vascular stent", 0.4),
    ("0040", "Procedure-one vessel", "Procedure on single vessel", 0.4),
    ("3607", "Ins drug-elut coronry st", "Insertion of drug-eluting coronary artery stent(s)", 0.5),
]
CARDIAC_SURGERY_PROCEDURES: list[tuple[str, str, str, float]] = [
    ("3961", "Extracorporeal circulat", "Extracorporeal circulation auxiliary to open heart surgery", 3.0),
    ("3615", "1 int mam-cor art bypass", "Single internal mammary-coronary artery bypass", 1.5),
    ("3612", "Aortocor bypas-2 cor art", "(Aorto)coronary bypass of two coronary arteries", 1.0),
    ("3613", "Aortocor bypas-3 cor art", "(Aorto)coronary bypass of three coronary arteries", 0.8),
    ("3521", "Replace aort valv-tissue", "Open and other replacement of aortic valve with tissue graft", 0.6),
    ("3524", "Replace mitral valve NEC", "Open and other replacement of mitral valve", 0.3),
]
HEMODIALYSIS_PROCEDURE = ("3995", "Hemodialysis", "Hemodialysis")
NEWBORN_PROCEDURES: list[tuple[str, str, str, float]] = [
    ("9955", "Vaccination NEC", "Prophylactic administration of vaccine against other diseases", 0.85),
    ("9983", "Other phototherapy", "Other phototherapy", 0.30),
    ("640", "Circumcision", "Circumcision", 0.25),
    ("9915", "Parent infus nutrit sub", "Parenteral infusion of concentrated nutritional substances", 0.15),
]
# Procedure codes that only appear in the dictionary.
PROCEDURE_DICTIONARY_ONLY: list[tuple[str, str, str]] = [
    ("3606", "Ins nondrug elut cor st", "Insertion of non-drug-eluting coronary artery stent(s)"),
    ("3614", "Aortocor bypas-4+ cor ar", "(Aorto)coronary bypass of four or more coronary arteries"),
    ("3522", "Replace aort valve NEC", "Other replacement of aortic valve"),
    ("3523", "Replace mitr valv-tissue", "Open and other replacement of mitral valve with tissue graft"),
    ("3812", "Endarterect head/neck", "Endarterectomy, other vessels of head and neck"),
    ("5123", "Laparoscopic cholecystec", "Laparoscopic cholecystectomy"),
    ("4562", "Part sm bowel resect NEC", "Other partial resection of small intestine"),
    ("8151", "Total hip replacement", "Total hip replacement"),
    ("0131", "Incise cerebral meninges", "Incision of cerebral meninges"),
    ("3995", "Hemodialysis", "Hemodialysis"),
    ("0050", "Impl crt pacemaker sys", "Implantation of cardiac resynchronization pacemaker without mention of defibrillation, total system [CRT-P]"),
    ("3772", "Int insert lead atr-vent", "Initial insertion of transvenous leads [electrodes] into atrium and ventricle"),
    ("3783", "Int insert dual-cham dev", "Initial insertion of dual-chamber device"),
    ("3794", "Implt/repl carddefib tot", "Implantation or replacement of automatic cardioverter/defibrillator, total system [AICD]"),
    ("3327", "Closed endosc lung bx", "Closed endoscopic biopsy of lung"),
    ("4516", "EGD with closed biopsy", "Esophagogastroduodenoscopy [EGD] with closed biopsy"),
    ("4523", "Colonoscopy", "Colonoscopy"),
    ("5110", "ERCP", "Endoscopic retrograde cholangiopancreatography [ERCP]"),
    ("8841", "Contr cerebr arteriogram", "Arteriography of cerebral arteries"),
    ("8891", "Brain MRI", "Magnetic resonance imaging of brain and brain stem"),
    ("9960", "Cardiopulm resuscita NOS", "Cardiopulmonary resuscitation, not otherwise specified"),
    ("9961", "Atrial cardioversion", "Atrial cardioversion"),
    ("9962", "Heart countershock NEC", "Other electric countershock of heart"),
    ("9905", "Platelet transfusion", "Transfusion of platelets"),
    ("9907", "Serum transfusion NEC", "Transfusion of other serum"),
    ("3950", "Angio oth non-coronary", "Angioplasty of other non-coronary vessel(s)"),
    ("3979", "Oth endovasc proc vessel", "Other endovascular procedures on other vessels"),
    ("0013", "Inject nesiritide", "Injection or infusion of nesiritide"),
]
