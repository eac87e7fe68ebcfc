"""PRESCRIPTIONS rows of the built-in sample: general ward drugs plus drugs tied to conditions."""

import numpy as np

from equisynth.sample import figures, writer
from equisynth.sample.admissions import SECONDS_PER_DAY, AdmissionBatch

COLUMNS = [
    "ROW_ID", "SUBJECT_ID", "HADM_ID", "ICUSTAY_ID", "STARTDATE", "ENDDATE", "DRUG_TYPE", "DRUG",
    "DRUG_NAME_POE", "DRUG_NAME_GENERIC", "FORMULARY_DRUG_CD", "GSN", "NDC", "PROD_STRENGTH",
    "DOSE_VAL_RX", "DOSE_UNIT_RX", "FORM_VAL_DISP", "FORM_UNIT_DISP", "ROUTE",
]

# (drug, product strength, dose value, dose unit, dispensed value, dispensed unit, route).
# NOTE: FORMULARY_DRUG_CD values are made up from the drug name, and GSN and NDC stay empty,
# because the hospital's formulary codes are not public.
DRUGS = [
    ("Heparin", "5000 Units / mL- 1mL Vial", "5000", "UNIT", "1", "mL", "SC"),
    ("Docusate Sodium", "100mg Capsule", "100", "mg", "1", "CAP", "PO"),
    ("Acetaminophen", "325mg Tablet", "650", "mg", "2", "TAB", "PO"),
    ("Sodium Chloride 0.9%  Flush", "10 mL Syringe", "3", "mL", "0.3", "SYR", "IV"),
    ("Pantoprazole", "40mg Tablet", "40", "mg", "1", "TAB", "PO"),
    ("Senna", "1 Tablet", "1", "TAB", "1", "TAB", "PO"),
    ("Ondansetron", "2mg/mL-2mL", "4", "mg", "2", "mL", "IV"),
    ("Magnesium Sulfate", "2 g / 50 mL Premix Bag", "2", "gm", "50", "mL", "IV"),
    ("Morphine Sulfate", "2mg Syringe", "2", "mg", "1", "SYR", "IV"),
    ("Vancomycin", "1 g Frozen Bag", "1000", "mg", "1", "BAG", "IV"),
    # Drugs tied to a condition, from index 10 on.
    ("Insulin", "100 Units / mL - 10 mL Vial", "0", "UNIT", "0", "VIAL", "SC"),
    ("Furosemide", "10mg/mL-2mL", "40", "mg", "4", "mL", "IV"),
    ("Metoprolol Tartrate", "25mg Tablet", "25", "mg", "1", "TAB", "PO"),
    ("Lisinopril", "10mg Tablet", "10", "mg", "1", "TAB", "PO"),
    ("Levothyroxine Sodium", "50mcg Tablet", "50", "mcg", "1", "TAB", "PO"),
    ("Albuterol Inhaler", "1 Inhaler", "2", "PUFF", "0.1", "INH", "IH"),
    ("Lactulose", "30 mL UD Cup", "30", "mL", "1", "UDCUP", "PO"),
    ("Potassium Chloride", "20mEq Packet", "40", "mEq", "2", "PKT", "PO"),
    ("Sevelamer", "800mg Tablet", "800", "mg", "1", "TAB", "PO"),
    ("Thiamine", "100mg Tablet", "100", "mg", "1", "TAB", "PO"),
]
GENERAL_DRUGS = 10
CONDITION_DRUGS = {
    "elix_diabetes_uncomplicated": 10,
    "elix_diabetes_complicated": 10,
    "elix_chf": 11,
    "elix_arrhythmia": 12,
    "elix_htn_uncomplicated": 13,
    "elix_htn_complicated": 13,
    "elix_hypothyroidism": 14,
    "elix_chronic_pulm": 15,
    "elix_liver_disease": 16,
    "elix_fluid_electrolyte": 17,
    "elix_renal_failure": 18,
    "elix_alcohol_abuse": 19,
}
NEWBORN_DRUGS = [
    ("Phytonadione", "1mg/0.5mL Amp", "1", "mg", "0.5", "mL", "IM"),
    ("Erythromycin 0.5% Ophth Oint", "1g Tube", "0.5", "cm", "0.5", "cm", "BOTH EYES"),
    ("Hepatitis B Vaccine", "10mcg/0.5mL Vial", "0.5", "mL", "1", "VIAL", "IM"),
]


