"""An invented table with the columns and roles of `mm_admission_features`, for model unit tests.

Values are random draws with a little structure (older patients have more comorbidities); no
value comes from MIMIC. Derived columns are computed as dbt computes them.
"""

import numpy as np
import pandas as pd

from models_ml.table_schema import ColumnSpec, TableSchema

ELIXHAUSER = [
    "elix_chf", "elix_arrhythmia", "elix_valvular", "elix_pulm_circ", "elix_pvd", "elix_htn_uncomplicated",
    "elix_htn_complicated", "elix_paralysis", "elix_neuro_other", "elix_chronic_pulm", "elix_diabetes_uncomplicated",
    "elix_diabetes_complicated", "elix_hypothyroidism", "elix_renal_failure", "elix_liver_disease", "elix_peptic_ulcer",
    "elix_aids_hiv", "elix_lymphoma", "elix_metastatic_cancer", "elix_solid_tumor", "elix_rheumatoid_arthritis",
    "elix_coagulopathy", "elix_obesity", "elix_weight_loss", "elix_fluid_electrolyte", "elix_blood_loss_anemia",
    "elix_deficiency_anemia", "elix_alcohol_abuse", "elix_drug_abuse", "elix_psychoses", "elix_depression",
]
CHARLSON = [
    "cci_myocardial_infarction", "cci_chf", "cci_pvd", "cci_cerebrovascular", "cci_dementia", "cci_chronic_pulm",
    "cci_rheumatic", "cci_peptic_ulcer", "cci_mild_liver", "cci_diabetes_uncomplicated", "cci_diabetes_complicated",
    "cci_paraplegia", "cci_renal", "cci_malignancy", "cci_severe_liver", "cci_metastatic", "cci_aids_hiv",
]
CHAPTERS = [
    "dx_ch01_infectious", "dx_ch02_neoplasms", "dx_ch03_endocrine", "dx_ch04_blood", "dx_ch05_mental",
    "dx_ch06_nervous", "dx_ch07_circulatory", "dx_ch08_respiratory", "dx_ch09_digestive", "dx_ch10_genitourinary",
    "dx_ch11_pregnancy", "dx_ch12_skin", "dx_ch13_musculoskeletal", "dx_ch14_congenital", "dx_ch15_perinatal",
    "dx_ch16_symptoms", "dx_ch17_injury", "dx_ch_e_external", "dx_ch_v_supplementary",
]
HIERARCHY = [
    ("elix_diabetes_complicated", "elix_diabetes_uncomplicated"),
    ("elix_metastatic_cancer", "elix_solid_tumor"),
    ("elix_htn_complicated", "elix_htn_uncomplicated"),
    ("cci_metastatic", "cci_malignancy"),
    ("cci_severe_liver", "cci_mild_liver"),
    ("cci_diabetes_complicated", "cci_diabetes_uncomplicated"),
]
BANDS = [(0, 17, "0-17"), (18, 44, "18-44"), (45, 64, "45-64"), (65, 79, "65-79"), (80, 90, "80+")]
CONDITIONS = ["ethnicity_group", "insurance", "gender", "age_band", "multimorbid"]


