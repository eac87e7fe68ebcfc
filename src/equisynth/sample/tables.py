"""Rows of PATIENTS, ADMISSIONS, ICUSTAYS, SERVICES and TRANSFERS for one batch of patients."""

import numpy as np

from equisynth.sample import writer
from equisynth.sample.admissions import ADMISSION_TYPES, CAREUNITS, INSURANCES, NICU, SECONDS_PER_DAY, AdmissionBatch, choose_rows
from equisynth.sample.patients import ETHNICITY_VALUES, PatientBatch

COLUMNS = {
    "PATIENTS": ["ROW_ID", "SUBJECT_ID", "GENDER", "DOB", "DOD", "DOD_HOSP", "DOD_SSN", "EXPIRE_FLAG"],
    "ADMISSIONS": [
        "ROW_ID", "SUBJECT_ID", "HADM_ID", "ADMITTIME", "DISCHTIME", "DEATHTIME", "ADMISSION_TYPE",
        "ADMISSION_LOCATION", "DISCHARGE_LOCATION", "INSURANCE", "LANGUAGE", "RELIGION", "MARITAL_STATUS",
        "ETHNICITY", "EDREGTIME", "EDOUTTIME", "DIAGNOSIS", "HOSPITAL_EXPIRE_FLAG", "HAS_CHARTEVENTS_DATA",
    ],
    "ICUSTAYS": [
        "ROW_ID", "SUBJECT_ID", "HADM_ID", "ICUSTAY_ID", "DBSOURCE", "FIRST_CAREUNIT", "LAST_CAREUNIT",
        "FIRST_WARDID", "LAST_WARDID", "INTIME", "OUTTIME", "LOS",
    ],
    "SERVICES": ["ROW_ID", "SUBJECT_ID", "HADM_ID", "TRANSFERTIME", "PREV_SERVICE", "CURR_SERVICE"],
    "TRANSFERS": [
        "ROW_ID", "SUBJECT_ID", "HADM_ID", "ICUSTAY_ID", "DBSOURCE", "EVENTTYPE", "PREV_CAREUNIT",
        "CURR_CAREUNIT", "PREV_WARDID", "CURR_WARDID", "INTIME", "OUTTIME", "LOS",
    ],
}

_NAT = np.datetime64("NaT")
_DBSOURCES = ["carevue", "metavision"]
_WARDS_BY_UNIT = {"CCU": [7, 57], "CSRU": [14, 15], "MICU": [12, 50, 52], "SICU": [23, 33], "TSICU": [14, 33], "NICU": [56]}
_GENERAL_WARDS = np.array([2, 3, 6, 17, 27, 45])
_SERVICE_BY_UNIT = ["CMED", "CSURG", "MED", "SURG", "TRAUM", "NB"]

