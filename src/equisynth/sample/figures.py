"""Published aggregate figures of MIMIC-III v1.4 that the built-in sample is drawn from.

Every figure names its source next to it. Figures that no source could be checked for are
marked as assumptions with a NOTE. Nothing here is patient-level data.

Sources:
- [JOHNSON2016] Johnson AEW, Pollard TJ, Shen L, et al. MIMIC-III, a freely accessible critical
  care database. Sci Data 2016;3:160035, Table 2 (adult column: median age 65.8, 55.9% male,
  hospital mortality 11.5%, median hospital stay 6.9 days, median ICU stay 2.1 days). The
  per-unit counts are from the draft of that table in the MIT-LCP/mimic-iii-paper repository
  (main.tex).
- [DAI2020] Dai Z, Liu S, Wu J, et al. Analysis of adult disease characteristics and mortality on
  MIMIC-III. PLoS ONE 2020;15(4):e0232176, abstract (adult quartiles of age, hospital and ICU stay).
- [MIMICCODE] MIT-LCP/mimic-code: `mimic-iii/buildmimic/duckdb/duckdb_checks.sql` (row counts of
  v1.4) and `mimic-iii/concepts/demographics/icustay_detail.sql` (admission counts per
  ADMISSIONS.ETHNICITY value).
"""

# Row counts of the full v1.4 release [MIMICCODE duckdb_checks.sql].
RELEASE_PATIENTS = 46_520
RELEASE_ADMISSIONS = 58_976
RELEASE_ICUSTAYS = 61_532
RELEASE_DIAGNOSES = 651_047
RELEASE_PROCEDURES = 240_095
RELEASE_PRESCRIPTIONS = 4_156_450

# Neonatal ICU hospital admissions, 7,992 of 57,786 [JOHNSON2016 draft Table 2, NICU column].
# NOTE: each NICU admission is treated as one newborn patient with a single admission.
NEWBORN_PATIENTS = 7_992
NEWBORN_PATIENT_SHARE = NEWBORN_PATIENTS / RELEASE_PATIENTS

# Admissions per adult patient, derived from the release counts above: 50,984 / 38,528.
ADULT_ADMISSIONS_PER_PATIENT = (RELEASE_ADMISSIONS - NEWBORN_PATIENTS) / (RELEASE_PATIENTS - NEWBORN_PATIENTS)

# Adults [JOHNSON2016 Table 2, adult column, with quartiles from DAI2020].
# NOTE: the adult-column values were not checked against the published table itself. DAI2020
# reports close values for 38,163 adults: median age 66, 56.6% male, median stays 7 and 2.1 days.
ADULT_MEDIAN_AGE = 65.8
ADULT_AGE_QUARTILES = (53.0, 78.0)
ADULT_MALE_SHARE = 0.559
ADULT_HOSPITAL_MORTALITY = 0.115
ADULT_HOSPITAL_LOS_MEDIAN_DAYS = 6.9
ADULT_HOSPITAL_LOS_QUARTILES_DAYS = (4.0, 12.0)
ICU_LOS_MEDIAN_DAYS = 2.1
ICU_LOS_QUARTILES_DAYS = (1.2, 4.1)

# Newborns [JOHNSON2016 draft Table 2, NICU column: 4,310 of 7,992 male, hospital mortality
# 64 of 7,992, median hospital stay 4.1 days (IQR 2.3-10.3), median ICU stay 0.8 days].
NEWBORN_MALE_SHARE = 4_310 / 7_992
NEWBORN_HOSPITAL_MORTALITY = 64 / 7_992
NEWBORN_HOSPITAL_LOS_MEDIAN_DAYS = 4.1
NEWBORN_HOSPITAL_LOS_QUARTILES_DAYS = (2.3, 10.3)
NEWBORN_ICU_LOS_MEDIAN_DAYS = 0.8

# Adult ICU stays per first care unit [JOHNSON2016 draft Table 2, "Distinct ICU stays"].
ADULT_ICU_STAYS_BY_CAREUNIT = {
    "CCU": 7_726,
    "CSRU": 9_855,
    "MICU": 21_088,
    "SICU": 8_891,
    "TSICU": 5_872,
}

# Hospital admissions with at least one ICU stay: 57,786 of 58,976 [JOHNSON2016 draft Table 2 and
# MIMICCODE]. The rest of the 61,532 ICU stays are second stays within one admission.
ADMISSIONS_WITH_ICU_SHARE = 57_786 / RELEASE_ADMISSIONS
SECOND_ICU_STAY_SHARE = (RELEASE_ICUSTAYS - 57_786) / 57_786

# Diagnosis rows per admission, derived from the release counts: 651,047 / 58,976 = 11.04.
DIAGNOSES_PER_ADMISSION = RELEASE_DIAGNOSES / RELEASE_ADMISSIONS

# Procedure rows per admission, derived from the release counts: 240,095 / 58,976 = 4.07.
PROCEDURES_PER_ADMISSION = RELEASE_PROCEDURES / RELEASE_ADMISSIONS

# NOTE: the release has about 70 prescription rows per admission. The sample writes about 12, so
# that a full-size sample stays small and fast. Tables that count prescriptions will differ.
PRESCRIPTIONS_PER_ADMISSION = 12.0

