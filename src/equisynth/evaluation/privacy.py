"""Privacy: distances between synthetic, training and holdout rows, and two simulated attacks.

Rows are compared on their base columns (no ids, nothing dbt derives), numbers divided by the
training range and categories one-hot (see `encoding.TabularEncoder`, scaling 'range'), with
Euclidean distance. The holdout rows are the reference: a generator that does not copy its
training rows puts synthetic rows no closer to them than unseen real rows are.
"""

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.neighbors import NearestNeighbors

from equisynth.evaluation.encoding import TabularEncoder, base_columns
from models_ml.table_schema import TableSchema

log = logging.getLogger(__name__)

# Distances are computed as sqrt(|a|^2 - 2ab + |b|^2) in floating point, so an exact copy can come
# out at about 1e-8 rather than 0; base columns are range-scaled, so 1e-6 is far below any real difference.
EXACT_MATCH_TOLERANCE = 1e-6


@dataclass
class PrivacyDistances:
    """Per-row distances computed once and reused for every subgroup."""

    dcr_synthetic: np.ndarray        # synthetic row -> nearest training row
    second_synthetic: np.ndarray     # synthetic row -> second-nearest training row
    dcr_holdout: np.ndarray          # holdout row -> nearest training row
    second_holdout: np.ndarray
    closer_to_train: np.ndarray      # 1, 0.5 (tie) or 0 per synthetic row, against an equal-size training sample
    attack_train: np.ndarray         # training row -> nearest synthetic row
    attack_holdout: np.ndarray       # holdout row -> nearest synthetic row
    inferred_train_correct: np.ndarray | None
    inferred_holdout_correct: np.ndarray | None
    sensitive_baseline: float | None


