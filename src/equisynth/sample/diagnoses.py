"""DIAGNOSES_ICD, PROCEDURES_ICD and the two ICD dictionaries of the built-in sample."""

import csv
import functools
import logging
from dataclasses import dataclass

import numpy as np

from equisynth.errors import EquisynthError
from equisynth.paths import DBT_PROJECT_DIR
from equisynth.sample import figures, icd9, writer
from equisynth.sample.admissions import CAREUNITS, AdmissionBatch
from equisynth.sample.cms_dictionary import cms_diagnoses

log = logging.getLogger(__name__)

ELIXHAUSER_SEED = DBT_PROJECT_DIR / "seeds" / "seed_elixhauser_quan_icd9.csv"

DIAGNOSES_COLUMNS = ["ROW_ID", "SUBJECT_ID", "HADM_ID", "SEQ_NUM", "ICD9_CODE"]
PROCEDURES_COLUMNS = ["ROW_ID", "SUBJECT_ID", "HADM_ID", "SEQ_NUM", "ICD9_CODE"]
DICTIONARY_COLUMNS = ["ROW_ID", "ICD9_CODE", "SHORT_TITLE", "LONG_TITLE"]

# Mean number of non-comorbidity diagnoses per newborn admission, after the liveborn code.
_NEWBORN_OTHER_MEAN = 2.5
_NEWBORN_MEAN = 1.0 + _NEWBORN_OTHER_MEAN
_NEWBORN_ADMISSION_SHARE = figures.NEWBORN_PATIENTS / figures.RELEASE_ADMISSIONS


def _elixhauser_ranges() -> list[tuple[str, str, str]] | None:
    """Read (flag, code_from, code_to) rows of the project's Elixhauser code list, if present."""
    try:
        from equisynth.codelists import load_code_lists
    except ImportError:
        load_code_lists = None

    if load_code_lists is not None:
        frame = load_code_lists().elixhauser
        return list(zip(frame["flag"], frame["code_from"].astype(str), frame["code_to"].astype(str)))
    if ELIXHAUSER_SEED.exists():
        with ELIXHAUSER_SEED.open(newline="", encoding="utf-8") as handle:
            return [(row["flag"], row["code_from"], row["code_to"]) for row in csv.DictReader(handle)]
    return None


def elixhauser_flags_of(code: str, ranges: list[tuple[str, str, str]]) -> set[str]:
    """Return the Elixhauser flags a dot-less code matches under the code lists' matching rule."""
    return {flag for flag, low, high in ranges if low <= code[: len(low)] <= high}


@dataclass(frozen=True)
class Catalogue:
    """Diagnosis codes in use, with the index of each pool into `codes`."""

    codes: list[str]
    titles: dict[str, tuple[str, str]]
    condition_pools: dict[str, np.ndarray]
    adult_other: np.ndarray
    adult_other_weights: np.ndarray
    liveborn: np.ndarray
    liveborn_weights: np.ndarray
    newborn_other: np.ndarray
    newborn_other_weights: np.ndarray
    pregnancy: int


