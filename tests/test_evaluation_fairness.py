"""The fairness numbers agree with Fairlearn called directly on the same predictions."""

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, demographic_parity_difference, equalized_odds_difference
from sklearn.metrics import roc_auc_score

from equisynth.evaluation.fairness import eligible_groups, fairness_resampled, group_labels


@pytest.fixture(scope="module")
def predictions():
    rng = np.random.default_rng(7)
    n = 600
    frame = pd.DataFrame({
        "ethnicity_group": rng.choice(["WHITE", "BLACK", "ASIAN"], n, p=[0.6, 0.3, 0.1]),
        "insurance": rng.choice(["Medicare", "Medicaid"], n),
    })
    shift = frame["ethnicity_group"].map({"WHITE": 0.0, "BLACK": 0.6, "ASIAN": -0.4}).to_numpy()
    y = (rng.random(n) < 0.3).astype(int)
    scores = 1 / (1 + np.exp(-(1.5 * y - 1 + shift + rng.normal(0, 1, n))))
    return frame, y, scores


@pytest.mark.parametrize("attributes", [("ethnicity_group",), ("ethnicity_group", "insurance")])
@pytest.mark.parametrize("use_fairlearn", [True, False])
def test_fairness_matches_fairlearn(predictions, attributes, use_fairlearn):
    frame, y, scores = predictions
    threshold = 0.3
    labels = group_labels(frame, attributes)
    groups = eligible_groups(labels, y, min_rows=30)
    keep = labels.isin(groups).to_numpy()

    # Row 0 takes Fairlearn's values when use_fairlearn is set; row 1 (all ones) is always the vectorised code.
    weights = np.ones((2, len(y)))
    result = fairness_resampled(y, scores, threshold, labels, groups, weights, use_fairlearn=use_fairlearn)

    predicted = (scores[keep] >= threshold).astype(int)
    expected_eod = equalized_odds_difference(y[keep], predicted, sensitive_features=labels[keep])
    expected_dpd = demographic_parity_difference(y[keep], predicted, sensitive_features=labels[keep])
    by_group = MetricFrame(metrics=roc_auc_score, y_true=y[keep], y_pred=scores[keep],
                           sensitive_features=labels[keep]).by_group
    for row in (0, 1):
        assert result.equalized_odds_difference[row] == pytest.approx(expected_eod)
        assert result.demographic_parity_difference[row] == pytest.approx(expected_dpd)
        assert result.worst_group_auroc[row] == pytest.approx(by_group.min())
        assert result.auroc_gap[row] == pytest.approx(by_group.max() - by_group.min())


def test_small_groups_excluded(predictions):
    frame, y, _ = predictions
    labels = group_labels(frame, ("ethnicity_group",))
    assert "ethnicity_group=ASIAN" in eligible_groups(labels, y, min_rows=30)
    assert "ethnicity_group=ASIAN" not in eligible_groups(labels, y, min_rows=100)


def test_fewer_than_two_groups_gives_no_difference(predictions):
    frame, y, scores = predictions
    labels = group_labels(frame, ("ethnicity_group",))
    result = fairness_resampled(y, scores, 0.3, labels, ["ethnicity_group=WHITE"], np.ones((3, len(y))))
    assert np.isnan(result.equalized_odds_difference).all()
    assert np.isnan(result.auroc_gap).all()
