"""Dates of decoded admissions and patients, shifted into 2100-2200 as MIMIC-III shifts them.

Each synthetic patient gets a random anchor: the time of their first admission, a minute between
2100-01-01 and 2195-12-31 (never exactly midnight). From it:
- dischtime = admittime + the generated length of stay, to the minute (at least one minute later).
- A later admission of the same patient starts 1 hour to 30 days after the previous discharge.
- dob is a midnight chosen so that the completed years at admission equal the generated age.
  An age of 90 (MIMIC-III's top code for ages above 89) gets a dob 300 years before the first
  admission, as MIMIC-III does.
- An in-hospital death (hospital_expire_flag = 1) happens at discharge: deathtime = dischtime,
  dod = dod_hosp = that day's midnight, expire_flag = 1. Other patients have no date of death,
  because the generated rows carry no outcome after discharge.
- Admissions from the emergency room get edregtime before and edouttime after admittime.
"""

import numpy as np
import pandas as pd

ANCHOR_START = pd.Timestamp("2100-01-01")
ANCHOR_YEARS = 96
MINUTES_PER_DAY = 24 * 60
TOP_CODED_AGE = 90
TOP_CODED_YEARS = 300
EMERGENCY_LOCATION = "EMERGENCY ROOM ADMIT"
READMISSION_MINUTES = 30 * MINUTES_PER_DAY


def _minutes(values: np.ndarray) -> pd.TimedeltaIndex:
    return pd.to_timedelta(values.astype(np.int64), unit="min")


def draw_admissions(rows: pd.DataFrame, rng: np.random.Generator, links: pd.DataFrame | None = None) -> pd.DataFrame:
    """Admission-level times for every row of `rows` (columns age, los_hospital_days,
    hospital_expire_flag, admission_location, admission_type).

    `links` (columns patient and position, see `patients.link_admissions`) puts several rows in
    one patient: each later admission starts 1 hour to 30 days after the previous discharge, and
    the date of birth comes from the patient's first admission. Without it every row is a patient.
    """
    n = len(rows)
    if links is None:
        links = pd.DataFrame({"patient": np.arange(n), "position": np.zeros(n, dtype=int)}, index=rows.index)

    los_minutes = np.maximum(np.rint(rows["los_hospital_days"].to_numpy(dtype=float) * MINUTES_PER_DAY), 1)
    gaps = np.where(links["position"].to_numpy() > 0, rng.integers(60, READMISSION_MINUTES - 60, size=n), 0)
    chain = pd.DataFrame({
        "patient": links["patient"].to_numpy(),
        "position": links["position"].to_numpy(),
        "los": los_minutes,
        "gap": gaps,
    }, index=rows.index).sort_values(["patient", "position"])
    previous_los = chain.groupby("patient")["los"].shift(fill_value=0)
    chain["offset"] = previous_los.groupby(chain["patient"]).cumsum() + chain.groupby("patient")["gap"].cumsum()
    chain = chain.loc[rows.index]

    patients = np.unique(chain["patient"].to_numpy())
    days = pd.Series(rng.integers(0, ANCHOR_YEARS * 365, size=len(patients)), index=patients)
    minute_of_day = pd.Series(rng.integers(1, MINUTES_PER_DAY, size=len(patients)), index=patients)
    anchor_minutes = days.loc[chain["patient"]].to_numpy() * MINUTES_PER_DAY + minute_of_day.loc[chain["patient"]].to_numpy()
    admittime = ANCHOR_START + _minutes(anchor_minutes + chain["offset"].to_numpy())
    dischtime = admittime + _minutes(los_minutes)

    dob = _date_of_birth(admittime, rows, chain, rng)

    died = rows["hospital_expire_flag"].fillna(0).to_numpy(dtype=int) == 1
    deathtime = pd.Series(dischtime).where(died)
    dod = deathtime.dt.normalize()

    emergency = rows["admission_location"].astype(str).to_numpy() == EMERGENCY_LOCATION
    before = _minutes(rng.integers(30, 8 * 60, size=n))
    after = _minutes(rng.integers(0, 3 * 60, size=n))
    edregtime = pd.Series(admittime - before).where(emergency)
    edouttime = pd.Series(np.minimum(admittime + after, dischtime)).where(emergency)

    return pd.DataFrame({
        "patient": chain["patient"].to_numpy(),
        "position": chain["position"].to_numpy(),
        "admittime": admittime,
        "dischtime": dischtime,
        "deathtime": deathtime.to_numpy(),
        "edregtime": edregtime.to_numpy(),
        "edouttime": edouttime.to_numpy(),
        "dob": dob,
        "dod": dod.to_numpy(),
        "dod_hosp": dod.to_numpy(),
        "dod_ssn": pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]").to_numpy(),
        "expire_flag": died.astype(int),
    }, index=rows.index)


def _date_of_birth(admittime: pd.DatetimeIndex, rows: pd.DataFrame, chain: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Midnights at which the completed years at every admission of a patient equal the generated age.

    The date of birth is set from the patient's first admission. A patient with several
    admissions has a birthday at most 4 days before the first one, so that the later admissions,
    which `link_admissions` keeps within 330 days, fall before the next birthday.
    """
    age = np.clip(np.rint(rows["age"].to_numpy(dtype=float)), 0, TOP_CODED_AGE).astype(int)
    years = np.where(age >= TOP_CODED_AGE, TOP_CODED_YEARS, age)
    admit_date = admittime.normalize()
    newborn = (rows["admission_type"].astype(str).to_numpy() == "NEWBORN") & (age == 0)
    several = chain.groupby("patient")["position"].transform("max").to_numpy() > 0
    # Days before the last birthday; the cap of 360 keeps leap days from adding a year.
    days_back = np.where(newborn, 0, np.where(several, rng.integers(0, 5, size=len(rows)), rng.integers(0, 361, size=len(rows))))
    anniversary = pd.DatetimeIndex([date - pd.DateOffset(years=int(y)) for date, y in zip(admit_date, years)])
    first_dob = pd.Series(anniversary - pd.to_timedelta(days_back, unit="D"), index=rows.index)

    is_first = chain["position"].to_numpy() == 0
    dob_of_patient = pd.Series(first_dob.to_numpy()[is_first], index=chain["patient"].to_numpy()[is_first])
    return dob_of_patient.loc[chain["patient"].to_numpy()].to_numpy()


def completed_years(birth: pd.Series, at: pd.Series) -> np.ndarray:
    """Completed years between two timestamps, as PostgreSQL's and DuckDB's age() count them."""
    years = at.dt.year - birth.dt.year
    before_birthday = (at.dt.month < birth.dt.month) | ((at.dt.month == birth.dt.month) & (at.dt.day < birth.dt.day)) | (
        (at.dt.month == birth.dt.month) & (at.dt.day == birth.dt.day) & (at.dt.time < birth.dt.time)
    )
    return (years - before_birthday.astype(int)).to_numpy()
