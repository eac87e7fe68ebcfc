"""ICU stays of decoded admissions: the generated number of stays and total ICU days, inside the admission."""

import numpy as np
import pandas as pd

from equisynth.decoder.vocabulary import sample_values

SECONDS_PER_DAY = 86_400
# Time kept free around ICU stays when the hospital stay is lengthened to hold them.
MARGIN_DAYS = 2 / (24 * 60)
# ICU days given to each stay of a row that has stays but no ICU days.
DAYS_PER_EMPTY_STAY = 1 / 24


def constrain_stays(rows: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
    """Make stay counts and days consistent; return the constrained rows and which rows changed.

    A row with no ICU stay gets 0 ICU days; a row with stays but no ICU days gets one hour per
    stay; a hospital stay shorter than its ICU days is lengthened to hold them.
    """
    rows = rows.copy()
    before = rows[["icu_stays", "icu_days", "los_hospital_days"]].copy()

    rows["icu_stays"] = np.clip(np.rint(rows["icu_stays"].fillna(0).to_numpy(dtype=float)), 0, None).astype(int)
    rows["icu_days"] = np.clip(rows["icu_days"].fillna(0).to_numpy(dtype=float), 0, None)
    rows["los_hospital_days"] = np.clip(rows["los_hospital_days"].fillna(0).to_numpy(dtype=float), 0, None)

    no_stay = rows["icu_stays"] == 0
    rows.loc[no_stay, "icu_days"] = 0.0
    empty_stays = (rows["icu_stays"] > 0) & (rows["icu_days"] <= 0)
    rows.loc[empty_stays, "icu_days"] = rows.loc[empty_stays, "icu_stays"] * DAYS_PER_EMPTY_STAY
    too_short = rows["los_hospital_days"] < rows["icu_days"] + MARGIN_DAYS
    rows.loc[too_short & (rows["icu_stays"] > 0), "los_hospital_days"] = rows["icu_days"] + MARGIN_DAYS

    changed = ~np.isclose(before.to_numpy(dtype=float), rows[before.columns].to_numpy(dtype=float), atol=1e-9).all(axis=1)
    return rows, pd.Series(changed, index=rows.index)


def draw_stays(rows: pd.DataFrame, times: pd.DataFrame, rng: np.random.Generator, vocabularies: dict[str, pd.Series]) -> pd.DataFrame:
    """One row per ICU stay with intime, outtime, los and unit columns; `row` is the index in `rows`.

    Stay lengths split the row's ICU days at random; the gaps before, between and after the
    stays split the rest of the hospital stay, so every stay lies inside its admission.
    """
    records = []
    for index, count, icu_days in zip(rows.index, rows["icu_stays"].to_numpy(dtype=int), rows["icu_days"].to_numpy(dtype=float)):
        if count <= 0:
            continue
        admittime, dischtime = times.at[index, "admittime"], times.at[index, "dischtime"]
        window = int((dischtime - admittime).total_seconds())
        total = max(int(round(icu_days * SECONDS_PER_DAY)), count)
        total = min(total, window)
        durations = _split(total, count, rng, minimum=1)
        gaps = _split(window - total, count + 1, rng, minimum=0)
        cursor = admittime
        for stay in range(count):
            intime = cursor + pd.Timedelta(seconds=int(gaps[stay]))
            outtime = intime + pd.Timedelta(seconds=int(durations[stay]))
            records.append((index, intime, outtime, round(durations[stay] / SECONDS_PER_DAY, 4)))
            cursor = outtime

    stays = pd.DataFrame(records, columns=["row", "intime", "outtime", "los"])
    n = len(stays)
    careunit = sample_values(vocabularies.get("first_careunit", pd.Series(dtype=float)), n, rng)
    stays["dbsource"] = sample_values(vocabularies.get("dbsource", pd.Series(dtype=float)), n, rng)
    stays["first_careunit"] = careunit
    stays["last_careunit"] = careunit
    ward = sample_values(vocabularies.get("first_wardid", pd.Series(dtype=float)), n, rng)
    stays["first_wardid"] = ward
    stays["last_wardid"] = ward
    return stays


def _split(total: int, parts: int, rng: np.random.Generator, minimum: int) -> np.ndarray:
    """Split the integer `total` into `parts` random integers of at least `minimum` that sum to it."""
    spare = total - minimum * parts
    if spare <= 0:
        base = np.full(parts, total // parts, dtype=np.int64)
        base[: total - base.sum()] += 1
        return base
    shares = rng.dirichlet(np.full(parts, 2.0))
    amounts = np.floor(shares * spare).astype(np.int64)
    amounts[: spare - amounts.sum()] += 1
    return amounts + minimum
