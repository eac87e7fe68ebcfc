"""Known values of the fidelity, bootstrap and representation statistics on invented data."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

from equisynth.evaluation.bootstrap import (
    resample_weights,
    weighted_auroc,
    weighted_average_precision,
    weighted_brier,
    weighted_quantile,
    with_point_row,
)
from equisynth.evaluation.encoding import TabularEncoder
from equisynth.evaluation.fidelity import (
    cramers_v_resampled,
    detection_auc_resampled,
    detection_scores,
    ks_resampled,
    ks_statistic,
    total_variation_distance,
    tvd_resampled,
)
from equisynth.evaluation.metrics_table import make_metric
from equisynth.evaluation.multimorbidity import cooccurrence_difference_resampled, top_combinations
from equisynth.evaluation.representation import log_disparity
from evaluation_helpers import FLAGS, SCHEMA, make_rows


def ones(n: int) -> np.ndarray:
    return np.ones((1, n))


def test_identical_data_ks_and_tvd_zero():
    rows = make_rows(200, 0)
    for column in ("age", "los_hospital_days", "icu_stays"):
        assert ks_statistic(rows[column], rows[column]) == 0.0
        assert ks_resampled(rows[column], rows[column], ones(200), ones(200))[0] == 0.0
    for column in ("gender", "ethnicity_group", "elix_chf"):
        assert total_variation_distance(rows[column], rows[column]) == 0.0
        assert tvd_resampled(rows[column], rows[column], ones(200), ones(200))[0] == 0.0


def test_identical_data_detection_auc_near_half():
    rows = make_rows(300, 0)
    columns = [c.name for c in SCHEMA.columns if c.kind != "id" and not c.condition]
    encoder = TabularEncoder(SCHEMA, columns).fit(rows)
    scores = detection_scores(rows, rows.copy(), encoder, seed=0)
    auc = detection_auc_resampled(scores, len(rows), ones(300), ones(300))[0]
    assert abs(auc - 0.5) < 0.1


def test_shifted_column_expected_ks():
    real = pd.Series(np.arange(100), dtype=float)
    shifted = real + 10
    assert ks_statistic(real, shifted) == pytest.approx(0.10)
    assert ks_resampled(real, shifted, ones(100), ones(100))[0] == pytest.approx(0.10)


def test_shifted_column_detected_by_classifier():
    real = make_rows(300, 0)
    synthetic = make_rows(300, 1)
    synthetic["los_hospital_days"] += 15
    columns = [c.name for c in SCHEMA.columns if c.kind != "id" and not c.condition]
    encoder = TabularEncoder(SCHEMA, columns).fit(real, [synthetic])
    scores = detection_scores(real, synthetic, encoder, seed=0)
    assert detection_auc_resampled(scores, 300, ones(300), ones(300))[0] > 0.9


def test_tvd_known_value():
    real = pd.Series(["A", "A", "B", "B"])
    synthetic = pd.Series(["A", "A", "A", "B"])
    assert total_variation_distance(real, synthetic) == pytest.approx(0.25)
    assert tvd_resampled(real, synthetic, ones(4), ones(4))[0] == pytest.approx(0.25)


def test_weighted_scores_match_scikit_learn():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 150)
    p = np.round(rng.random(150), 1)  # rounding creates ties
    weights = resample_weights(150, 5, rng)
    for row in weights:
        assert weighted_auroc(y, p, row[None, :])[0] == pytest.approx(roc_auc_score(y, p, sample_weight=row))
        assert weighted_average_precision(y, p, row[None, :])[0] == pytest.approx(
            average_precision_score(y, p, sample_weight=row))
        assert weighted_brier(y, p, row[None, :])[0] == pytest.approx(brier_score_loss(y, p, sample_weight=row))


def test_weighted_quantile_matches_numpy():
    values = np.array([5.0, 1.0, 3.0, 3.0, 9.0, 7.0])
    counts = np.array([[2, 0, 1, 1, 1, 1]], dtype=float)
    expanded = np.repeat(values, counts[0].astype(int))
    for q in (0.05, 0.5, 0.9):
        assert weighted_quantile(values, counts, q)[0] == np.quantile(expanded, q, method="inverted_cdf")


def test_cramers_v_matches_chi_square():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 3, 400)
    b = (a + rng.integers(0, 2, 400)) % 4
    table = pd.crosstab(a, b).to_numpy()
    chi2 = chi2_contingency(table, correction=False)[0]
    expected = np.sqrt(chi2 / (400 * (min(table.shape) - 1)))
    assert cramers_v_resampled(a, b, 3, 4, ones(400))[0] == pytest.approx(expected)


def test_cooccurrence_identical_zero_and_independent_positive():
    rows = make_rows(300, 0)
    assert cooccurrence_difference_resampled(rows, rows, FLAGS, ones(300), ones(300))[0] == pytest.approx(0.0)
    linked = rows.copy()
    linked["elix_renal_failure"] = linked["elix_chf"]
    assert cooccurrence_difference_resampled(rows, linked, FLAGS, ones(300), ones(300))[0] > 0.05


def test_top_combinations_prevalence():
    real = pd.DataFrame({"elix_a": [1, 1, 0, 0], "elix_b": [1, 0, 0, 0]})
    synthetic = pd.DataFrame({"elix_a": [1, 0, 0, 0], "elix_b": [1, 0, 0, 0]})
    table = top_combinations(real, synthetic, ["elix_a", "elix_b"]).set_index("combination")
    assert table.loc["(none)", "real_prevalence"] == pytest.approx(0.5)
    assert table.loc["(none)", "synthetic_prevalence"] == pytest.approx(0.75)
    assert table.loc["elix_a", "synthetic_prevalence"] == 0.0


def test_log_disparity_values():
    assert log_disparity(np.array([0.2]), np.array([0.1]))[0] == pytest.approx(np.log(2))
    assert np.isnan(log_disparity(np.array([0.0]), np.array([0.1]))[0])


def test_interval_contains_point_value():
    metric = make_metric("fidelity", "ks_age", "overall", 0.05, np.linspace(0.06, 0.1, 50), 10)
    assert metric.ci_low <= 0.05 <= metric.ci_high
    metric = make_metric("utility", "trtr_auroc_logreg_readmit_30d", "overall", 0.7, np.linspace(0.6, 0.8, 50), 10)
    assert metric.ci_low == pytest.approx(0.605)
    assert metric.ci_high == pytest.approx(0.795)


def test_point_row_is_all_ones():
    weights = with_point_row(resample_weights(7, 3, np.random.default_rng(0)))
    assert weights.shape == (4, 7)
    assert (weights[0] == 1).all()
    assert (weights[1:].sum(axis=1) == 7).all()
