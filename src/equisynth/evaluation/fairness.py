"""Downstream fairness on the real holdout, across the groups of one or more sensitive attributes.

Point values come from Fairlearn (MetricFrame, equalized_odds_difference,
demographic_parity_difference). Bootstrap intervals use the same definitions, vectorised over
weight matrices. Only groups with at least `min_rows` holdout rows and both outcome values take
part. A smaller group is too small to estimate, which is not the same as a rate of zero.
"""

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from equisynth.evaluation.bootstrap import weighted_auroc

log = logging.getLogger(__name__)


@dataclass
class FairnessResult:
    """Fairness numbers of one (training set, outcome, attribute family): row 0 is the point value."""

    groups: list[str]
    equalized_odds_difference: np.ndarray
    demographic_parity_difference: np.ndarray
    worst_group_auroc: np.ndarray
    auroc_gap: np.ndarray
    group_auroc: pd.Series


def group_labels(frame: pd.DataFrame, attributes: tuple[str, ...]) -> pd.Series:
    """Label each row with its cell, e.g. 'ethnicity_group=BLACK & insurance=Medicaid'."""
    parts = [attribute + "=" + frame[attribute].astype(str) for attribute in attributes]
    labels = parts[0]
    for part in parts[1:]:
        labels = labels + " & " + part
    return labels.reset_index(drop=True)


def eligible_groups(labels: pd.Series, y_true: np.ndarray, min_rows: int) -> list[str]:
    """Groups with at least `min_rows` rows and both outcome values."""
    eligible = []
    for label in sorted(labels.unique()):
        members = (labels == label).to_numpy()
        if members.sum() >= min_rows and len(np.unique(y_true[members])) == 2:
            eligible.append(label)
    return eligible


