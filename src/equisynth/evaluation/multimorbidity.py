"""Multimorbidity structure: Elixhauser count, condition co-occurrence and frequent combinations."""

import numpy as np
import pandas as pd

from equisynth.evaluation.bootstrap import weighted_category_counts, weighted_correlation
from equisynth.evaluation.fidelity import mean_abs_matrix_difference, nanmean_rows, tvd_resampled

NO_CONDITION = "(none)"
TOP_COMBINATIONS = 20


def elixhauser_count(frame: pd.DataFrame, flags: list[str]) -> pd.Series:
    """Return the mart's `elixhauser_count`, or the sum of the flags where the column is absent."""
    if "elixhauser_count" in frame.columns:
        return pd.to_numeric(frame["elixhauser_count"], errors="coerce").fillna(0).astype(int)
    return frame[flags].apply(pd.to_numeric, errors="coerce").fillna(0).sum(axis=1).astype(int)


def count_distribution_resampled(real: pd.DataFrame, synthetic: pd.DataFrame, flags: list[str],
                                 w_real: np.ndarray, w_syn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """TVD of the Elixhauser count distributions and the difference of their means (synthetic - real)."""
    real_count, syn_count = elixhauser_count(real, flags), elixhauser_count(synthetic, flags)
    tvd = tvd_resampled(real_count, syn_count, w_real, w_syn)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_real = (w_real @ real_count.to_numpy(float)) / w_real.sum(axis=1)
        mean_syn = (w_syn @ syn_count.to_numpy(float)) / w_syn.sum(axis=1)
    return tvd, mean_syn - mean_real


def phi_matrix(frame: pd.DataFrame, flags: list[str], weights: np.ndarray) -> np.ndarray:
    """(B, k, k) phi coefficients of the binary flags: the Pearson correlation of 0/1 columns."""
    matrix = frame[flags].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy(float)
    return weighted_correlation(matrix, weights)


def cooccurrence_difference_resampled(real: pd.DataFrame, synthetic: pd.DataFrame, flags: list[str],
                                      w_real: np.ndarray, w_syn: np.ndarray) -> np.ndarray:
    """Mean absolute difference of the phi matrices, over condition pairs defined in both."""
    if len(flags) < 2:
        return np.full(w_real.shape[0], np.nan)
    return mean_abs_matrix_difference(phi_matrix(real, flags, w_real), phi_matrix(synthetic, flags, w_syn))


def combination_labels(frame: pd.DataFrame, flags: list[str]) -> pd.Series:
    """Label each row with its set of present conditions, e.g. 'elix_chf + elix_renal_failure'."""
    present = frame[flags].apply(pd.to_numeric, errors="coerce").fillna(0).to_numpy() > 0
    names = np.array(flags, dtype=object)
    labels = [" + ".join(names[row]) if row.any() else NO_CONDITION for row in present]
    return pd.Series(labels, index=frame.index, dtype=object)


def top_combinations(real: pd.DataFrame, synthetic: pd.DataFrame, flags: list[str],
                     top: int = TOP_COMBINATIONS) -> pd.DataFrame:
    """List the `top` most frequent condition combinations of the real rows, with both prevalences."""
    real_labels, syn_labels = combination_labels(real, flags), combination_labels(synthetic, flags)
    real_share = real_labels.value_counts(normalize=True)
    syn_share = syn_labels.value_counts(normalize=True)
    chosen = real_share.sort_values(ascending=False, kind="stable").head(top)
    return pd.DataFrame({
        "combination": chosen.index,
        "real_prevalence": chosen.to_numpy(),
        "synthetic_prevalence": [float(syn_share.get(label, 0.0)) for label in chosen.index],
    })


def top_combination_difference_resampled(real: pd.DataFrame, synthetic: pd.DataFrame, flags: list[str],
                                         w_real: np.ndarray, w_syn: np.ndarray,
                                         top: int = TOP_COMBINATIONS) -> np.ndarray:
    """Mean absolute prevalence difference over the real data's `top` combinations (fixed by the point estimate)."""
    chosen = top_combinations(real, synthetic, flags, top)["combination"].tolist()
    if not chosen:
        return np.full(w_real.shape[0], np.nan)
    levels = chosen + ["(other)"]
    lookup = {label: index for index, label in enumerate(chosen)}
    real_codes = combination_labels(real, flags).map(lambda label: lookup.get(label, len(chosen))).to_numpy(int)
    syn_codes = combination_labels(synthetic, flags).map(lambda label: lookup.get(label, len(chosen))).to_numpy(int)
    p = weighted_category_counts(real_codes, len(levels), w_real)
    q = weighted_category_counts(syn_codes, len(levels), w_syn)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = p / p.sum(axis=1, keepdims=True)
        q = q / q.sum(axis=1, keepdims=True)
    return nanmean_rows(np.abs(p[:, :-1] - q[:, :-1]), axis=1)