# Admissions per ADMISSIONS.ETHNICITY value, summing to 58,976 [MIMICCODE icustay_detail.sql].
ETHNICITY_ADMISSIONS = {
    "WHITE": 40_996,
    "WHITE - RUSSIAN": 164,
    "WHITE - OTHER EUROPEAN": 81,
    "WHITE - BRAZILIAN": 59,
    "WHITE - EASTERN EUROPEAN": 25,
    "BLACK/AFRICAN AMERICAN": 5_440,
    "BLACK/CAPE VERDEAN": 200,
    "BLACK/HAITIAN": 101,
    "BLACK/AFRICAN": 44,
    "CARIBBEAN ISLAND": 9,
    "HISPANIC OR LATINO": 1_696,
    "HISPANIC/LATINO - PUERTO RICAN": 232,
    "HISPANIC/LATINO - DOMINICAN": 78,
    "HISPANIC/LATINO - GUATEMALAN": 40,
    "HISPANIC/LATINO - CUBAN": 24,
    "HISPANIC/LATINO - SALVADORAN": 19,
    "HISPANIC/LATINO - CENTRAL AMERICAN (OTHER)": 13,
    "HISPANIC/LATINO - MEXICAN": 13,
    "HISPANIC/LATINO - COLOMBIAN": 9,
    "HISPANIC/LATINO - HONDURAN": 4,
    "ASIAN": 1_509,
    "ASIAN - CHINESE": 277,
    "ASIAN - ASIAN INDIAN": 85,
    "ASIAN - VIETNAMESE": 53,
    "ASIAN - FILIPINO": 25,
    "ASIAN - CAMBODIAN": 17,
    "ASIAN - OTHER": 17,
    "ASIAN - KOREAN": 13,
    "ASIAN - JAPANESE": 7,
    "ASIAN - THAI": 4,
    "AMERICAN INDIAN/ALASKA NATIVE": 51,
    "AMERICAN INDIAN/ALASKA NATIVE FEDERALLY RECOGNIZED TRIBE": 3,
    "UNKNOWN/NOT SPECIFIED": 4_523,
    "UNABLE TO OBTAIN": 814,
    "PATIENT DECLINED TO ANSWER": 559,
    "OTHER": 1_512,
    "MULTI RACE ETHNICITY": 130,
    "PORTUGUESE": 61,
    "MIDDLE EASTERN": 43,
    "NATIVE HAWAIIAN OR OTHER PACIFIC ISLANDER": 18,
    "SOUTH AMERICAN": 8,
}

# NOTE: assumption, because no checkable published table of ADMISSIONS.INSURANCE shares was found.
# These weights per age group aim at roughly 47% Medicare, 38% Private, 10% Medicaid, 3% Government and
# 1% Self Pay over all admissions. Black and Hispanic patients get twice the Medicaid weight.
INSURANCE_WEIGHTS = {
    "newborn": {"Private": 0.70, "Medicaid": 0.27, "Government": 0.02, "Self Pay": 0.01, "Medicare": 0.0},
    "under_65": {"Private": 0.56, "Medicaid": 0.18, "Medicare": 0.17, "Government": 0.06, "Self Pay": 0.03},
    "65_and_over": {"Medicare": 0.90, "Private": 0.08, "Medicaid": 0.01, "Government": 0.005, "Self Pay": 0.005},
}
MEDICAID_WEIGHT_FACTOR = {"BLACK": 2.0, "HISPANIC": 2.0}

# NOTE: assumption. Adult admission types, and the share of a patient's later admissions that start
# within 30 days of the previous discharge, are plausible values, not taken from a checked source.
ADULT_ADMISSION_TYPE_WEIGHTS = {"EMERGENCY": 0.82, "ELECTIVE": 0.155, "URGENT": 0.025}
READMISSION_WITHIN_30_DAYS_SHARE = 0.22

# NOTE: assumption. These prevalences per adult admission are plausible values for an adult ICU
# population, not taken from a checked MIMIC-III table. Keys are the mart's flag names, except
# "diabetes" and "hypertension", which are drawn once and split into complicated and uncomplicated.
ELIXHAUSER_PREVALENCE = {
    "elix_chf": 0.27,
    "elix_arrhythmia": 0.33,
    "elix_valvular": 0.10,
    "elix_pulm_circ": 0.05,
    "elix_pvd": 0.08,
    "hypertension": 0.55,
    "elix_paralysis": 0.03,
    "elix_neuro_other": 0.09,
    "elix_chronic_pulm": 0.18,
    "diabetes": 0.27,
    "elix_hypothyroidism": 0.10,
    "elix_renal_failure": 0.17,
    "elix_liver_disease": 0.07,
    "elix_peptic_ulcer": 0.01,
    "elix_aids_hiv": 0.01,
    "elix_lymphoma": 0.02,
    "elix_metastatic_cancer": 0.05,
    "elix_solid_tumor": 0.05,
    "elix_rheumatoid_arthritis": 0.03,
    "elix_coagulopathy": 0.15,
    "elix_obesity": 0.05,
    "elix_weight_loss": 0.05,
    "elix_fluid_electrolyte": 0.30,
    "elix_blood_loss_anemia": 0.02,
    "elix_deficiency_anemia": 0.18,
    "elix_alcohol_abuse": 0.06,
    "elix_drug_abuse": 0.04,
    "elix_psychoses": 0.04,
    "elix_depression": 0.10,
    # Charlson conditions that are not Elixhauser conditions.
    "cci_myocardial_infarction": 0.12,
    "cci_cerebrovascular": 0.10,
    "cci_dementia": 0.03,
}

# Share of diabetes coded as complicated (ICD-9 250.4-250.9) and of hypertension coded as
# complicated (402-405), before the boost for renal failure. NOTE: assumption.
DIABETES_COMPLICATED_SHARE = 0.25
HYPERTENSION_COMPLICATED_SHARE = 0.18
