"""Patient-level attributes of the built-in sample: sex, ethnicity, age, latent health factors."""

from dataclasses import dataclass

import numpy as np

from equisynth.sample import figures
from equisynth.sample.conditions import ETHNICITY_GROUPS, N_FACTORS

ETHNICITY_VALUES = list(figures.ETHNICITY_ADMISSIONS)
_ETHNICITY_P = np.array(list(figures.ETHNICITY_ADMISSIONS.values()), dtype=float)
_ETHNICITY_P /= _ETHNICITY_P.sum()

_UNKNOWN_VALUES = {"UNKNOWN/NOT SPECIFIED", "UNABLE TO OBTAIN", "PATIENT DECLINED TO ANSWER"}


def ethnicity_group_of(value: str) -> str:
    """Return the ethnicity group of an ADMISSIONS.ETHNICITY value, as mimic-code groups them."""
    if value.startswith("WHITE"):
        return "WHITE"
    if value.startswith("BLACK") or value == "CARIBBEAN ISLAND":
        return "BLACK"
    if value.startswith("HISPANIC"):
        return "HISPANIC"
    if value.startswith("ASIAN"):
        return "ASIAN"
    if value.startswith("AMERICAN INDIAN"):
        return "NATIVE"
    if value in _UNKNOWN_VALUES:
        return "UNKNOWN"
    return "OTHER"


_GROUP_OF_VALUE = np.array([ETHNICITY_GROUPS.index(ethnicity_group_of(v)) for v in ETHNICITY_VALUES])

# Adult age at first admission: 18 + 80 * Beta(2.3, 1.7) has a median near 66 years and quartiles
# near 51 and 79, close to the published adult median of 65.8 (quartiles 53 and 78).
_AGE_BETA = (2.3, 1.7)


def draw_adult_ages(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw adult ages in years at first admission (18 to 98)."""
    return 18.0 + 80.0 * rng.beta(*_AGE_BETA, size=n)


def draw_ethnicity_values(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw indices into ETHNICITY_VALUES with the release's admission shares."""
    return rng.choice(len(ETHNICITY_VALUES), size=n, p=_ETHNICITY_P)


def draw_ethnicity_groups(rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw indices into ETHNICITY_GROUPS with the release's admission shares."""
    return _GROUP_OF_VALUE[draw_ethnicity_values(rng, n)]


def admission_rate(factors: np.ndarray) -> np.ndarray:
    """Return each adult's expected number of admissions after the first.

    The rate grows with the frailty and cardiometabolic factors. The term exp(-0.1225) cancels
    the mean of the log-normal factor, so the mean matches the release's admissions per adult patient.
    """
    frailty = np.exp(0.35 * factors[:, 0] + 0.35 * factors[:, 1] - 0.1225)
    return (figures.ADULT_ADMISSIONS_PER_PATIENT - 1.0) * frailty


@dataclass
class PatientBatch:
    """Attributes of a batch of patients, one array element per patient."""

    subject_id: np.ndarray
    newborn: np.ndarray
    male: np.ndarray
    ethnicity_value: np.ndarray
    ethnicity_group: np.ndarray
    first_age: np.ndarray
    factors: np.ndarray
    n_admissions: np.ndarray
    first_admit: np.ndarray  # datetime64[s]
    metavision: np.ndarray


# First admissions fall between these shifted dates, so that the last ones end before 2210.
_FIRST_ADMIT_START = np.datetime64("2100-01-01T00:00:00")
_FIRST_ADMIT_SPAN_SECONDS = int((np.datetime64("2195-01-01") - np.datetime64("2100-01-01")) / np.timedelta64(1, "s"))


def draw_patients(rng: np.random.Generator, first_subject_id: int, n: int) -> PatientBatch:
    """Draw n patients with consecutive SUBJECT_IDs starting at first_subject_id."""
    newborn = rng.random(n) < figures.NEWBORN_PATIENT_SHARE
    male_share = np.where(newborn, figures.NEWBORN_MALE_SHARE, figures.ADULT_MALE_SHARE)
    male = rng.random(n) < male_share

    ethnicity_value = draw_ethnicity_values(rng, n)
    ethnicity_group = _GROUP_OF_VALUE[ethnicity_value]

    first_age = np.where(newborn, 0.0, draw_adult_ages(rng, n))
    factors = rng.standard_normal((n, N_FACTORS))

    extra = np.minimum(rng.poisson(admission_rate(factors)), 20)
    n_admissions = np.where(newborn, 1, 1 + extra)

    offsets = rng.integers(0, _FIRST_ADMIT_SPAN_SECONDS, size=n)
    first_admit = _FIRST_ADMIT_START + offsets.astype("timedelta64[s]")

    # The release mixes CareVue (2001-2008) and MetaVision (2008-2012) ICU stays.
    metavision = rng.random(n) < 0.45

    return PatientBatch(
        subject_id=np.arange(first_subject_id, first_subject_id + n, dtype=np.int64),
        newborn=newborn,
        male=male,
        ethnicity_value=ethnicity_value,
        ethnicity_group=ethnicity_group,
        first_age=first_age,
        factors=factors,
        n_admissions=n_admissions.astype(np.int64),
        first_admit=first_admit,
        metavision=metavision,
    )