def _nearest(reference: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """(n_queries, k) Euclidean distances to the k nearest reference rows (inf where absent)."""
    out = np.full((len(queries), k), np.inf)
    if len(reference) == 0 or len(queries) == 0:
        return out
    k_used = min(k, len(reference))
    distances, _ = NearestNeighbors(n_neighbors=k_used).fit(reference).kneighbors(queries)
    out[:, :k_used] = distances
    return out


def nndr(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Nearest-neighbour distance ratio d1 / d2 (1 where both are 0, NaN without a second neighbour)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(second > 0, first / second, 1.0)
    return np.where(np.isfinite(second), ratio, np.nan)


def compute_distances(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame,
                      schema: TableSchema, sensitive_column: str | None, quasi_identifiers: list[str],
                      seed: int) -> PrivacyDistances:
    columns = base_columns(schema, train)
    encoder = TabularEncoder(schema, columns, scaling="range").fit(train, [holdout, synthetic])
    train_x, holdout_x, syn_x = encoder.transform(train), encoder.transform(holdout), encoder.transform(synthetic)

    synthetic_to_train = _nearest(train_x, syn_x, 2)
    holdout_to_train = _nearest(train_x, holdout_x, 2)

    # An equal-size training sample makes 0.5 the expected share for a generator that does not
    # copy: with a larger training set its nearest row is closer by chance alone.
    rng = np.random.default_rng(seed)
    size = min(len(train_x), len(holdout_x))
    sample = rng.choice(len(train_x), size=size, replace=False) if size else np.array([], dtype=int)
    to_train_sample = _nearest(train_x[sample], syn_x, 1)[:, 0]
    to_holdout = _nearest(holdout_x, syn_x, 1)[:, 0]
    closer = np.where(np.isclose(to_train_sample, to_holdout), 0.5, (to_train_sample < to_holdout).astype(float))

    train_to_synthetic = _nearest(syn_x, train_x, 1)[:, 0]
    holdout_to_synthetic = _nearest(syn_x, holdout_x, 1)[:, 0]

    inferred_train = inferred_holdout = None
    baseline = None
    if sensitive_column and sensitive_column in train.columns and len(synthetic):
        inferred_train, inferred_holdout, baseline = attribute_inference(
            train, holdout, synthetic, schema, sensitive_column, quasi_identifiers
        )

    return PrivacyDistances(
        synthetic_to_train[:, 0], synthetic_to_train[:, 1], holdout_to_train[:, 0], holdout_to_train[:, 1],
        closer, train_to_synthetic, holdout_to_synthetic, inferred_train, inferred_holdout, baseline,
    )


def attribute_inference(train: pd.DataFrame, holdout: pd.DataFrame, synthetic: pd.DataFrame, schema: TableSchema,
                        sensitive_column: str, quasi_identifiers: list[str]) -> tuple[np.ndarray, np.ndarray, float]:
    """Guess each real row's sensitive value from its nearest synthetic row on the quasi-identifiers.

    Returns whether the guess is right for each training row and each holdout row, and the
    majority-class rate of the training rows (what an attacker gets without the synthetic data).
    A leak shows as training accuracy above holdout accuracy.
    """
    columns = [name for name in quasi_identifiers if name in train.columns]
    encoder = TabularEncoder(schema, columns, scaling="range").fit(train, [holdout, synthetic])
    finder = NearestNeighbors(n_neighbors=1).fit(encoder.transform(synthetic))
    synthetic_values = synthetic[sensitive_column].astype(str).to_numpy()

    def correct(frame: pd.DataFrame) -> np.ndarray:
        if len(frame) == 0:
            return np.zeros(0)
        _, index = finder.kneighbors(encoder.transform(frame))
        return (synthetic_values[index[:, 0]] == frame[sensitive_column].astype(str).to_numpy()).astype(float)

    baseline = float(train[sensitive_column].astype(str).value_counts(normalize=True).iloc[0]) if len(train) else np.nan
    return correct(train), correct(holdout), baseline


def privacy_metrics(context) -> tuple[list, PrivacyDistances]:
    """Compute every privacy metric, overall and per subgroup. The release gates read these names, so they are fixed."""
    from equisynth.evaluation.bootstrap import weighted_auroc, weighted_mean, weighted_quantile
    from equisynth.evaluation.metrics_table import make_metric, too_small_metric

    distances = compute_distances(context.train, context.holdout, context.synthetic, context.schema,
                                  context.sensitive_column, context.quasi_identifiers, context.seed)
    nndr_synthetic = nndr(distances.dcr_synthetic, distances.second_synthetic)
    nndr_holdout = nndr(distances.dcr_holdout, distances.second_holdout)
    exact_synthetic = (distances.dcr_synthetic <= EXACT_MATCH_TOLERANCE).astype(float)
    exact_holdout = (distances.dcr_holdout <= EXACT_MATCH_TOLERANCE).astype(float)

    metrics = []
    for group in context.subgroups:
        syn_mask, hold_mask, train_mask = (group.mask(context.synthetic), group.mask(context.holdout),
                                           group.mask(context.train))
        w_syn, w_hold, w_train = (context.w_synthetic[:, syn_mask], context.w_holdout[:, hold_mask],
                                  context.w_train[:, train_mask])
        n_syn, n_hold = int(syn_mask.sum()), int(hold_mask.sum())
        values: dict[str, tuple[np.ndarray, int]] = {}

        if n_syn:
            values["exact_match_rate_synthetic"] = (weighted_mean(exact_synthetic[syn_mask], w_syn), n_syn)
            values["dcr_p5_synthetic"] = (weighted_quantile(distances.dcr_synthetic[syn_mask], w_syn, 0.05), n_syn)
            values["dcr_median_synthetic"] = (weighted_quantile(distances.dcr_synthetic[syn_mask], w_syn, 0.5), n_syn)
            values["dcr_closer_to_train_share"] = (weighted_mean(distances.closer_to_train[syn_mask], w_syn), n_syn)
            values["nndr_median_synthetic"] = (weighted_quantile(nndr_synthetic[syn_mask], w_syn, 0.5), n_syn)
        if n_hold:
            values["exact_match_rate_holdout"] = (weighted_mean(exact_holdout[hold_mask], w_hold), n_hold)
            values["dcr_p5_holdout"] = (weighted_quantile(distances.dcr_holdout[hold_mask], w_hold, 0.05), n_hold)
            values["dcr_median_holdout"] = (weighted_quantile(distances.dcr_holdout[hold_mask], w_hold, 0.5), n_hold)
            values["nndr_median_holdout"] = (weighted_quantile(nndr_holdout[hold_mask], w_hold, 0.5), n_hold)
        if n_hold and train_mask.any() and n_syn:
            scores = -np.concatenate([distances.attack_train[train_mask], distances.attack_holdout[hold_mask]])
            members = np.concatenate([np.ones(train_mask.sum()), np.zeros(n_hold)])
            values["mia_auc"] = (weighted_auroc(members, scores, np.hstack([w_train, w_hold])), n_hold + int(train_mask.sum()))
        if distances.inferred_train_correct is not None and train_mask.any():
            values["attribute_inference_accuracy"] = (
                weighted_mean(distances.inferred_train_correct[train_mask], w_train), int(train_mask.sum()))
            if n_hold:
                values["attribute_inference_accuracy_holdout"] = (
                    weighted_mean(distances.inferred_holdout_correct[hold_mask], w_hold), n_hold)

        names = ["exact_match_rate_synthetic", "exact_match_rate_holdout", "dcr_p5_synthetic", "dcr_p5_holdout",
                 "dcr_median_synthetic", "dcr_median_holdout", "dcr_closer_to_train_share", "nndr_median_synthetic",
                 "nndr_median_holdout", "mia_auc", "attribute_inference_accuracy", "attribute_inference_accuracy_holdout"]
        for name in names:
            if context.below_minimum(group):
                metrics.append(too_small_metric("privacy", name, group.label, n_hold))
            elif name in values:
                resampled, n = values[name]
                metrics.append(make_metric("privacy", name, group.label, resampled[0], resampled[1:], n))
            else:
                metrics.append(too_small_metric("privacy", name, group.label, 0))

    if distances.sensitive_baseline is not None:
        values = context.train[context.sensitive_column].astype(str)
        is_majority = (values == values.value_counts().index[0]).to_numpy(float)
        baseline = weighted_mean(is_majority, context.w_train)
        metrics.append(make_metric("privacy", "attribute_inference_baseline", "overall",
                                   baseline[0], baseline[1:], len(context.train)))
    return metrics, distances
