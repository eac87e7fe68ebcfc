"""Utility: classifiers trained on real, synthetic or both, all tested on the real holdout.

Schemes: `trtr` (train on real training rows), `tstr` (train on synthetic rows) and `augment`
(train on real training rows plus synthetic rows). Outcomes: in-hospital mortality and 30-day
readmission; neither outcome is a feature of the other's model.
"""

import logging
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from equisynth.evaluation.encoding import OUTCOME_COLUMNS, TabularEncoder, non_id_columns
from models_ml.table_schema import TableSchema

log = logging.getLogger(__name__)

SCHEMES = ("trtr", "tstr", "augment")
MODELS = ("logreg", "gbm")
TARGETS = OUTCOME_COLUMNS


@dataclass
class Predictions:
    """Holdout probabilities of one (scheme, model, target), with the training set's positive rate."""

    scheme: str
    model: str
    target: str
    probabilities: np.ndarray | None
    train_positive_rate: float | None
    reason: str | None = None


def make_classifier(model: str, seed: int):
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression

    if model == "logreg":
        return LogisticRegression(max_iter=2000, C=1.0)
    if model == "gbm":
        return HistGradientBoostingClassifier(
            max_iter=100, learning_rate=0.1, max_leaf_nodes=15, early_stopping=False, random_state=seed
        )
    raise ValueError(f"unknown classifier {model!r}; expected one of {', '.join(MODELS)}")


def feature_columns(schema: TableSchema, frame: pd.DataFrame) -> list[str]:
    return [name for name in non_id_columns(schema, frame) if name not in OUTCOME_COLUMNS]


def outcome(frame: pd.DataFrame, target: str) -> np.ndarray:
    return pd.to_numeric(frame[target], errors="coerce").fillna(0).astype(int).to_numpy()


def training_sets(real: pd.DataFrame, synthetic: pd.DataFrame) -> dict[str, pd.DataFrame]:
    return {
        "trtr": real,
        "tstr": synthetic,
        "augment": pd.concat([real, synthetic], ignore_index=True),
    }


def fit_predictions(real: pd.DataFrame, synthetic: pd.DataFrame, holdout: pd.DataFrame,
                    schema: TableSchema, seed: int) -> list[Predictions]:
    """Fit every (scheme, model, target) and score the holdout; a one-class training set gives no model."""
    columns = feature_columns(schema, real)
    encoder = TabularEncoder(schema, columns, scaling="standard").fit(real, [synthetic, holdout])
    holdout_features = encoder.transform(holdout)
    results: list[Predictions] = []

    for scheme, train in training_sets(real, synthetic).items():
        features = encoder.transform(train)
        for target in TARGETS:
            if target not in train.columns:
                raise KeyError(target)
            labels = outcome(train, target)
            positive_rate = float(labels.mean()) if len(labels) else None
            for model in MODELS:
                if len(np.unique(labels)) < 2:
                    reason = f"the {scheme} training set has only one value of {target}"
                    log.warning("No %s model for %s: %s", model, target, reason)
                    results.append(Predictions(scheme, model, target, None, positive_rate, reason))
                    continue
                classifier = make_classifier(model, seed)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    classifier.fit(features, labels)
                probabilities = classifier.predict_proba(holdout_features)[:, 1]
                results.append(Predictions(scheme, model, target, probabilities, positive_rate))
    return results


def utility_metrics(context, predictions: list[Predictions]) -> list:
    """AUROC, AUPRC and Brier score of every prediction set, overall and per subgroup, and the TSTR - TRTR AUROC gap."""
    from equisynth.evaluation.bootstrap import weighted_auroc, weighted_average_precision, weighted_brier
    from equisynth.evaluation.metrics_table import make_metric, too_small_metric

    by_key = {(p.scheme, p.model, p.target): p for p in predictions}
    metrics = []
    for group in context.subgroups:
        mask = group.mask(context.holdout)
        n = int(mask.sum())
        weights = context.w_holdout[:, mask]
        for target in TARGETS:
            y = outcome(context.holdout, target)[mask]
            for model in MODELS:
                aurocs = {}
                for scheme in SCHEMES:
                    prediction = by_key[(scheme, model, target)]
                    names = [f"{scheme}_{score}_{model}_{target}" for score in ("auroc", "auprc", "brier")]
                    if context.below_minimum(group):
                        metrics.extend(too_small_metric("utility", name, group.label, n) for name in names)
                        continue
                    if prediction.probabilities is None:
                        empty = np.full(weights.shape[0], np.nan)
                        metrics.extend(make_metric("utility", name, group.label, None, None, n) for name in names)
                        aurocs[scheme] = empty
                        continue
                    p = prediction.probabilities[mask]
                    aurocs[scheme] = weighted_auroc(y, p, weights)
                    for name, values in zip(names, (aurocs[scheme], weighted_average_precision(y, p, weights), weighted_brier(y, p, weights))):
                        metrics.append(make_metric("utility", name, group.label, values[0], values[1:], n))
                gap_name = f"tstr_minus_trtr_auroc_{model}_{target}"
                if context.below_minimum(group):
                    metrics.append(too_small_metric("utility", gap_name, group.label, n))
                else:
                    gap = aurocs["tstr"] - aurocs["trtr"]
                    metrics.append(make_metric("utility", gap_name, group.label, gap[0], gap[1:], n))
    return metrics