_ADMISSION_LOCATIONS = [
    "EMERGENCY ROOM ADMIT", "TRANSFER FROM HOSP/EXTRAM", "CLINIC REFERRAL/PREMATURE", "PHYS REFERRAL/NORMAL DELI",
    "TRANSFER FROM SKILLED NUR", "TRANSFER FROM OTHER HEALT", "HMO REFERRAL/SICK", "** INFO NOT AVAILABLE **",
]
# Location weights per admission type (EMERGENCY, ELECTIVE, URGENT, NEWBORN). NOTE: assumption.
_LOCATION_WEIGHTS = np.array([
    [0.55, 0.20, 0.17, 0.03, 0.02, 0.01, 0.01, 0.01],
    [0.00, 0.01, 0.02, 0.96, 0.00, 0.00, 0.01, 0.00],
    [0.05, 0.75, 0.08, 0.10, 0.01, 0.01, 0.00, 0.00],
    [0.00, 0.01, 0.45, 0.53, 0.00, 0.00, 0.00, 0.01],
])
_DISCHARGE_LOCATIONS = [
    "HOME", "HOME HEALTH CARE", "SNF", "REHAB/DISTINCT PART HOSP", "LONG TERM CARE HOSPITAL",
    "SHORT TERM HOSPITAL", "HOSPICE-HOME", "LEFT AGAINST MEDICAL ADVI", "DISC-TRAN CANCER/CHLDRN H", "DEAD/EXPIRED",
]
_RELIGIONS = [
    "CATHOLIC", "NOT SPECIFIED", "UNOBTAINABLE", "PROTESTANT QUAKER", "JEWISH", "OTHER", "EPISCOPALIAN",
    "GREEK ORTHODOX", "CHRISTIAN SCIENTIST", "BUDDHIST", "MUSLIM", "JEHOVAH'S WITNESS", "UNITARIAN-UNIVERSALIST", "HINDU",
]
_RELIGION_WEIGHTS = np.array([0.36, 0.20, 0.13, 0.12, 0.09, 0.04, 0.013, 0.011, 0.008, 0.005, 0.004, 0.003, 0.003, 0.002])
_MARITAL = ["MARRIED", "SINGLE", "WIDOWED", "DIVORCED", "SEPARATED", "LIFE PARTNER", "UNKNOWN (DEFAULT)"]
_LANGUAGES = ["ENGL", "SPAN", "RUSS", "PTUN", "CANT", "MAND", "HAIT", "VIET"]
_DIAGNOSIS_TEXT = {
    "CCU": ["CORONARY ARTERY DISEASE", "CONGESTIVE HEART FAILURE", "CHEST PAIN", "ST ELEVATED MYOCARDIAL INFARCTION"],
    "CSRU": ["CORONARY ARTERY DISEASE\\CORONARY ARTERY BYPASS GRAFT /SDA", "AORTIC STENOSIS\\AORTIC VALVE REPLACEMENT /SDA"],
    "MICU": ["SEPSIS", "PNEUMONIA", "GASTROINTESTINAL BLEED", "ALTERED MENTAL STATUS", "HYPOTENSION"],
    "SICU": ["INTRACRANIAL HEMORRHAGE", "SUBARACHNOID HEMORRHAGE", "BOWEL OBSTRUCTION", "ABDOMINAL PAIN"],
    "TSICU": ["S/P FALL", "S/P MOTOR VEHICLE ACCIDENT", "TRAUMA"],
    "NICU": ["NEWBORN"],
    "NONE": ["PNEUMONIA", "CHEST PAIN", "SYNCOPE"],
}


def _days_to_datetime(days: np.ndarray) -> np.ndarray:
    return np.round(days * SECONDS_PER_DAY).astype("timedelta64[s]")


def patient_rows(rng: np.random.Generator, patients: PatientBatch, admissions: AdmissionBatch, first_row_id: int) -> dict:
    """Format PATIENTS rows: DOB shifted 300 years for ages above 89, deaths after admission."""
    n = len(patients.subject_id)
    last = admissions.is_last
    last_admit = np.empty(n, dtype="datetime64[s]")
    last_admit[admissions.patient[last]] = admissions.admit[last]

    # A patient older than 89 at any admission gets a DOB 300 years before the first admission.
    first_admit_day = patients.first_admit.astype("datetime64[D]")
    age_days = np.round(patients.first_age * 365.25).astype("timedelta64[D]")
    oldest_age = patients.first_age + (last_admit - patients.first_admit) / np.timedelta64(1, "D") / 365.25
    over_89 = oldest_age >= 89.9
    dob = np.where(over_89, first_admit_day - np.timedelta64(300 * 365 + 73, "D"), first_admit_day - age_days)

    last_discharge = np.empty(n, dtype="datetime64[s]")
    last_discharge[admissions.patient[last]] = admissions.discharge[last]
    died_in_hospital = np.zeros(n, dtype=bool)
    died_in_hospital[admissions.patient[last]] = admissions.died[last]
    last_age = np.zeros(n)
    last_age[admissions.patient[last]] = admissions.age[last]

    # Some survivors die later (Social Security death records), more often when old.
    later_p = 1.0 / (1.0 + np.exp(-(-1.6 + 0.5 * (np.minimum(last_age, 95.0) - 65.0) / 10.0)))
    later = ~died_in_hospital & ~patients.newborn & (rng.random(n) < later_p)
    later_dod = last_discharge.astype("datetime64[D]") + rng.integers(1, 1_500, n).astype("timedelta64[D]")

    dod = np.where(died_in_hospital, last_discharge.astype("datetime64[D]"), np.where(later, later_dod, np.datetime64("NaT", "D")))
    dod_hosp = np.where(died_in_hospital, dod, np.datetime64("NaT", "D"))
    dod_ssn = np.where(later | (died_in_hospital & (rng.random(n) < 0.7)), dod, np.datetime64("NaT", "D"))

    return {
        "ROW_ID": writer.integers(np.arange(first_row_id, first_row_id + n)),
        "SUBJECT_ID": writer.integers(patients.subject_id),
        "GENDER": writer.categorical(np.where(patients.male, 0, 1), ["M", "F"]),
        "DOB": writer.timestamps(dob),
        "DOD": writer.timestamps(dod),
        "DOD_HOSP": writer.timestamps(dod_hosp),
        "DOD_SSN": writer.timestamps(dod_ssn),
        "EXPIRE_FLAG": writer.integers((died_in_hospital | later).astype(int)),
    }


