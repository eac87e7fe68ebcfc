"""Comorbidities of adult admissions from a latent-factor model calibrated to published prevalences.

Each adult patient has three latent factors (general frailty, cardiometabolic, substance use).
A condition is present with probability sigmoid(intercept + age effect + factor loadings +
ethnicity effect). The intercepts are solved once so that each condition's prevalence over the
adult population equals the figure in `figures.ELIXHAUSER_PREVALENCE`. Shared factors make
conditions co-occur (diabetes with renal failure and hypertension), and positive age effects make
multimorbidity rise with age.
"""

import functools

import numpy as np

from equisynth.sample import figures

CONDITIONS = list(figures.ELIXHAUSER_PREVALENCE)

# Per condition: (age effect per 15 years, general load, cardiometabolic load, substance load).
# NOTE: assumption. The effect sizes are chosen to give plausible structure, not fitted to data.
_EFFECTS = {
    "elix_chf": (0.60, 0.6, 0.7, 0.0),
    "elix_arrhythmia": (0.75, 0.5, 0.3, 0.0),
    "elix_valvular": (0.55, 0.4, 0.2, 0.0),
    "elix_pulm_circ": (0.20, 0.5, 0.2, 0.0),
    "elix_pvd": (0.45, 0.5, 0.6, 0.2),
    "hypertension": (0.50, 0.3, 1.0, 0.0),
    "elix_paralysis": (0.00, 0.6, 0.0, 0.0),
    "elix_neuro_other": (0.05, 0.5, 0.0, 0.2),
    "elix_chronic_pulm": (0.30, 0.5, 0.1, 0.4),
    "diabetes": (0.30, 0.3, 1.3, 0.0),
    "elix_hypothyroidism": (0.40, 0.3, 0.2, 0.0),
    "elix_renal_failure": (0.40, 0.6, 1.1, 0.0),
    "elix_liver_disease": (-0.20, 0.6, 0.2, 1.1),
    "elix_peptic_ulcer": (0.10, 0.4, 0.0, 0.4),
    "elix_aids_hiv": (-0.60, 0.4, 0.0, 0.8),
    "elix_lymphoma": (0.20, 0.5, 0.0, 0.0),
    "elix_metastatic_cancer": (0.20, 0.6, 0.0, 0.1),
    "elix_solid_tumor": (0.35, 0.5, 0.0, 0.2),
    "elix_rheumatoid_arthritis": (0.20, 0.5, 0.0, 0.0),
    "elix_coagulopathy": (-0.05, 0.9, 0.0, 0.6),
    "elix_obesity": (-0.30, 0.2, 0.9, 0.0),
    "elix_weight_loss": (0.20, 0.9, 0.0, 0.3),
    "elix_fluid_electrolyte": (0.20, 1.0, 0.4, 0.3),
    "elix_blood_loss_anemia": (0.20, 0.6, 0.0, 0.2),
    "elix_deficiency_anemia": (0.25, 0.8, 0.3, 0.1),
    "elix_alcohol_abuse": (-0.45, 0.3, 0.0, 1.4),
    "elix_drug_abuse": (-0.90, 0.3, 0.0, 1.4),
    "elix_psychoses": (-0.40, 0.4, 0.0, 0.7),
    "elix_depression": (0.00, 0.5, 0.1, 0.6),
    "cci_myocardial_infarction": (0.40, 0.4, 0.7, 0.1),
    "cci_cerebrovascular": (0.45, 0.5, 0.4, 0.1),
    "cci_dementia": (1.60, 0.4, 0.0, 0.0),
}

# Log-odds added per ethnicity group. NOTE: assumption, chosen to reflect the higher burden of
# diabetes, hypertension and kidney disease reported for Black and Hispanic patients in the US.
_ETHNICITY_EFFECTS = {
    "BLACK": {"diabetes": 0.45, "hypertension": 0.5, "elix_renal_failure": 0.55, "elix_aids_hiv": 0.9, "elix_obesity": 0.3},
    "HISPANIC": {"diabetes": 0.45, "elix_liver_disease": 0.35, "elix_renal_failure": 0.2},
    "ASIAN": {"diabetes": 0.2, "elix_liver_disease": 0.3},
}

