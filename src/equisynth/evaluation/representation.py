"""Representation: each group's share in the real, synthetic and final training data.

Log disparity follows Bhanot et al., "The Problem of Fairness in Synthetic Healthcare Data",
Entropy 23(9):1165, 2021 (doi:10.3390/e23091165): the log of a subgroup's share in the synthetic
data over its share in the real data; 0 is equal representation, negative under-representation.
Shares are counts of whole tables, not estimates on the holdout, so these numbers carry no
too-small mark; `n` gives the group's synthetic rows.
"""

import json
import logging

import numpy as np
import pandas as pd

from equisynth.evaluation.bootstrap import weighted_mean
from equisynth.evaluation.metrics_table import make_metric

log = logging.getLogger(__name__)


def log_disparity(synthetic_share: np.ndarray, real_share: np.ndarray) -> np.ndarray:
    """ln(synthetic share / real share); NaN where either share is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.asarray(synthetic_share, dtype=float) / np.asarray(real_share, dtype=float)
        return np.where((ratio > 0) & np.isfinite(ratio), np.log(np.where(ratio > 0, ratio, 1.0)), np.nan)


def final_training_set(context) -> tuple[pd.DataFrame, np.ndarray]:
    """Return the rows a researcher trains on after rebalancing, with their bootstrap weights."""
    if context.mode == "augment":
        return (pd.concat([context.train, context.synthetic], ignore_index=True),
                np.hstack([context.w_train, context.w_synthetic]))
    return context.synthetic, context.w_synthetic


def _plan_mask(frame: pd.DataFrame, attributes: dict) -> np.ndarray:
    mask = np.ones(len(frame), dtype=bool)
    for column, value in attributes.items():
        mask &= frame[column].astype(str).to_numpy() == str(value)
    return mask


def representation_metrics(context) -> list:
    metrics = []
    for group in context.subgroups:
        if not group.conditions:
            continue
        real = weighted_mean(group.mask(context.train).astype(float), context.w_train)
        synthetic = weighted_mean(group.mask(context.synthetic).astype(float), context.w_synthetic)
        n = int(group.mask(context.synthetic).sum())
        disparity = log_disparity(synthetic, real)
        metrics.append(make_metric("representation", "real_share", group.label, real[0], real[1:], int(group.mask(context.train).sum())))
        metrics.append(make_metric("representation", "synthetic_share", group.label, synthetic[0], synthetic[1:], n))
        metrics.append(make_metric("representation", "log_disparity", group.label, disparity[0], disparity[1:], n))

    if context.plan is None or context.plan.empty:
        return metrics

    # Shares are taken within the plan's population: the rows of the rebalance spec's `within`
    # restriction (for example multimorbid = 1) that belong to one of the plan's groups.
    final, weights = final_training_set(context)
    population = np.ones(len(final), dtype=bool)
    if context.within:
        column, value = context.within
        population = final[column].astype(str).to_numpy() == value
    plan_masks = {
        row.group_label: _plan_mask(final, json.loads(row.attributes_json)) & population
        for row in context.plan.itertuples()
    }
    in_plan = np.zeros(len(final), dtype=bool)
    for mask in plan_masks.values():
        in_plan |= mask
    for row in context.plan.itertuples():
        label = " & ".join(f"{k}={v}" for k, v in json.loads(row.attributes_json).items())
        mask = plan_masks[row.group_label]
        with np.errstate(invalid="ignore", divide="ignore"):
            achieved = (weights @ mask.astype(float)) / (weights @ in_plan.astype(float))
        target = np.full_like(achieved, float(row.target_share))
        n = int(mask.sum())
        metrics.append(make_metric("representation", "target_share", label, row.target_share, None, n))
        metrics.append(make_metric("representation", "achieved_share", label, achieved[0], achieved[1:], n))
        gap = log_disparity(achieved, target)
        metrics.append(make_metric("representation", "target_log_disparity", label, gap[0], gap[1:], n))
    return metrics