def _language(rng: np.random.Generator, patients: PatientBatch, admissions: AdmissionBatch) -> np.ndarray:
    value = np.array(ETHNICITY_VALUES)[patients.ethnicity_value[admissions.patient]]
    n = len(value)
    language = np.zeros(n, dtype=np.int64)
    own = {"HISPANIC": 1, "WHITE - RUSSIAN": 2, "PORTUGUESE": 3, "WHITE - BRAZILIAN": 3, "ASIAN - CHINESE": 4, "BLACK/HAITIAN": 6, "ASIAN - VIETNAMESE": 7}
    u = rng.random(n)
    for prefix, index in own.items():
        rows = np.char.startswith(value.astype(str), prefix) & (u < 0.5)
        language[rows] = index
    # CareVue-era admissions often lack LANGUAGE, and newborns never have it.
    missing = admissions.newborn | (~patients.metavision[admissions.patient] & (rng.random(n) < 0.6))
    return np.where(missing, len(_LANGUAGES), language)


def admission_rows(rng: np.random.Generator, patients: PatientBatch, admissions: AdmissionBatch, first_row_id: int) -> dict:
    """Format ADMISSIONS rows."""
    n = len(admissions.hadm_id)
    location = choose_rows(rng, _LOCATION_WEIGHTS[admissions.admission_type])

    age = admissions.age
    discharge_weights = np.tile(np.array([0.42, 0.22, 0.18, 0.07, 0.03, 0.02, 0.02, 0.01, 0.01, 0.0]), (n, 1))
    discharge_weights[age >= 75, 2] *= 2.5
    discharge_weights[admissions.newborn] = [0.9, 0.05, 0, 0, 0, 0.03, 0, 0, 0.02, 0]
    discharge = np.where(admissions.died, len(_DISCHARGE_LOCATIONS) - 1, choose_rows(rng, discharge_weights))

    marital_weights = np.tile(np.array([0.45, 0.25, 0.12, 0.07, 0.01, 0.002, 0.01, 0.05]), (n, 1))
    marital_weights[age < 35, 1] *= 4.0
    marital_weights[age >= 75, 2] *= 3.0
    marital = np.where(admissions.newborn, len(_MARITAL), choose_rows(rng, marital_weights))
    religion = np.where(admissions.newborn & (rng.random(n) < 0.8), 1, rng.choice(len(_RELIGIONS), n, p=_RELIGION_WEIGHTS / _RELIGION_WEIGHTS.sum()))

    emergency_room = location == 0
    ed_registered = np.where(emergency_room, admissions.admit - _days_to_datetime(rng.uniform(1, 8, n) / 24), _NAT)
    ed_out = np.where(emergency_room, admissions.admit + _days_to_datetime(rng.uniform(0.05, 1, n) / 24), _NAT)
    ed_out = ed_out.astype("datetime64[m]").astype("datetime64[s]")
    ed_registered = ed_registered.astype("datetime64[m]").astype("datetime64[s]")

    first_unit = admissions.careunit[:, 0]
    texts: list[str] = []
    for unit in CAREUNITS + ["NONE"]:
        texts.extend(_DIAGNOSIS_TEXT[unit])
    offsets = {}
    position = 0
    for unit in CAREUNITS + ["NONE"]:
        offsets[unit] = (position, len(_DIAGNOSIS_TEXT[unit]))
        position += len(_DIAGNOSIS_TEXT[unit])
    unit_name = np.where(first_unit >= 0, first_unit, len(CAREUNITS))
    start = np.array([offsets[u][0] for u in CAREUNITS + ["NONE"]])[unit_name]
    count = np.array([offsets[u][1] for u in CAREUNITS + ["NONE"]])[unit_name]
    diagnosis_text = start + (rng.random(n) * count).astype(np.int64)

    ethnicity = patients.ethnicity_value[admissions.patient]
    return {
        "ROW_ID": writer.integers(np.arange(first_row_id, first_row_id + n)),
        "SUBJECT_ID": writer.integers(patients.subject_id[admissions.patient]),
        "HADM_ID": writer.integers(admissions.hadm_id),
        "ADMITTIME": writer.timestamps(admissions.admit),
        "DISCHTIME": writer.timestamps(admissions.discharge),
        "DEATHTIME": writer.timestamps(np.where(admissions.died, admissions.discharge, _NAT)),
        "ADMISSION_TYPE": writer.categorical(admissions.admission_type, ADMISSION_TYPES),
        "ADMISSION_LOCATION": writer.categorical(location, _ADMISSION_LOCATIONS),
        "DISCHARGE_LOCATION": writer.categorical(discharge, _DISCHARGE_LOCATIONS),
        "INSURANCE": writer.categorical(admissions.insurance, INSURANCES),
        "LANGUAGE": writer.categorical(_language(rng, patients, admissions), _LANGUAGES + [None]),
        "RELIGION": writer.categorical(religion, _RELIGIONS),
        "MARITAL_STATUS": writer.categorical(marital, _MARITAL + [None]),
        "ETHNICITY": writer.categorical(ethnicity, ETHNICITY_VALUES),
        "EDREGTIME": writer.timestamps(ed_registered),
        "EDOUTTIME": writer.timestamps(ed_out),
        "DIAGNOSIS": writer.categorical(diagnosis_text, texts),
        "HOSPITAL_EXPIRE_FLAG": writer.integers(admissions.died.astype(int)),
        "HAS_CHARTEVENTS_DATA": writer.integers((admissions.n_icu > 0).astype(int)),
    }


