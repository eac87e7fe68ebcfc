"""Post-stratification of the real reference rows to a rebalanced generation's mix of groups.

A rebalanced generation has a different mix of its rebalanced groups than the real rows by
design, so every other column is expected to follow the real distribution conditional on that
mix, not the overall one. Each real row of stratum g gets the weight s_g / n_g, where s_g is the
synthetic share of g and n_g the number of real rows of g. The weights sum to 1, and the
weighted real rows have the synthetic mix.

Synthetic strata without real rows cannot be reweighted. Their share s_u is spread evenly over
all N real rows (each gets s_u / N more), so those synthetic rows are compared with the
unweighted real distribution.
"""

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

log = logging.getLogger(__name__)

NULL_LABEL = "NULL"


@dataclass
class Stratum:
    """One combination of the rebalanced attributes, with its real and synthetic rows."""

    label: str  # e.g. "ethnicity_group=BLACK & insurance=Medicaid"
    real_rows: int
    real_share: float
    synthetic_rows: int
    synthetic_share: float

    @property
    def reweighted(self) -> bool:
        return self.real_rows > 0


@dataclass
class ReferenceWeights:
    """Weights of the real reference rows (summing to 1) and the strata they come from."""

    columns: list[str]
    weights: np.ndarray
    strata: list[Stratum]

    @property
    def unmatched_share(self) -> float:
        """Share of the synthetic rows in strata without real rows, compared with the unweighted reference."""
        return sum(stratum.synthetic_share for stratum in self.strata if not stratum.reweighted)


def stratum_labels(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Label each row with its values of `columns`, as `column=value` joined with ` & `."""
    parts = [
        column + "=" + frame[column].map(lambda value: NULL_LABEL if pd.isna(value) else str(value))
        for column in columns
    ]
    labels = parts[0]
    for part in parts[1:]:
        labels = labels + " & " + part
    return labels


def poststratification_weights(reference: pd.DataFrame, synthetic_counts: pd.Series, columns: list[str]) -> ReferenceWeights:
    """Weight the reference rows to the synthetic mix over `columns`.

    `synthetic_counts` maps each stratum label (see `stratum_labels`) to its synthetic rows.
    """
    labels = stratum_labels(reference, columns)
    real_counts = labels.value_counts()
    real_total = len(reference)
    synthetic_total = int(synthetic_counts.sum())
    if real_total == 0 or synthetic_total == 0:
        raise ValueError("post-stratification needs real and synthetic rows")

    strata = []
    for label in sorted(set(real_counts.index) | set(synthetic_counts.index)):
        real_rows = int(real_counts.get(label, 0))
        synthetic_rows = int(synthetic_counts.get(label, 0))
        strata.append(Stratum(label, real_rows, real_rows / real_total, synthetic_rows, synthetic_rows / synthetic_total))

    per_row = {stratum.label: stratum.synthetic_share / stratum.real_rows for stratum in strata if stratum.reweighted}
    result = ReferenceWeights(columns=list(columns), weights=np.zeros(real_total), strata=strata)
    result.weights = labels.map(per_row).to_numpy(dtype=float) + result.unmatched_share / real_total

    for stratum in strata:
        if stratum.synthetic_rows and not stratum.reweighted:
            log.warning(
                "Synthetic stratum %s (%d rows) has no real reference rows, so it is compared with the unweighted real rows.",
                stratum.label, stratum.synthetic_rows,
            )
    return result


def kish_effective_size(weights: np.ndarray) -> float:
    """Kish's effective sample size (sum w)^2 / sum w^2; equals the row count for equal weights."""
    weights = np.asarray(weights, dtype=float)
    squares = float(np.sum(weights**2))
    return float(np.sum(weights)) ** 2 / squares if squares > 0 else 0.0


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, probabilities: list[float]) -> np.ndarray:
    """Quantiles of weighted values, by linear interpolation between the rows' weight midpoints.

    Row i (sorted by value, cumulative weight S_i) sits at (S_i - w_i/2 - w_1/2) / (S_n - w_1/2 - w_n/2),
    so the smallest value is quantile 0 and the largest is quantile 1. With equal weights this is
    (i - 1) / (n - 1), the linear interpolation that pandas and numpy use by default.
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    if values.size == 0:
        raise ValueError("weighted quantiles need at least one row with a positive weight")

    order = np.argsort(values, kind="stable")
    values, weights = values[order], weights[order]
    if values.size == 1:
        return np.full(len(probabilities), values[0])

    cumulative = np.cumsum(weights)
    positions = (cumulative - weights / 2 - weights[0] / 2) / (cumulative[-1] - weights[0] / 2 - weights[-1] / 2)
    return np.interp(np.clip(probabilities, 0.0, 1.0), positions, values)
