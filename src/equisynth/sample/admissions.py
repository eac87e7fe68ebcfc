"""Hospital admissions and ICU stays of the built-in sample, laid out in time per patient."""

import functools
from dataclasses import dataclass

import numpy as np

from equisynth.sample import conditions, figures
from equisynth.sample.patients import PatientBatch

SECONDS_PER_DAY = 86_400.0

# The drawn hospital stay is lengthened where needed to hold the ICU stays. This factor brings
# the adult median back to the published 6.9 days (checked on a 93,040-patient sample, seed 0).
_ADULT_HOSPITAL_LOS_SCALE = 0.84
CAREUNITS = ["CCU", "CSRU", "MICU", "SICU", "TSICU", "NICU"]
NICU = CAREUNITS.index("NICU")
ADMISSION_TYPES = ["EMERGENCY", "ELECTIVE", "URGENT", "NEWBORN"]
INSURANCES = ["Medicare", "Private", "Medicaid", "Government", "Self Pay"]


@dataclass
class AdmissionBatch:
    """Admissions of a batch of patients, one array element per admission."""

    patient: np.ndarray  # index into the PatientBatch
    hadm_id: np.ndarray
    age: np.ndarray
    newborn: np.ndarray
    male: np.ndarray
    flags: dict[str, np.ndarray]  # condition flag -> bool per admission (adults only)
    admission_type: np.ndarray
    insurance: np.ndarray
    admit: np.ndarray
    discharge: np.ndarray
    died: np.ndarray
    n_icu: np.ndarray
    icu_in: np.ndarray  # (admissions, 2) datetime64[s], NaT where absent
    icu_out: np.ndarray
    careunit: np.ndarray  # (admissions, 2) index into CAREUNITS, -1 where absent
    is_last: np.ndarray


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _lognormal(rng: np.random.Generator, median: float, quartiles: tuple[float, float], size: int) -> np.ndarray:
    sigma = np.log(quartiles[1] / quartiles[0]) / 1.349
    return median * np.exp(sigma * rng.standard_normal(size))


def _mortality_logit(age: np.ndarray, flags: dict[str, np.ndarray]) -> np.ndarray:
    elix_count = sum(v.astype(float) for k, v in flags.items() if k.startswith("elix_"))
    logit = 0.45 * (np.minimum(age, 95.0) - 65.0) / 10.0 + 0.3 * (elix_count - 3.5)
    logit = logit + 1.1 * flags["elix_metastatic_cancer"] + 0.8 * flags["elix_liver_disease"]
    logit = logit + 0.4 * flags["elix_chf"] + 0.5 * flags["elix_coagulopathy"] + 0.3 * flags["elix_renal_failure"]
    return logit


@functools.lru_cache(maxsize=1)
def mortality_intercept() -> float:
    """Solve the intercept that gives adults the published in-hospital mortality.

    Deaths happen only on a patient's last admission, so the target on last admissions is the
    published rate per admission times the admissions per adult patient.
    """
    from equisynth.sample.patients import draw_adult_ages, draw_ethnicity_groups

    rng = np.random.default_rng(20160525)
    n = 40_000
    ages = draw_adult_ages(rng, n) + 1.0
    present = conditions.draw_conditions(rng, ages, rng.standard_normal((n, conditions.N_FACTORS)), draw_ethnicity_groups(rng, n))
    base = _mortality_logit(ages, conditions.split_dominated(rng, present))
    target = figures.ADULT_HOSPITAL_MORTALITY * figures.ADULT_ADMISSIONS_PER_PATIENT

    intercept = np.log(target / (1 - target))
    for _ in range(50):
        p = _sigmoid(base + intercept)
        gap = p.mean() - target
        if abs(gap) < 1e-6:
            break
        intercept -= gap / max((p * (1 - p)).mean(), 1e-6)
    return float(intercept)