def _ward(rng: np.random.Generator, units: np.ndarray) -> np.ndarray:
    wards = _GENERAL_WARDS[rng.integers(0, len(_GENERAL_WARDS), len(units))]
    for index, unit in enumerate(CAREUNITS):
        rows = units == index
        choices = np.array(_WARDS_BY_UNIT[unit])
        wards[rows] = choices[rng.integers(0, len(choices), rows.sum())]
    return wards


def icu_rows(rng: np.random.Generator, patients: PatientBatch, admissions: AdmissionBatch, first_row_id: int, first_icustay_id: int) -> tuple[dict, np.ndarray, dict]:
    """Format ICUSTAYS, SERVICES and TRANSFERS rows.

    Returns (icustays fields, ICUSTAY_ID per admission and stay with -1 where absent,
    {"SERVICES": fields, "TRANSFERS": fields} without ROW_ID).
    """
    n = len(admissions.hadm_id)
    present = admissions.careunit >= 0
    icustay_id = np.full((n, 2), -1, dtype=np.int64)
    order = np.flatnonzero(present.reshape(-1))
    icustay_id.reshape(-1)[order] = first_icustay_id + np.arange(len(order))

    adm_index = order // 2
    stay = order % 2
    first_unit = admissions.careunit.reshape(-1)[order]
    last_unit = first_unit.copy()
    moved = (rng.random(len(order)) < 0.05) & (first_unit != NICU)
    last_unit[moved] = rng.integers(0, NICU, moved.sum())
    first_ward = _ward(rng, first_unit)
    last_ward = np.where(moved, _ward(rng, last_unit), first_ward)
    intime = admissions.icu_in.reshape(-1)[order]
    outtime = admissions.icu_out.reshape(-1)[order]
    los = (outtime - intime) / np.timedelta64(1, "s") / SECONDS_PER_DAY
    dbsource = patients.metavision[admissions.patient[adm_index]].astype(np.int64)
    subject = patients.subject_id[admissions.patient]

    icustays = {
        "ROW_ID": writer.integers(np.arange(first_row_id, first_row_id + len(order))),
        "SUBJECT_ID": writer.integers(subject[adm_index]),
        "HADM_ID": writer.integers(admissions.hadm_id[adm_index]),
        "ICUSTAY_ID": writer.integers(icustay_id.reshape(-1)[order]),
        "DBSOURCE": writer.categorical(dbsource, _DBSOURCES),
        "FIRST_CAREUNIT": writer.categorical(first_unit, CAREUNITS),
        "LAST_CAREUNIT": writer.categorical(last_unit, CAREUNITS),
        "FIRST_WARDID": writer.integers(first_ward),
        "LAST_WARDID": writer.integers(last_ward),
        "INTIME": writer.timestamps(intime),
        "OUTTIME": writer.timestamps(outtime),
        "LOS": writer.decimals(los, 4),
    }

    services = _service_fields(admissions, subject, stay, adm_index, first_unit)
    transfers = _transfer_fields(rng, patients, admissions, subject, icustay_id)
    return icustays, icustay_id, {"SERVICES": services, "TRANSFERS": transfers}


