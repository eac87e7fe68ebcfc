"""Bootstrap resampling as weight matrices, and weighted statistics that take them.

A resample of n rows is a row of multinomial counts (how often each row was drawn). Stacking B
resamples gives a (B, n) matrix W, so a weighted statistic over all resamples is one matrix
product instead of B Python calls. Models are never refitted: intervals cover the sampling
variation of the evaluation rows, not of model training.
"""

import numpy as np

CI_LEVEL = 0.95


def resample_weights(n: int, n_resamples: int, rng: np.random.Generator) -> np.ndarray:
    """Return a (n_resamples, n) matrix of bootstrap counts; each row sums to n."""
    # NOTE: rows (admissions) are resampled independently, not patients, so intervals are somewhat
    # narrow for patients with several admissions.
    if n == 0:
        return np.zeros((n_resamples, 0))
    return rng.multinomial(n, np.full(n, 1.0 / n), size=n_resamples).astype(float)


def percentile_interval(values: np.ndarray) -> tuple[float | None, float | None]:
    """Return the 2.5th and 97.5th percentiles of finite bootstrap values, or (None, None)."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size < 2:
        return None, None
    tail = (1.0 - CI_LEVEL) / 2.0 * 100.0
    low, high = np.percentile(finite, [tail, 100.0 - tail])
    return float(low), float(high)


def weighted_mean(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Mean of `values` (n,) under each row of `weights` (B, n); NaN where a row sums to 0."""
    totals = weights.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (weights @ np.asarray(values, dtype=float)) / totals


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> np.ndarray:
    """Lower q-quantile of `values` under each row of `weights`, as in numpy's 'inverted_cdf'."""
    order = np.argsort(values, kind="stable")
    sorted_values = np.asarray(values, dtype=float)[order]
    cumulative = np.cumsum(weights[:, order], axis=1)
    totals = cumulative[:, -1:] if cumulative.shape[1] else np.zeros((weights.shape[0], 1))
    result = np.full(weights.shape[0], np.nan)
    valid = totals[:, 0] > 0
    if not valid.any():
        return result
    reached = cumulative[valid] >= q * totals[valid] - 1e-12
    result[valid] = sorted_values[reached.argmax(axis=1)]
    return result


def _tie_blocks(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Order by descending score and label each row with the index of its block of equal scores."""
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    block = np.concatenate([[0], np.cumsum(sorted_scores[1:] != sorted_scores[:-1])])
    return order, block


def _block_sums(matrix: np.ndarray, block: np.ndarray, n_blocks: int) -> np.ndarray:
    """Sum the columns of `matrix` within each run of equal, ascending block labels."""
    if n_blocks == 0:
        return np.zeros((matrix.shape[0], 0))
    starts = np.flatnonzero(np.concatenate([[True], block[1:] != block[:-1]]))
    return np.add.reduceat(matrix, starts, axis=1)


def weighted_auroc(y_true: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Area under the ROC curve under each row of `weights` (ties count one half); NaN if one class is absent."""
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(scores, dtype=float)
    order, block = _tie_blocks(s)
    n_blocks = int(block[-1]) + 1 if block.size else 0
    positive = _block_sums(weights[:, order] * y[order], block, n_blocks)
    negative = _block_sums(weights[:, order] * ~y[order], block, n_blocks)
    total_pos = positive.sum(axis=1)
    total_neg = negative.sum(axis=1)

    # Blocks run from the highest score down: a positive beats every negative in later blocks.
    negatives_below = total_neg[:, None] - np.cumsum(negative, axis=1)
    pairs = (positive * (negatives_below + 0.5 * negative)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        auc = pairs / (total_pos * total_neg)
    auc[(total_pos == 0) | (total_neg == 0)] = np.nan
    return auc


def weighted_average_precision(y_true: np.ndarray, scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average precision (scikit-learn's step-wise AUPRC) under each row of `weights`."""
    y = np.asarray(y_true).astype(bool)
    s = np.asarray(scores, dtype=float)
    order, block = _tie_blocks(s)
    n_blocks = int(block[-1]) + 1 if block.size else 0
    positive = _block_sums(weights[:, order] * y[order], block, n_blocks)
    negative = _block_sums(weights[:, order] * ~y[order], block, n_blocks)
    true_pos = np.cumsum(positive, axis=1)
    false_pos = np.cumsum(negative, axis=1)
    total_pos = true_pos[:, -1] if n_blocks else np.zeros(weights.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(true_pos + false_pos > 0, true_pos / (true_pos + false_pos), 0.0)
        ap = (positive * precision).sum(axis=1) / total_pos
    ap[total_pos == 0] = np.nan
    return ap


def weighted_brier(y_true: np.ndarray, probabilities: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Brier score (mean squared error of the probabilities) under each row of `weights`."""
    squared = (np.asarray(probabilities, dtype=float) - np.asarray(y_true, dtype=float)) ** 2
    return weighted_mean(squared, weights)


def with_point_row(weights: np.ndarray) -> np.ndarray:
    """Prepend a row of ones, so row 0 of every weighted statistic is the point estimate."""
    return np.vstack([np.ones((1, weights.shape[1])), weights])


def weighted_category_counts(codes: np.ndarray, n_levels: int, weights: np.ndarray) -> np.ndarray:
    """(B, n_levels) weighted counts of integer codes (n,) under each row of `weights` (B, n)."""
    from scipy import sparse

    n = len(codes)
    indicator = sparse.csr_matrix((np.ones(n), (np.arange(n), codes)), shape=(n, n_levels))
    return np.asarray((indicator.T @ weights.T).T)


def weighted_correlation(matrix: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(B, p, p) Pearson correlations of the columns of `matrix` (n, p); NaN for constant columns."""
    matrix = np.asarray(matrix, dtype=float)
    n_resamples, p = weights.shape[0], matrix.shape[1]
    result = np.full((n_resamples, p, p), np.nan)
    for b in range(n_resamples):
        w = weights[b]
        total = w.sum()
        if total <= 0:
            continue
        centred = matrix - (w @ matrix) / total
        covariance = (centred * w[:, None]).T @ centred / total
        sd = np.sqrt(np.clip(np.diag(covariance), 0, None))
        with np.errstate(invalid="ignore", divide="ignore"):
            correlation = covariance / np.outer(sd, sd)
        correlation[:, sd < 1e-12] = np.nan
        correlation[sd < 1e-12, :] = np.nan
        result[b] = correlation
    return result