ETHNICITY_GROUPS = ["WHITE", "BLACK", "HISPANIC", "ASIAN", "NATIVE", "OTHER", "UNKNOWN"]
N_FACTORS = 3


def _effect_matrix() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    age = np.array([_EFFECTS[c][0] for c in CONDITIONS])
    loads = np.array([_EFFECTS[c][1:] for c in CONDITIONS])
    ethnicity = np.zeros((len(ETHNICITY_GROUPS), len(CONDITIONS)))
    for group, effects in _ETHNICITY_EFFECTS.items():
        for condition, value in effects.items():
            ethnicity[ETHNICITY_GROUPS.index(group), CONDITIONS.index(condition)] = value
    return age, loads, ethnicity


def linear_predictor(age_years: np.ndarray, factors: np.ndarray, ethnicity_group: np.ndarray) -> np.ndarray:
    """Return the log-odds of each condition without intercepts, shape (rows, conditions)."""
    age_effect, loads, ethnicity = _effect_matrix()
    age_scaled = (np.minimum(age_years, 95.0) - 65.0) / 15.0
    return age_scaled[:, None] * age_effect[None, :] + factors @ loads.T + ethnicity[ethnicity_group]


@functools.lru_cache(maxsize=1)
def calibrated_intercepts() -> np.ndarray:
    """Solve the intercepts that give each condition its target prevalence over adult admissions.

    Uses a fixed calibration population of 40,000 adults drawn with its own seed, so the result
    does not depend on the sample's seed or size. Each calibration patient is weighted by the
    expected number of admissions that `patients.draw_patients` gives them, and aged by half the
    time those admissions span, because frail patients come back more often and older.
    """
    from equisynth.sample.patients import admission_rate, draw_adult_ages, draw_ethnicity_groups

    rng = np.random.default_rng(20160524)
    n = 40_000
    ages = draw_adult_ages(rng, n)
    groups = draw_ethnicity_groups(rng, n)
    factors = rng.standard_normal((n, N_FACTORS))
    weights = 1.0 + admission_rate(factors)
    ages = ages + 0.5 * (weights - 1.0)
    base = linear_predictor(ages, factors, groups)
    targets = np.array([figures.ELIXHAUSER_PREVALENCE[c] for c in CONDITIONS])

    intercepts = np.log(targets / (1 - targets))
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(base + intercepts)))
        prevalence = np.average(p, axis=0, weights=weights)
        gap = prevalence - targets
        if np.max(np.abs(gap)) < 1e-5:
            break
        intercepts -= gap / np.maximum(np.average(p * (1 - p), axis=0, weights=weights), 1e-6)
    return intercepts


def draw_conditions(rng: np.random.Generator, age_years: np.ndarray, factors: np.ndarray, ethnicity_group: np.ndarray) -> np.ndarray:
    """Draw the condition indicators of adult admissions, shape (rows, conditions), dtype bool."""
    logits = linear_predictor(age_years, factors, ethnicity_group) + calibrated_intercepts()
    p = 1.0 / (1.0 + np.exp(-logits))
    return rng.random(p.shape) < p


def split_dominated(rng: np.random.Generator, present: np.ndarray) -> dict[str, np.ndarray]:
    """Turn drawn conditions into the mart's flag names, splitting diabetes and hypertension.

    Returns flag name -> boolean array. Complicated diabetes and complicated hypertension are twice
    as likely when renal failure is present, which strengthens their co-occurrence.
    """
    flags = {c: present[:, i] for i, c in enumerate(CONDITIONS)}
    renal = flags["elix_renal_failure"]
    boost = np.where(renal, 2.0, 1.0)

    diabetes = flags.pop("diabetes")
    complicated = rng.random(len(diabetes)) < np.minimum(figures.DIABETES_COMPLICATED_SHARE * boost, 0.9)
    flags["elix_diabetes_complicated"] = diabetes & complicated
    flags["elix_diabetes_uncomplicated"] = diabetes & ~complicated

    hypertension = flags.pop("hypertension")
    complicated = rng.random(len(hypertension)) < np.minimum(figures.HYPERTENSION_COMPLICATED_SHARE * boost, 0.9)
    flags["elix_htn_complicated"] = hypertension & complicated
    flags["elix_htn_uncomplicated"] = hypertension & ~complicated
    return flags