def _service_fields(admissions: AdmissionBatch, subject: np.ndarray, stay: np.ndarray, adm_index: np.ndarray, unit: np.ndarray) -> dict:
    no_icu = np.flatnonzero(admissions.n_icu == 0)
    # One service per ICU stay (a second one only when the unit changes), "MED" without ICU.
    first_unit_of_adm = admissions.careunit[adm_index, 0]
    keep = (stay == 0) | (unit != first_unit_of_adm)
    rows_adm = np.concatenate([adm_index[keep], no_icu])
    rows_time = np.concatenate([admissions.icu_in.reshape(-1)[(adm_index * 2 + stay)[keep]], admissions.admit[no_icu]])
    rows_service = np.concatenate([unit[keep], np.full(len(no_icu), 2)])
    rows_prev = np.concatenate([np.where(stay[keep] == 1, first_unit_of_adm[keep], -1), np.full(len(no_icu), -1)])
    rows_order = np.lexsort((rows_time, rows_adm))
    return {
        "SUBJECT_ID": writer.integers(subject[rows_adm[rows_order]]),
        "HADM_ID": writer.integers(admissions.hadm_id[rows_adm[rows_order]]),
        "TRANSFERTIME": writer.timestamps(rows_time[rows_order]),
        "PREV_SERVICE": writer.categorical(np.where(rows_prev[rows_order] >= 0, rows_prev[rows_order], len(_SERVICE_BY_UNIT)), _SERVICE_BY_UNIT + [None]),
        "CURR_SERVICE": writer.categorical(rows_service[rows_order], _SERVICE_BY_UNIT),
    }