def fairlearn_point_values(y_true: np.ndarray, scores: np.ndarray, threshold: float,
                           labels: pd.Series) -> tuple[float, float, pd.Series]:
    """Equalized-odds difference, demographic-parity difference and per-group AUROC, from one Fairlearn MetricFrame.

    The differences are computed as Fairlearn's equalized_odds_difference and
    demographic_parity_difference define them (between-group max - min of the true- and
    false-positive rates, and of the selection rate), in one MetricFrame to group the rows once.
    """
    from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate
    from sklearn.metrics import roc_auc_score

    metrics = {
        "tpr": lambda y, s: true_positive_rate(y, (s >= threshold).astype(int)),
        "fpr": lambda y, s: false_positive_rate(y, (s >= threshold).astype(int)),
        "selection_rate": lambda y, s: selection_rate(y, (s >= threshold).astype(int)),
        "auroc": roc_auc_score,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = MetricFrame(metrics=metrics, y_true=y_true, y_pred=scores, sensitive_features=labels.to_numpy())
    difference = frame.difference(method="between_groups")
    eod = max(difference["tpr"], difference["fpr"])
    return float(eod), float(difference["selection_rate"]), frame.by_group["auroc"]


def _rate(weights: np.ndarray, numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return (weights @ numerator.astype(float)) / (weights @ denominator.astype(float))


def _spread(matrix: np.ndarray) -> np.ndarray:
    """max - min across groups (columns), NaN-aware; NaN when fewer than two groups are defined."""
    finite = np.isfinite(matrix)
    high = np.where(finite, matrix, -np.inf).max(axis=1)
    low = np.where(finite, matrix, np.inf).min(axis=1)
    spread = high - low
    spread[finite.sum(axis=1) < 2] = np.nan
    return spread


def fairness_resampled(y_true: np.ndarray, scores: np.ndarray, threshold: float, labels: pd.Series,
                       groups: list[str], weights: np.ndarray, use_fairlearn: bool = True) -> FairnessResult:
    """Fairness numbers under each row of `weights` (row 0 all ones), over the given groups only.

    Predictions are positive when the probability is at least `threshold` (the training set's
    positive rate), so that a rare outcome still gets positive predictions. With `use_fairlearn`
    the point values (row 0) come from a Fairlearn MetricFrame. Without it they come from the
    same definitions vectorised here, and the tests check that both agree.
    """
    y = np.asarray(y_true).astype(bool)
    predicted = np.asarray(scores) >= threshold
    n_resamples = weights.shape[0]
    tpr, fpr, selection, auroc = (np.full((n_resamples, len(groups)), np.nan) for _ in range(4))

    for index, group in enumerate(groups):
        members = (labels == group).to_numpy()
        tpr[:, index] = _rate(weights, members & y & predicted, members & y)
        fpr[:, index] = _rate(weights, members & ~y & predicted, members & ~y)
        selection[:, index] = _rate(weights, members & predicted, members)
        auroc[:, index] = weighted_auroc(y[members], scores[members], weights[:, members])

    eod = np.fmax(_spread(tpr), _spread(fpr))
    finite_auroc = np.where(np.isfinite(auroc), auroc, np.inf)
    worst = finite_auroc.min(axis=1) if groups else np.full(n_resamples, np.nan)
    worst = np.where(np.isfinite(worst), worst, np.nan)

    in_groups = labels.isin(groups).to_numpy()
    point_eod, point_dpd, by_group = eod[0], _spread(selection[:1])[0], pd.Series(auroc[0], index=groups)
    if len(groups) >= 2 and use_fairlearn:
        point_eod, point_dpd, by_group = fairlearn_point_values(
            y[in_groups].astype(int), scores[in_groups], threshold, labels[in_groups]
        )
    eod[0], dpd = point_eod, _spread(selection)
    dpd[0] = point_dpd
    gap = _spread(auroc)
    if len(groups) >= 2 and by_group.notna().any():
        worst[0], gap[0] = by_group.min(), by_group.max() - by_group.min()
    if len(groups) < 2:
        eod[:], dpd[:] = np.nan, np.nan
    return FairnessResult(groups, eod, dpd, worst, gap, by_group)


FAIRNESS_MODEL = "logreg"


def fairness_metrics(context, predictions) -> tuple[list, dict]:
    """Fairness numbers for each training set, outcome and attribute family (subgroup 'overall').

    Also returns the per-group AUROC tables that the report plots, keyed by (scheme, target, family).
    """
    from equisynth.evaluation.metrics_table import OVERALL, make_metric, too_small_metric
    from equisynth.evaluation.subgroups import attribute_families
    from equisynth.evaluation.utility import SCHEMES, TARGETS, outcome

    by_key = {(p.scheme, p.model, p.target): p for p in predictions}
    metrics, tables = [], {}
    families = attribute_families(context.conditions, context.max_intersection)
    for target in TARGETS:
        y = outcome(context.holdout, target)
        for family in families:
            labels = group_labels(context.holdout, family)
            groups = eligible_groups(labels, y, context.min_rows)
            family_name = "_x_".join(family)
            n = int(labels.isin(groups).sum())
            for scheme in SCHEMES:
                prediction = by_key[(scheme, FAIRNESS_MODEL, target)]
                suffix = f"by_{family_name}_{scheme}_{target}"
                names = [f"{kind}_{suffix}" for kind in
                         ("equalized_odds_difference", "demographic_parity_difference", "worst_group_auroc", "auroc_gap")]
                if prediction.probabilities is None or len(groups) < 2:
                    # Fewer than two groups large enough: a difference between groups cannot be estimated.
                    metrics.extend(too_small_metric("fairness", name, OVERALL, n) for name in names)
                    continue
                # Fairlearn's MetricFrame costs a fraction of a second per call, so it gives the point
                # values of single attributes; intersections use the vectorised equivalent.
                result = fairness_resampled(y, prediction.probabilities, prediction.train_positive_rate,
                                            labels, groups, context.w_holdout, use_fairlearn=len(family) == 1)
                for name, values in zip(names, (result.equalized_odds_difference, result.demographic_parity_difference,
                                                result.worst_group_auroc, result.auroc_gap)):
                    metrics.append(make_metric("fairness", name, OVERALL, values[0], values[1:], n))
                tables[(scheme, target, family)] = result.group_auroc
    return metrics, tables