def _formulary_code(name: str, strength: str) -> str:
    letters = "".join(ch for ch in name.upper() if ch.isalpha())[:4]
    digits = "".join(ch for ch in strength if ch.isdigit())[:3]
    return letters + digits


def prescription_rows(rng: np.random.Generator, admissions: AdmissionBatch, subject_id: np.ndarray, icustay_id: np.ndarray) -> dict:
    """Return PRESCRIPTIONS fields (without ROW_ID) for a batch of admissions."""
    catalogue = DRUGS + NEWBORN_DRUGS
    n = len(admissions.hadm_id)
    adult = ~admissions.newborn
    adm_parts, drug_parts = [], []

    general_counts = np.where(adult, rng.poisson(figures.PRESCRIPTIONS_PER_ADMISSION - 2.0, n), 0)
    rows = np.repeat(np.arange(n), general_counts)
    adm_parts.append(rows)
    drug_parts.append(rng.integers(0, GENERAL_DRUGS, len(rows)))

    for flag, drug in CONDITION_DRUGS.items():
        chosen = admissions.flags[flag] & (rng.random(n) < 0.8)
        adm_parts.append(np.flatnonzero(chosen))
        drug_parts.append(np.full(chosen.sum(), drug))

    newborn_rows = np.flatnonzero(admissions.newborn)
    for offset in range(len(NEWBORN_DRUGS)):
        adm_parts.append(newborn_rows)
        drug_parts.append(np.full(len(newborn_rows), len(DRUGS) + offset))

    adm = np.concatenate(adm_parts)
    drug = np.concatenate(drug_parts)
    order = np.lexsort((rng.random(len(adm)), adm))
    adm, drug = adm[order], drug[order]

    # Orders start and end on whole days within the admission, as STARTDATE and ENDDATE do.
    admit_day = admissions.admit[adm].astype("datetime64[D]")
    stay_days = ((admissions.discharge[adm] - admissions.admit[adm]) / np.timedelta64(1, "s") / SECONDS_PER_DAY).astype(np.int64)
    start_offset = (rng.random(len(adm)) * (stay_days + 1)).astype(np.int64)
    start = admit_day + start_offset.astype("timedelta64[D]")
    end_offset = np.minimum(start_offset + 1 + rng.poisson(2.0, len(adm)), stay_days + 1)
    end = admit_day + end_offset.astype("timedelta64[D]")
    # An order carries the first ICU stay's id when it starts on a day of that stay.
    icu_in_day = admissions.icu_in[adm, 0].astype("datetime64[D]")
    icu_out_day = admissions.icu_out[adm, 0].astype("datetime64[D]")
    in_icu = (admissions.n_icu[adm] > 0) & (start >= icu_in_day) & (start <= icu_out_day)
    icu = np.where(in_icu, icustay_id[adm, 0], -1)

    names = [d[0] for d in catalogue]
    return {
        "SUBJECT_ID": writer.integers(subject_id[adm]),
        "HADM_ID": writer.integers(admissions.hadm_id[adm]),
        "ICUSTAY_ID": writer.integers(icu, null=icu < 0),
        "STARTDATE": writer.timestamps(start.astype("datetime64[s]")),
        "ENDDATE": writer.timestamps(end.astype("datetime64[s]")),
        "DRUG_TYPE": writer.categorical(np.where(admissions.newborn[adm], 1, 0), ["MAIN", "BASE"]),
        "DRUG": writer.categorical(drug, names),
        "DRUG_NAME_POE": writer.categorical(drug, names),
        "DRUG_NAME_GENERIC": writer.categorical(drug, names),
        "FORMULARY_DRUG_CD": writer.categorical(drug, [_formulary_code(d[0], d[1]) for d in catalogue]),
        "GSN": writer.categorical(np.zeros(len(adm), dtype=np.int64), [None]),
        "NDC": writer.categorical(np.zeros(len(adm), dtype=np.int64), [None]),
        "PROD_STRENGTH": writer.categorical(drug, [d[1] for d in catalogue]),
        "DOSE_VAL_RX": writer.categorical(drug, [d[2] for d in catalogue]),
        "DOSE_UNIT_RX": writer.categorical(drug, [d[3] for d in catalogue]),
        "FORM_VAL_DISP": writer.categorical(drug, [d[4] for d in catalogue]),
        "FORM_UNIT_DISP": writer.categorical(drug, [d[5] for d in catalogue]),
        "ROUTE": writer.categorical(drug, [d[6] for d in catalogue]),
    }
