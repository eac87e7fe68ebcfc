"""Assertions shared by the model tests: validity and consistency of generated rows."""

import numpy as np
import pandas as pd

from mart_factory import BANDS, ELIXHAUSER, HIERARCHY, age_band, elixhauser_count


def assert_valid_rows(rows: pd.DataFrame, training: pd.DataFrame, schema) -> None:
    assert list(rows.columns) == schema.output_columns
    assert not rows.isna().any().any()

    assert rows["age"].dtype.kind == "i"
    assert rows["age"].between(0, 90).all()
    assert (age_band(rows["age"].to_numpy()) == rows["age_band"].to_numpy()).all()

    assert (rows["los_hospital_days"] >= 0).all()
    assert (rows["icu_days"] >= 0).all()
    assert (rows.loc[rows["icu_stays"] == 0, "icu_days"] == 0).all()

    for column in schema.output_columns:
        kind = schema[column].kind
        if kind == "count":
            assert rows[column].dtype.kind == "i", column
            assert (rows[column] >= 0).all(), column
        if kind == "binary":
            assert set(rows[column].unique()) <= {0, 1}, column
        if kind == "categorical":
            assert set(rows[column].unique()) <= set(training[column].unique()), column

    for dominant, suppressed in HIERARCHY:
        assert not ((rows[dominant] == 1) & (rows[suppressed] == 1)).any(), (dominant, suppressed)
    recomputed = (elixhauser_count(rows) >= 2).astype(int)
    assert (recomputed == rows["multimorbid"].to_numpy()).all()


def all_band_labels() -> list[str]:
    return [label for _, _, label in BANDS]


def elixhauser_flags() -> list[str]:
    return list(ELIXHAUSER)


def request_with_absent_combination(training: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Counts for several combinations, one of which (seen values only) no training row has."""
    attributes = ["ethnicity_group", "insurance", "gender", "age_band", "multimorbid"]
    seen = set(map(tuple, training[attributes].astype(str).to_numpy()))
    absent = None
    for ethnicity in sorted(training["ethnicity_group"].unique()):
        for insurance in sorted(training["insurance"].unique()):
            candidate = (ethnicity, insurance, "F", "0-17", "1")
            if candidate not in seen:
                absent = {"ethnicity_group": ethnicity, "insurance": insurance, "gender": "F", "age_band": "0-17", "multimorbid": 1}
                break
        if absent:
            break
    assert absent is not None
    request = pd.DataFrame([
        {**absent, "count": 13},
        {"ethnicity_group": "BLACK", "insurance": "Medicaid", "gender": "M", "age_band": "80+", "multimorbid": 0, "count": 21},
        {"ethnicity_group": "WHITE", "insurance": "Medicare", "gender": "F", "age_band": "65-79", "multimorbid": 1, "count": 40},
        {"ethnicity_group": "ASIAN", "insurance": "Private", "gender": "M", "age_band": "18-44", "multimorbid": 0, "count": 0},
    ])
    return request, absent


def assert_exact_counts(rows: pd.DataFrame, request: pd.DataFrame) -> None:
    attributes = [c for c in request.columns if c != "count"]
    produced = rows.groupby(attributes).size()
    for _, wanted in request.iterrows():
        key = tuple(wanted[a] for a in attributes)
        assert int(produced.get(key, 0)) == int(wanted["count"]), key
    assert len(rows) == int(request["count"].sum())


def frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    try:
        pd.testing.assert_frame_equal(a, b, check_exact=True)
    except AssertionError:
        return False
    return True


def fraction_close(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.isclose(a, b)))
