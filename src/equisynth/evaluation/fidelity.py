"""Fidelity of synthetic rows to real rows: marginals, associations and a detection classifier.

Every statistic takes bootstrap weight matrices whose row 0 is all ones (the point estimate,
see `bootstrap.with_point_row`) and returns one value per row.
"""

import logging
from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from equisynth.evaluation.bootstrap import (
    weighted_auroc,
    weighted_category_counts,
    weighted_correlation,
)
from equisynth.evaluation.encoding import TabularEncoder, category_codes

log = logging.getLogger(__name__)


def ks_statistic(real: pd.Series, synthetic: pd.Series) -> float:
    """Two-sample Kolmogorov–Smirnov statistic (scipy), on non-missing values."""
    return float(stats.ks_2samp(_numbers(real), _numbers(synthetic)).statistic)


def total_variation_distance(real: pd.Series, synthetic: pd.Series) -> float:
    """Half the summed absolute difference between the two category distributions."""
    p = real.astype(str).value_counts(normalize=True)
    q = synthetic.astype(str).value_counts(normalize=True)
    p, q = p.align(q, fill_value=0.0)
    return float(0.5 * (p - q).abs().sum())


def _numbers(series: pd.Series) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce").astype(float).to_numpy()
    return values[~np.isnan(values)]


def ks_resampled(real: pd.Series, synthetic: pd.Series, w_real: np.ndarray, w_syn: np.ndarray) -> np.ndarray:
    """Weighted two-sample KS statistic under each pair of weight rows (missing values ignored)."""
    real_values = pd.to_numeric(real, errors="coerce").astype(float).to_numpy()
    syn_values = pd.to_numeric(synthetic, errors="coerce").astype(float).to_numpy()
    keep_real, keep_syn = ~np.isnan(real_values), ~np.isnan(syn_values)
    real_values, syn_values = real_values[keep_real], syn_values[keep_syn]
    if real_values.size == 0 or syn_values.size == 0:
        return np.full(w_real.shape[0], np.nan)

    levels = np.unique(np.concatenate([real_values, syn_values]))
    counts_real = weighted_category_counts(np.searchsorted(levels, real_values), len(levels), w_real[:, keep_real])
    counts_syn = weighted_category_counts(np.searchsorted(levels, syn_values), len(levels), w_syn[:, keep_syn])
    with np.errstate(invalid="ignore", divide="ignore"):
        cdf_real = np.cumsum(counts_real, axis=1) / counts_real.sum(axis=1, keepdims=True)
        cdf_syn = np.cumsum(counts_syn, axis=1) / counts_syn.sum(axis=1, keepdims=True)
    return np.abs(cdf_real - cdf_syn).max(axis=1)


def tvd_resampled(real: pd.Series, synthetic: pd.Series, w_real: np.ndarray, w_syn: np.ndarray) -> np.ndarray:
    """Weighted total variation distance under each pair of weight rows."""
    levels = sorted(set(real.astype(str)) | set(synthetic.astype(str)))
    codes_real, _ = category_codes(real.astype(str), levels)
    codes_syn, _ = category_codes(synthetic.astype(str), levels)
    return tvd_from_codes(codes_real, codes_syn, len(levels), w_real, w_syn)


def tvd_from_codes(codes_real: np.ndarray, codes_syn: np.ndarray, n_levels: int,
                   w_real: np.ndarray, w_syn: np.ndarray) -> np.ndarray:
    """Weighted total variation distance of two integer-coded columns."""
    p = weighted_category_counts(codes_real, n_levels, w_real)
    q = weighted_category_counts(codes_syn, n_levels, w_syn)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = p / p.sum(axis=1, keepdims=True)
        q = q / q.sum(axis=1, keepdims=True)
    return 0.5 * np.abs(p - q).sum(axis=1)


