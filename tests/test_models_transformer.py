"""Data transformer: deterministic fit, round trip, valid values by construction."""

import numpy as np
import pandas as pd
import pytest

from mart_factory import make_mart, mart_schema
from models_ml.constraints import band_specs
from models_ml.transformer import DataTransformer


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return make_mart(200, seed=2)


def fitted(table: pd.DataFrame, method: str, seed: int = 0) -> DataTransformer:
    schema = mart_schema()
    return DataTransformer(method, seed=seed).fit(table, schema, band_specs(table, schema))


@pytest.mark.parametrize("method", ["gmm", "quantile"])
def test_fit_deterministic(table, method):
    assert fitted(table, method).to_dict() == fitted(table, method).to_dict()
    first = fitted(table, method).transform(table)
    second = fitted(table, method).transform(table)
    assert np.array_equal(first, second)


@pytest.mark.parametrize("method", ["gmm", "quantile"])
def test_round_trip(table, method):
    transformer = fitted(table, method)
    decoded = transformer.inverse_transform(transformer.transform(table), table)
    for column in mart_schema().generated_columns:
        if mart_schema()[column].kind == "continuous":
            assert np.allclose(decoded[column], table[column], rtol=1e-3, atol=1e-3), column
        else:
            assert (decoded[column].to_numpy() == table[column].to_numpy()).all(), column


def test_saved_form_round_trip(table):
    transformer = fitted(table, "gmm")
    restored = DataTransformer.from_dict(transformer.to_dict())
    assert restored.spans == transformer.spans
    assert np.array_equal(restored.transform(table), transformer.transform(table))


@pytest.mark.parametrize("method", ["gmm", "quantile"])
def test_random_matrix_decodes_valid(table, method):
    transformer = fitted(table, method)
    rng = np.random.default_rng(0)
    matrix = rng.normal(0, 4, size=(400, transformer.output_dim)).astype(np.float32)
    conditions = table.sample(400, replace=True, random_state=0).reset_index(drop=True)
    decoded = transformer.inverse_transform(matrix, conditions)

    assert (decoded["los_hospital_days"] >= 0).all()
    assert (decoded["icu_days"] >= 0).all()
    assert decoded["age"].between(0, 90).all()
    bounds = {"0-17": (0, 17), "18-44": (18, 44), "45-64": (45, 64), "65-79": (65, 79), "80+": (80, 90)}
    for band, (low, high) in bounds.items():
        ages = decoded.loc[conditions["age_band"] == band, "age"]
        assert ages.between(low, high).all(), band
    assert set(decoded["admission_type"]) <= set(table["admission_type"])
    assert set(decoded["hospital_expire_flag"]) <= {0, 1}
    assert (decoded["dx_ch07_circulatory"] >= 0).all()


def test_unseen_category_rejected(table):
    transformer = fitted(table, "quantile")
    bad = table.head(3).copy()
    bad["admission_type"] = "TELEPORTED"
    with pytest.raises(ValueError, match="TELEPORTED"):
        transformer.transform(bad)