@functools.lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """Build the diagnosis code pools, keeping only codes that the Elixhauser code list agrees with.

    Where the project's code list is present, a condition pool keeps the codes that match its
    flag and no other Elixhauser flag, and the other pools keep codes that match no flag.
    Raises EquisynthError when a pool ends up empty.
    """
    ranges = _elixhauser_ranges()
    titles: dict[str, tuple[str, str]] = {}
    codes: list[str] = []

    def index_of(code: str, short: str, long: str) -> int:
        if code not in titles:
            titles[code] = (short, long)
            codes.append(code)
        return codes.index(code)

    def expected(code: str, flag: str | None) -> bool:
        if ranges is None:
            return True
        matched = elixhauser_flags_of(code, ranges)
        return matched == ({flag} if flag and flag.startswith("elix_") else set())

    pools: dict[str, np.ndarray] = {}
    for flag, entries in icd9.CONDITION_CODES.items():
        kept = [e for e in entries if expected(e[0], flag)]
        if not kept:
            raise EquisynthError(
                f"{ELIXHAUSER_SEED.name}: none of the sample's codes for {flag} "
                f"({', '.join(e[0] for e in entries)}) map to {flag} alone. Check the code list's rows for {flag}."
            )
        dropped = len(entries) - len(kept)
        if dropped:
            log.warning("Dropped %d sample code(s) for %s that the Elixhauser code list maps elsewhere", dropped, flag)
        pools[flag] = np.array([index_of(*e) for e in kept])

    def weighted_pool(entries: list[tuple[str, str, str, float]], name: str) -> tuple[np.ndarray, np.ndarray]:
        kept = [e for e in entries if expected(e[0], None)]
        if not kept:
            raise EquisynthError(f"{ELIXHAUSER_SEED.name}: every code of the sample's {name} pool maps to an Elixhauser flag.")
        if len(kept) < len(entries):
            log.warning("Dropped %d %s code(s) that the Elixhauser code list flags", len(entries) - len(kept), name)
        return np.array([index_of(*e[:3]) for e in kept]), np.array([e[3] for e in kept])

    adult_other, adult_weights = weighted_pool(icd9.ADULT_OTHER_CODES, "adult")
    liveborn, liveborn_weights = weighted_pool(icd9.NEWBORN_LIVEBORN_CODES, "liveborn")
    newborn_other, newborn_weights = weighted_pool(icd9.NEWBORN_OTHER_CODES, "newborn")
    pregnancy = index_of(*icd9.PREGNANCY_CODE)

    return Catalogue(
        codes=codes,
        titles=titles,
        condition_pools=pools,
        adult_other=adult_other,
        adult_other_weights=adult_weights,
        liveborn=liveborn,
        liveborn_weights=liveborn_weights,
        newborn_other=newborn_other,
        newborn_other_weights=newborn_weights,
        pregnancy=pregnancy,
    )


def _adult_other_mean() -> float:
    """Mean non-comorbidity diagnoses per adult admission that gives the release's total per admission."""
    adult_total = (figures.DIAGNOSES_PER_ADMISSION - _NEWBORN_ADMISSION_SHARE * _NEWBORN_MEAN) / (1 - _NEWBORN_ADMISSION_SHARE)
    return adult_total - sum(figures.ELIXHAUSER_PREVALENCE.values())