def nanmean_rows(values: np.ndarray, axis: int) -> np.ndarray:
    """Mean of the finite entries along `axis`; NaN where none is finite."""
    finite = np.isfinite(values)
    counts = finite.sum(axis=axis)
    sums = np.where(finite, values, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def mean_abs_matrix_difference(real: np.ndarray, synthetic: np.ndarray) -> np.ndarray:
    """Mean |real - synthetic| over the upper triangle of (B, p, p) matrices, pairs defined in both."""
    upper = np.triu_indices(real.shape[1], k=1)
    difference = np.abs(real[:, upper[0], upper[1]] - synthetic[:, upper[0], upper[1]])
    return nanmean_rows(difference, axis=1)


def pearson_difference_resampled(real: pd.DataFrame, synthetic: pd.DataFrame, columns: list[str],
                                 w_real: np.ndarray, w_syn: np.ndarray) -> np.ndarray:
    """Mean absolute difference of the Pearson correlation matrices of `columns`."""
    if len(columns) < 2:
        return np.full(w_real.shape[0], np.nan)
    real_matrix = real[columns].apply(pd.to_numeric, errors="coerce").fillna(0.0).to_numpy(float)
    syn_matrix = synthetic[columns].apply(pd.to_numeric, errors="coerce").fillna(0.0).to_numpy(float)
    return mean_abs_matrix_difference(weighted_correlation(real_matrix, w_real), weighted_correlation(syn_matrix, w_syn))


def cramers_v_resampled(a: np.ndarray, b: np.ndarray, n_a: int, n_b: int, weights: np.ndarray) -> np.ndarray:
    """Cramér's V of two coded categorical columns under each row of `weights`."""
    table = weighted_category_counts(a * n_b + b, n_a * n_b, weights).reshape(-1, n_a, n_b)
    total = table.sum(axis=(1, 2))
    rows, cols = table.sum(axis=2), table.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        expected = rows[:, :, None] * cols[:, None, :] / total[:, None, None]
        chi2 = np.where(expected > 0, (table - expected) ** 2 / expected, 0.0).sum(axis=(1, 2))
        k = np.minimum((rows > 0).sum(axis=1), (cols > 0).sum(axis=1)) - 1
        v = np.sqrt(chi2 / (total * k))
    v[(k <= 0) | (total <= 0)] = np.nan
    return v


def cramers_v_difference_resampled(real: pd.DataFrame, synthetic: pd.DataFrame, columns: list[str],
                                   w_real: np.ndarray, w_syn: np.ndarray) -> np.ndarray:
    """Mean absolute difference of Cramér's V over every pair of categorical `columns`."""
    coded = {name: CodedColumn.of(real[name], synthetic[name]) for name in columns}
    return cramers_v_difference_from_codes(coded, w_real, w_syn)


def cramers_v_difference_from_codes(coded: dict, w_real: np.ndarray, w_syn: np.ndarray) -> np.ndarray:
    """Mean absolute difference of Cramér's V over every pair of coded columns."""
    differences = []
    for first, second in combinations(list(coded), 2):
        a, b = coded[first], coded[second]
        v_real = cramers_v_resampled(a.real, b.real, a.n_levels, b.n_levels, w_real)
        v_syn = cramers_v_resampled(a.synthetic, b.synthetic, a.n_levels, b.n_levels, w_syn)
        differences.append(np.abs(v_real - v_syn))
    if not differences:
        return np.full(w_real.shape[0], np.nan)
    return nanmean_rows(np.vstack(differences), axis=0)


@dataclass
class CodedColumn:
    """A categorical column of the real and synthetic rows as integer codes over shared levels."""

    real: np.ndarray
    synthetic: np.ndarray
    n_levels: int

    @classmethod
    def of(cls, real: pd.Series, synthetic: pd.Series) -> "CodedColumn":
        levels = sorted(set(real.astype(str)) | set(synthetic.astype(str)))
        codes_real, _ = category_codes(real.astype(str), levels)
        codes_syn, _ = category_codes(synthetic.astype(str), levels)
        return cls(codes_real, codes_syn, len(levels))

    def subset(self, real_mask: np.ndarray, syn_mask: np.ndarray) -> "CodedColumn":
        return CodedColumn(self.real[real_mask], self.synthetic[syn_mask], self.n_levels)


def detection_scores(real: pd.DataFrame, synthetic: pd.DataFrame, encoder: TabularEncoder, seed: int,
                     folds: int = 3) -> np.ndarray | None:
    """Out-of-fold probabilities that each row (real first, then synthetic) is synthetic.

    A logistic regression on the encoded columns, cross-validated so that no row is scored by
    a model that saw it. Returns None when either side has fewer rows than folds.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import PredefinedSplit, cross_val_predict

    if len(real) < folds or len(synthetic) < folds:
        return None
    features = np.vstack([encoder.transform(real), encoder.transform(synthetic)])
    labels = np.concatenate([np.zeros(len(real)), np.ones(len(synthetic))])

    # Identical rows share a fold. Otherwise a real row scored out of fold has its synthetic twin,
    # labelled 1, in the training folds, which pushes copied data below 0.5 instead of to it.
    # Folds are drawn per distinct row at random (scikit-learn's StratifiedGroupKFold does the
    # same with stratification, but its per-group search took most of the evaluation's time).
    row_hash = pd.util.hash_pandas_object(pd.DataFrame(np.round(features, 9)), index=False).to_numpy()
    distinct, group = np.unique(row_hash, return_inverse=True)
    rng = np.random.default_rng(seed)
    fold_of_group = rng.permutation(len(distinct)) % folds
    test_fold = fold_of_group[group]
    if any(len(np.unique(labels[test_fold != fold])) < 2 for fold in range(folds)):
        return None
    model = LogisticRegression(max_iter=2000, C=1.0)
    return cross_val_predict(model, features, labels, cv=PredefinedSplit(test_fold), method="predict_proba")[:, 1]


def detection_auc_resampled(scores: np.ndarray, n_real: int, w_real: np.ndarray, w_syn: np.ndarray) -> np.ndarray:
    """AUROC of the detection scores under each pair of weight rows (0.5: indistinguishable)."""
    labels = np.concatenate([np.zeros(n_real), np.ones(len(scores) - n_real)])
    return weighted_auroc(labels, scores, np.hstack([w_real, w_syn]))


def fidelity_metrics(context) -> list:
    """Compute every fidelity metric, overall and for each subgroup (see docs/evaluation.md#fidelity)."""
    from equisynth.evaluation import multimorbidity
    from equisynth.evaluation.metrics_table import make_metric, too_small_metric

    numeric = context.columns_of_kind("continuous", "count")
    categorical = context.columns_of_kind("categorical", "binary")
    nominal = context.columns_of_kind("categorical")
    flags = [c.name for c in context.schema.columns if c.condition_flag == "elixhauser" and c.name in context.train.columns]
    detection_columns = [
        c.name for c in context.schema.columns
        if c.kind != "id" and not c.condition and c.name in context.train.columns
    ]
    encoder = TabularEncoder(context.schema, detection_columns, scaling="standard").fit(
        context.train, [context.synthetic]
    )
    names = (
        [f"ks_{name}" for name in numeric] + [f"tvd_{name}" for name in categorical]
        + ["ks_mean", "tvd_mean", "pearson_difference", "cramers_v_difference", "detection_auc",
           "elixhauser_count_tvd", "elixhauser_count_mean_difference", "cooccurrence_phi_difference",
           "top20_combination_prevalence_difference"]
    )

    # Categorical columns are coded once for the whole tables; subgroups take slices of the codes.
    coded = {name: CodedColumn.of(context.train[name], context.synthetic[name]) for name in categorical}

    metrics = []
    for group in context.subgroups:
        real_mask, syn_mask = group.mask(context.train), group.mask(context.synthetic)
        n_syn = int(syn_mask.sum())
        if context.below_minimum(group) or (group.conditions and min(n_syn, int(real_mask.sum())) < context.min_rows):
            metrics.extend(too_small_metric("fidelity", name, group.label, n_syn) for name in names)
            continue
        if n_syn == 0 or real_mask.sum() == 0:
            log.warning("Fidelity for %s skipped: no synthetic or no real rows", group.label)
            metrics.extend(too_small_metric("fidelity", name, group.label, n_syn) for name in names)
            continue

        real, syn = context.train[real_mask], context.synthetic[syn_mask]
        w_real, w_syn = context.w_train[:, real_mask], context.w_synthetic[:, syn_mask]
        values: dict[str, np.ndarray] = {}
        for name in numeric:
            values[f"ks_{name}"] = ks_resampled(real[name], syn[name], w_real, w_syn)
        sliced = {name: coded[name].subset(real_mask, syn_mask) for name in categorical}
        for name in categorical:
            column = sliced[name]
            values[f"tvd_{name}"] = tvd_from_codes(column.real, column.synthetic, column.n_levels, w_real, w_syn)
        values["ks_mean"] = nanmean_rows(np.vstack([values[f"ks_{n}"] for n in numeric]), 0) if numeric else np.full(len(w_real), np.nan)
        values["tvd_mean"] = nanmean_rows(np.vstack([values[f"tvd_{n}"] for n in categorical]), 0) if categorical else np.full(len(w_real), np.nan)
        values["pearson_difference"] = pearson_difference_resampled(real, syn, numeric, w_real, w_syn)
        values["cramers_v_difference"] = cramers_v_difference_from_codes(
            {name: sliced[name] for name in nominal}, w_real, w_syn
        )

        scores = detection_scores(real, syn, encoder, context.seed)
        values["detection_auc"] = (
            detection_auc_resampled(scores, len(real), w_real, w_syn) if scores is not None else np.full(len(w_real), np.nan)
        )
        if flags:
            tvd, mean_difference = multimorbidity.count_distribution_resampled(real, syn, flags, w_real, w_syn)
            values["elixhauser_count_tvd"], values["elixhauser_count_mean_difference"] = tvd, mean_difference
            values["cooccurrence_phi_difference"] = multimorbidity.cooccurrence_difference_resampled(real, syn, flags, w_real, w_syn)
            values["top20_combination_prevalence_difference"] = multimorbidity.top_combination_difference_resampled(
                real, syn, flags, w_real, w_syn
            )

        for name in names:
            if name in values:
                metrics.append(make_metric("fidelity", name, group.label, values[name][0], values[name][1:], n_syn))
    return metrics