def _insurance(rng: np.random.Generator, patients: PatientBatch) -> np.ndarray:
    groups = ["newborn", "under_65", "65_and_over"]
    group = np.where(patients.newborn, 0, np.where(patients.first_age < 65, 1, 2))
    weights = np.array([[figures.INSURANCE_WEIGHTS[g][i] for i in INSURANCES] for g in groups])[group]
    for ethnicity, factor in figures.MEDICAID_WEIGHT_FACTOR.items():
        rows = patients.ethnicity_group == conditions.ETHNICITY_GROUPS.index(ethnicity)
        weights[rows, INSURANCES.index("Medicaid")] *= factor
    return choose_rows(rng, weights)


def choose_rows(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
    """Draw one column index per row with probability proportional to that row's weights."""
    cumulative = np.cumsum(weights, axis=1)
    u = rng.random(len(weights)) * cumulative[:, -1]
    return np.minimum((cumulative < u[:, None]).sum(axis=1), weights.shape[1] - 1)


def draw_admissions(rng: np.random.Generator, patients: PatientBatch, first_hadm_id: int) -> AdmissionBatch:
    """Lay out every admission of the batch in time, with conditions, ICU stays and outcome."""
    n_patients = len(patients.subject_id)
    patient = np.repeat(np.arange(n_patients), patients.n_admissions)
    n = len(patient)
    group_start = np.repeat(np.cumsum(patients.n_admissions) - patients.n_admissions, patients.n_admissions)
    seq = np.arange(n) - group_start
    is_last = seq == patients.n_admissions[patient] - 1
    newborn = patients.newborn[patient]
    factors = patients.factors[patient]

    # Gaps from the previous discharge: some admissions come back within 30 days.
    readmit_p = _sigmoid(np.log(figures.READMISSION_WITHIN_30_DAYS_SHARE / (1 - figures.READMISSION_WITHIN_30_DAYS_SHARE)) + 0.5 * factors[:, 0])
    soon = rng.random(n) < readmit_p
    gap_days = np.where(soon, rng.uniform(0.5, 29.5, n), np.minimum(30.0 + rng.lognormal(np.log(300.0), 1.0, n), 1_000.0))
    gap_days[seq == 0] = 0.0
    approx_years = np.cumsum(gap_days + 7.0) / 365.25
    approx_years -= approx_years[group_start]
    age = np.where(newborn, 0.0, patients.first_age[patient] + approx_years)

    # Conditions are drawn for adults only, so newborns carry none of the comorbidities.
    present = conditions.draw_conditions(rng, age, factors, patients.ethnicity_group[patient])
    present[newborn] = False
    flags = conditions.split_dominated(rng, present)
    elix_count = sum(v.astype(float) for k, v in flags.items() if k.startswith("elix_"))

    # Outcome: adults may die on their last admission, with risk rising with age and burden.
    p_death = np.where(newborn, figures.NEWBORN_HOSPITAL_MORTALITY, _sigmoid(mortality_intercept() + _mortality_logit(age, flags)))
    died = is_last & (rng.random(n) < p_death)

    # Admission type and insurance.
    adult_types = np.array([figures.ADULT_ADMISSION_TYPE_WEIGHTS[t] for t in ADMISSION_TYPES[:3]])
    admission_type = np.where(newborn, 3, rng.choice(3, size=n, p=adult_types / adult_types.sum()))
    insurance = _insurance(rng, patients)[patient]

    # Most admissions have one ICU stay and a few have two. Newborns stay in the NICU.
    has_icu = newborn | (rng.random(n) < figures.ADMISSIONS_WITH_ICU_SHARE)
    second = has_icu & ~newborn & (rng.random(n) < figures.SECOND_ICU_STAY_SHARE)
    n_icu = has_icu.astype(np.int64) + second

    careunit = np.full((n, 2), -1, dtype=np.int64)
    unit_weights = np.array([figures.ADULT_ICU_STAYS_BY_CAREUNIT[u] for u in CAREUNITS[:5]], dtype=float)
    weights = np.tile(unit_weights, (n, 1))
    cardiac = flags["cci_myocardial_infarction"] | flags["elix_chf"] | flags["elix_arrhythmia"]
    weights[cardiac, 0] *= 2.5
    weights[flags["elix_valvular"] | (admission_type == 1), 1] *= 3.0
    weights[age < 50, 4] *= 3.0
    for stay in range(2):
        units = choose_rows(rng, weights)
        careunit[:, stay] = np.where(n_icu > stay, units, -1)
    careunit[newborn, 0] = NICU

    # Lengths of stay, in days.
    icu_days = np.where(newborn, figures.NEWBORN_ICU_LOS_MEDIAN_DAYS * np.exp(1.2 * rng.standard_normal(n)),
                        _lognormal(rng, figures.ICU_LOS_MEDIAN_DAYS, figures.ICU_LOS_QUARTILES_DAYS, n))
    icu_days = np.clip(icu_days * np.exp(0.06 * (elix_count - 3.5)), 0.05, 120.0)
    icu2_days = np.clip(_lognormal(rng, figures.ICU_LOS_MEDIAN_DAYS, figures.ICU_LOS_QUARTILES_DAYS, n), 0.05, 60.0)
    hospital_days = np.where(
        newborn,
        _lognormal(rng, figures.NEWBORN_HOSPITAL_LOS_MEDIAN_DAYS, figures.NEWBORN_HOSPITAL_LOS_QUARTILES_DAYS, n),
        _ADULT_HOSPITAL_LOS_SCALE
        * _lognormal(rng, figures.ADULT_HOSPITAL_LOS_MEDIAN_DAYS, figures.ADULT_HOSPITAL_LOS_QUARTILES_DAYS, n)
        * np.exp(0.05 * (elix_count - 3.5)),
    )
    before_icu = np.where(newborn, rng.uniform(0.0, 0.05, n), rng.uniform(0.05, 0.6, n))
    between_icu = np.where(second, rng.uniform(0.5, 4.0, n), 0.0)
    icu_total = np.where(has_icu, before_icu + icu_days, 0.0) + np.where(second, between_icu + icu2_days, 0.0)
    hospital_days = np.clip(np.maximum(hospital_days, icu_total + np.where(died, 0.0, 0.1)), 0.1, 300.0)

    # Absolute times: each admission starts after the previous discharge plus the gap.
    step = hospital_days + gap_days
    start_days = np.cumsum(step) - step
    start_days -= start_days[group_start]
    start_days += gap_days - gap_days[group_start]
    admit = patients.first_admit[patient] + np.round(start_days * SECONDS_PER_DAY).astype("timedelta64[s]")
    admit = admit.astype("datetime64[m]").astype("datetime64[s]")
    discharge = admit + np.round(hospital_days * SECONDS_PER_DAY).astype("timedelta64[s]")
    discharge = np.maximum(discharge.astype("datetime64[m]").astype("datetime64[s]"), admit + np.timedelta64(60, "s"))

    icu_in = np.full((n, 2), np.datetime64("NaT"), dtype="datetime64[s]")
    icu_out = icu_in.copy()
    in1 = admit + np.round(before_icu * SECONDS_PER_DAY).astype("timedelta64[s]")
    out1 = np.minimum(in1 + np.round(icu_days * SECONDS_PER_DAY).astype("timedelta64[s]"), discharge)
    in2 = np.minimum(out1 + np.round(between_icu * SECONDS_PER_DAY).astype("timedelta64[s]"), discharge)
    out2 = np.minimum(in2 + np.round(icu2_days * SECONDS_PER_DAY).astype("timedelta64[s]"), discharge)
    icu_in[has_icu, 0] = in1[has_icu]
    icu_out[has_icu, 0] = out1[has_icu]
    icu_in[second, 1] = in2[second]
    icu_out[second, 1] = out2[second]

    return AdmissionBatch(
        patient=patient,
        hadm_id=np.arange(first_hadm_id, first_hadm_id + n, dtype=np.int64),
        age=age,
        newborn=newborn,
        male=patients.male[patient],
        flags=flags,
        admission_type=admission_type,
        insurance=insurance,
        admit=admit,
        discharge=discharge,
        died=died,
        n_icu=n_icu,
        icu_in=icu_in,
        icu_out=icu_out,
        careunit=careunit,
        is_last=is_last,
    )
