"""Fixed vocabularies for text columns: only values seen for at least k distinct real training patients.

A value that few patients share (a rare free-text diagnosis, an unusual ward) could point at a
person, so decoded tables draw text only from these vocabularies, in proportion to the number of
training patients that have each value; where a vocabulary is empty the column is NULL or gets
a generic value.
"""

import numpy as np
import pandas as pd


def frequent_values(con, table: str, column: str, train_subjects: str, k: int, where: str = "true") -> pd.Series:
    """Values of raw.<table>.<column> seen for at least k training patients, with their patient counts.

    `train_subjects` is a SQL query returning the training subject_ids.
    """
    query = f"""
        select {column} as value, count(distinct subject_id) as patients
        from raw.{table}
        where {column} is not null
          and subject_id in ({train_subjects})
          and ({where})
        group by 1
        having count(distinct subject_id) >= ?
        order by patients desc, value
    """
    counts = con.execute(query, [k]).fetchdf()
    return pd.Series(counts["patients"].to_numpy(), index=counts["value"].to_numpy(), dtype=float)


def sample_values(vocabulary: pd.Series, size: int, rng: np.random.Generator, default=None) -> np.ndarray:
    """Draw `size` values in proportion to their patient counts; `default` where the vocabulary is empty."""
    if size == 0:
        return np.array([], dtype=object)
    if vocabulary.empty:
        return np.array([default] * size, dtype=object)
    weights = vocabulary.to_numpy(dtype=float)
    picked = rng.choice(len(vocabulary), size=size, p=weights / weights.sum())
    return vocabulary.index.to_numpy(dtype=object)[picked]