def mart_schema() -> TableSchema:
    columns = [
        ColumnSpec("subject_id", "id"),
        ColumnSpec("hadm_id", "id"),
        ColumnSpec("age", "continuous"),
        ColumnSpec("age_top_coded", "binary", derived=True),
        ColumnSpec("age_band", "categorical", condition=True, derived=True),
        ColumnSpec("gender", "categorical", condition=True),
        ColumnSpec("ethnicity_group", "categorical", condition=True),
        ColumnSpec("insurance", "categorical", condition=True),
        ColumnSpec("language", "categorical"),
        ColumnSpec("marital_status", "categorical"),
        ColumnSpec("admission_type", "categorical"),
        ColumnSpec("admission_location", "categorical"),
        ColumnSpec("los_hospital_days", "continuous"),
        ColumnSpec("icu_stays", "count"),
        ColumnSpec("icu_days", "continuous"),
        ColumnSpec("hospital_expire_flag", "binary"),
        ColumnSpec("readmit_30d", "binary"),
        *[ColumnSpec(flag, "binary", condition_flag="elixhauser") for flag in ELIXHAUSER],
        *[ColumnSpec(flag, "binary", condition_flag="charlson") for flag in CHARLSON],
        *[ColumnSpec(chapter, "count") for chapter in CHAPTERS],
        ColumnSpec("n_diagnoses", "count", derived=True),
        ColumnSpec("elixhauser_count", "count", derived=True),
        ColumnSpec("multimorbid", "binary", condition=True, derived=True),
    ]
    return TableSchema("mm_admission_features", tuple(columns))


def age_band(age: np.ndarray) -> np.ndarray:
    labels = np.empty(len(age), dtype=object)
    for low, high, label in BANDS:
        labels[(age >= low) & (age <= high)] = label
    return labels


def elixhauser_count(table: pd.DataFrame) -> np.ndarray:
    flags = table[ELIXHAUSER].copy()
    for dominant, suppressed in HIERARCHY:
        if dominant in flags:
            flags.loc[flags[dominant] == 1, suppressed] = 0
    return flags.sum(axis=1).to_numpy()


def make_mart(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = np.clip(np.round(rng.normal(62, 18, n)), 0, 90).astype(int)
    age[rng.random(n) < 0.05] = 90
    stays = rng.choice([0, 1, 2], n, p=[0.3, 0.6, 0.1])
    table = pd.DataFrame({
        "subject_id": np.arange(n) // 2 + 1000,
        "hadm_id": np.arange(n) + 50000,
        "age": age,
        "gender": rng.choice(["M", "F"], n),
        "ethnicity_group": rng.choice(["WHITE", "BLACK", "HISPANIC", "ASIAN", "UNKNOWN"], n, p=[0.6, 0.15, 0.1, 0.05, 0.1]),
        "insurance": rng.choice(["Medicare", "Medicaid", "Private", "Self Pay"], n, p=[0.5, 0.15, 0.3, 0.05]),
        "language": rng.choice(["ENGL", "SPAN", "OTHER", "UNKNOWN"], n),
        "marital_status": rng.choice(["MARRIED", "SINGLE", "WIDOWED", "UNKNOWN"], n),
        "admission_type": rng.choice(["EMERGENCY", "ELECTIVE", "URGENT"], n, p=[0.7, 0.2, 0.1]),
        "admission_location": rng.choice(["EMERGENCY ROOM ADMIT", "PHYS REFERRAL/NORMAL DELI", "TRANSFER FROM HOSP/EXTRAM"], n),
        "los_hospital_days": np.round(rng.lognormal(1.8, 0.7, n), 3),
        "icu_stays": stays,
        "icu_days": np.where(stays > 0, np.round(rng.lognormal(0.8, 0.8, n), 3), 0.0),
        "hospital_expire_flag": (rng.random(n) < 0.1).astype(int),
        "readmit_30d": (rng.random(n) < 0.08).astype(int),
    })
    burden = age / 90
    for flag in ELIXHAUSER + CHARLSON:
        table[flag] = (rng.random(n) < 0.04 + 0.12 * burden).astype(int)
    table["elix_aids_hiv"] = 0  # a flag never on in training
    for chapter in CHAPTERS:
        table[chapter] = rng.poisson(0.3 + 1.2 * burden)
    table["age_top_coded"] = (age >= 90).astype(int)
    table["age_band"] = age_band(age)
    table["n_diagnoses"] = table[CHAPTERS].sum(axis=1)
    table["elixhauser_count"] = elixhauser_count(table)
    table["multimorbid"] = (table["elixhauser_count"] >= 2).astype(int)
    return table[mart_schema().names]