def _weighted_sample_without_replacement(rng: np.random.Generator, weights: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Draw counts[i] distinct pool positions for row i, proportional to weights.

    Uses the Efraimidis-Spirakis keys u ** (1 / w), because the largest keys of a row form a
    weighted sample without replacement. Returns (row index, pool position) pairs.
    """
    counts = np.minimum(counts, len(weights))
    keys = np.log(rng.random((len(counts), len(weights)))) / weights[None, :]
    ranks = np.argsort(-keys, axis=1)
    take = np.arange(len(weights))[None, :] < counts[:, None]
    rows = np.repeat(np.arange(len(counts)), counts)
    return rows, ranks[take]


def diagnosis_rows(rng: np.random.Generator, admissions: AdmissionBatch, subject_id: np.ndarray) -> dict:
    """Return DIAGNOSES_ICD fields (without ROW_ID) for a batch of admissions, in SEQ_NUM order."""
    cat = catalogue()
    n = len(admissions.hadm_id)
    adult = ~admissions.newborn
    adm_parts, code_parts, priority_parts = [], [], []

    for flag, present in admissions.flags.items():
        rows = np.flatnonzero(present)
        pool = cat.condition_pools[flag]
        adm_parts.append(rows)
        code_parts.append(pool[rng.integers(0, len(pool), len(rows))])
        priority_parts.append(np.ones(len(rows)))

    elix_count = sum(v.astype(float) for k, v in admissions.flags.items() if k.startswith("elix_"))
    other_rate = np.maximum(_adult_other_mean() + 0.5 * (elix_count - 3.5), 1.0)
    adult_rows = np.flatnonzero(adult)
    rows, positions = _weighted_sample_without_replacement(rng, cat.adult_other_weights, rng.poisson(other_rate[adult_rows]))
    adm_parts.append(adult_rows[rows])
    code_parts.append(cat.adult_other[positions])
    priority_parts.append(np.ones(len(rows)))

    pregnant = adult & ~admissions.male & (admissions.age < 45) & (rng.random(n) < 0.1)
    adm_parts.append(np.flatnonzero(pregnant))
    code_parts.append(np.full(pregnant.sum(), cat.pregnancy))
    priority_parts.append(np.ones(pregnant.sum()))

    newborn_rows = np.flatnonzero(admissions.newborn)
    liveborn_p = cat.liveborn_weights / cat.liveborn_weights.sum()
    adm_parts.append(newborn_rows)
    code_parts.append(cat.liveborn[rng.choice(len(cat.liveborn), len(newborn_rows), p=liveborn_p)])
    priority_parts.append(np.zeros(len(newborn_rows)))
    rows, positions = _weighted_sample_without_replacement(rng, cat.newborn_other_weights, rng.poisson(_NEWBORN_OTHER_MEAN, len(newborn_rows)))
    adm_parts.append(newborn_rows[rows])
    code_parts.append(cat.newborn_other[positions])
    priority_parts.append(np.ones(len(rows)))

    adm = np.concatenate(adm_parts)
    code = np.concatenate(code_parts)
    priority = np.concatenate(priority_parts)

    # Keep one row per admission and code. The order within an admission is random, except that a
    # newborn's liveborn code comes first.
    _, unique_rows = np.unique(adm * len(cat.codes) + code, return_index=True)
    adm, code, priority = adm[unique_rows], code[unique_rows], priority[unique_rows]
    order = np.lexsort((rng.random(len(adm)), priority, adm))
    adm, code = adm[order], code[order]
    seq_num = _sequence_numbers(adm)

    return {
        "SUBJECT_ID": writer.integers(subject_id[adm]),
        "HADM_ID": writer.integers(admissions.hadm_id[adm]),
        "SEQ_NUM": writer.integers(seq_num),
        "ICD9_CODE": writer.categorical(code, cat.codes),
    }


def _sequence_numbers(sorted_groups: np.ndarray) -> np.ndarray:
    """Return 1, 2, ... within each run of equal values of a sorted array."""
    starts = np.r_[0, np.flatnonzero(sorted_groups[1:] != sorted_groups[:-1]) + 1]
    lengths = np.diff(np.r_[starts, len(sorted_groups)])
    return np.arange(len(sorted_groups)) - np.repeat(starts, lengths) + 1


@functools.lru_cache(maxsize=1)
def _procedure_catalogue() -> tuple[list[str], dict[str, tuple[str, str]]]:
    codes: list[str] = []
    titles: dict[str, tuple[str, str]] = {}
    pools = [icd9.ADULT_PROCEDURES, icd9.CARDIAC_PROCEDURES, icd9.CARDIAC_SURGERY_PROCEDURES, icd9.NEWBORN_PROCEDURES]
    for entries in pools:
        for code, short, long, _ in entries:
            if code not in titles:
                titles[code] = (short, long)
                codes.append(code)
    code, short, long = icd9.HEMODIALYSIS_PROCEDURE
    titles.setdefault(code, (short, long))
    if code not in codes:
        codes.append(code)
    return codes, titles


def procedure_rows(rng: np.random.Generator, admissions: AdmissionBatch, subject_id: np.ndarray) -> dict:
    """Return PROCEDURES_ICD fields (without ROW_ID) for a batch of admissions."""
    codes, _ = _procedure_catalogue()
    position = {c: i for i, c in enumerate(codes)}
    n = len(admissions.hadm_id)
    adult = ~admissions.newborn
    unit = admissions.careunit[:, 0]
    adm_parts, code_parts = [], []

    def add_weighted(rows: np.ndarray, entries: list, mean: float) -> None:
        weights = np.array([e[3] for e in entries])
        pool = np.array([position[e[0]] for e in entries])
        picked_rows, picked = _weighted_sample_without_replacement(rng, weights, rng.poisson(mean, len(rows)))
        adm_parts.append(rows[picked_rows])
        code_parts.append(pool[picked])

    add_weighted(np.flatnonzero(adult), icd9.ADULT_PROCEDURES, 3.6)
    add_weighted(np.flatnonzero(adult & (unit == CAREUNITS.index("CCU"))), icd9.CARDIAC_PROCEDURES, 1.5)
    surgery_rows = np.flatnonzero(adult & (unit == CAREUNITS.index("CSRU")))
    adm_parts.append(surgery_rows)
    code_parts.append(np.full(len(surgery_rows), position["3961"]))
    add_weighted(surgery_rows, icd9.CARDIAC_SURGERY_PROCEDURES[1:], 1.5)

    dialysis = adult & admissions.flags["elix_renal_failure"] & (rng.random(n) < 0.4)
    adm_parts.append(np.flatnonzero(dialysis))
    code_parts.append(np.full(dialysis.sum(), position[icd9.HEMODIALYSIS_PROCEDURE[0]]))

    for code, _, _, probability in icd9.NEWBORN_PROCEDURES:
        eligible = admissions.newborn & (admissions.male if code == "640" else True)
        chosen = eligible & (rng.random(n) < probability)
        adm_parts.append(np.flatnonzero(chosen))
        code_parts.append(np.full(chosen.sum(), position[code]))

    adm = np.concatenate(adm_parts)
    code = np.concatenate(code_parts)
    _, unique_rows = np.unique(adm * len(codes) + code, return_index=True)
    adm, code = adm[unique_rows], code[unique_rows]
    order = np.lexsort((rng.random(len(adm)), adm))
    adm, code = adm[order], code[order]

    return {
        "SUBJECT_ID": writer.integers(subject_id[adm]),
        "HADM_ID": writer.integers(admissions.hadm_id[adm]),
        "SEQ_NUM": writer.integers(_sequence_numbers(adm)),
        "ICD9_CODE": writer.categorical(code, codes),
    }


def _dictionary_fields(entries: list[tuple[str, str, str]]) -> dict:
    entries = sorted(entries, key=lambda e: e[0])
    return {
        "ROW_ID": writer.integers(np.arange(1, len(entries) + 1)),
        "ICD9_CODE": writer.quote(np.array([e[0] for e in entries], dtype=object)),
        "SHORT_TITLE": writer.quote(np.array([e[1] for e in entries], dtype=object)),
        "LONG_TITLE": writer.quote(np.array([e[2] for e in entries], dtype=object)),
    }


def diagnosis_dictionary() -> dict:
    """Return D_ICD_DIAGNOSES fields: the 14,567 codes of CMS ICD-9-CM v32, as in MIMIC-III v1.4.

    The decoder needs codes of every chapter that no patient of the sample has, so the sample
    ships the whole list. A code in use that CMS v32 lacks keeps the sample's own titles.
    """
    titles = dict(cms_diagnoses())
    missing = [code for code in catalogue().codes if code not in titles]
    for code in missing:
        titles[code] = catalogue().titles[code]
    if missing:
        log.info("Added %d sample code(s) that CMS ICD-9-CM v32 lacks to D_ICD_DIAGNOSES: %s", len(missing), ", ".join(missing))
    return _dictionary_fields([(code, short, long) for code, (short, long) in titles.items()])


def procedure_dictionary() -> dict:
    """Return D_ICD_PROCEDURES fields: the procedure codes in use plus a few more."""
    _, titles = _procedure_catalogue()
    titles = dict(titles)
    for code, short, long in icd9.PROCEDURE_DICTIONARY_ONLY:
        titles.setdefault(code, (short, long))
    return _dictionary_fields([(code, short, long) for code, (short, long) in titles.items()])