def _transfer_fields(rng: np.random.Generator, patients: PatientBatch, admissions: AdmissionBatch, subject: np.ndarray, icustay_id: np.ndarray) -> dict:
    """Build the bed moves of each admission: ward, ICU stays, ward in between, discharge."""
    n = len(admissions.hadm_id)
    admit, discharge = admissions.admit, admissions.discharge
    in1, out1 = admissions.icu_in[:, 0], admissions.icu_out[:, 0]
    in2, out2 = admissions.icu_in[:, 1], admissions.icu_out[:, 1]
    has1, has2 = admissions.n_icu >= 1, admissions.n_icu >= 2
    ward = _ward(rng, np.full(n, -1))

    # Segments in order: (start, end, careunit or -1 for a ward, icustay_id or -1, present).
    segments = [
        (admit, np.where(has1, in1, discharge), np.full(n, -1), np.full(n, -1), np.ones(n, dtype=bool)),
        (in1, out1, admissions.careunit[:, 0], icustay_id[:, 0], has1),
        (out1, np.where(has2, in2, discharge), np.full(n, -1), np.full(n, -1), has1),
        (in2, out2, admissions.careunit[:, 1], icustay_id[:, 1], has2),
        (out2, discharge, np.full(n, -1), np.full(n, -1), has2),
    ]
    adm, order, start, end, unit, stay_id = [], [], [], [], [], []
    for position, (s, e, u, i, keep) in enumerate(segments):
        keep = keep & ((e > s) | (u >= 0))
        rows = np.flatnonzero(keep)
        adm.append(rows)
        order.append(np.full(len(rows), position))
        start.append(s[rows])
        end.append(e[rows])
        unit.append(u[rows])
        stay_id.append(i[rows])
    discharge_rows = np.arange(n)
    adm.append(discharge_rows)
    order.append(np.full(n, len(segments)))
    start.append(discharge)
    end.append(np.full(n, _NAT, dtype="datetime64[s]"))
    unit.append(np.full(n, -2))
    stay_id.append(np.full(n, -1))

    adm_all = np.concatenate(adm)
    sort = np.lexsort((np.concatenate(order), adm_all))
    adm_all = adm_all[sort]
    start_all = np.concatenate(start)[sort]
    end_all = np.concatenate(end)[sort]
    unit_all = np.concatenate(unit)[sort]
    stay_all = np.concatenate(stay_id)[sort]

    first_of_adm = np.r_[True, adm_all[1:] != adm_all[:-1]]
    is_discharge = unit_all == -2
    event = np.where(first_of_adm, 0, np.where(is_discharge, 2, 1))
    ward_all = np.where(unit_all >= 0, _ward(rng, np.maximum(unit_all, 0)), ward[adm_all])
    ward_all = np.where(is_discharge, -1, ward_all)
    prev_unit = np.r_[-1, unit_all[:-1]]
    prev_ward = np.r_[-1, ward_all[:-1]]
    prev_unit[first_of_adm] = -1
    prev_ward[first_of_adm] = -1
    los_hours = (end_all - start_all) / np.timedelta64(1, "s") / 3600.0

    return {
        "SUBJECT_ID": writer.integers(subject[adm_all]),
        "HADM_ID": writer.integers(admissions.hadm_id[adm_all]),
        "ICUSTAY_ID": writer.integers(stay_all, null=stay_all < 0),
        "DBSOURCE": writer.categorical(patients.metavision[admissions.patient[adm_all]].astype(np.int64), _DBSOURCES),
        "EVENTTYPE": writer.categorical(event, ["admit", "transfer", "discharge"]),
        "PREV_CAREUNIT": writer.categorical(np.where(prev_unit >= 0, prev_unit, len(CAREUNITS)), CAREUNITS + [None]),
        "CURR_CAREUNIT": writer.categorical(np.where(unit_all >= 0, unit_all, len(CAREUNITS)), CAREUNITS + [None]),
        "PREV_WARDID": writer.integers(prev_ward, null=prev_ward < 0),
        "CURR_WARDID": writer.integers(ward_all, null=ward_all < 0),
        "INTIME": writer.timestamps(start_all),
        "OUTTIME": writer.timestamps(end_all),
        "LOS": writer.decimals(los_hours, 2, null=is_discharge),
    }
