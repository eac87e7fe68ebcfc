"""Identifiers of decoded synthetic tables, in ranges disjoint from MIMIC-III's.

MIMIC-III v1.4 uses subject_id below 100,000, hadm_id 100,000-199,999 and icustay_id
200,000-299,999, and no table's row_id reaches 10,000,000 except the large event tables. The
synthetic ranges start well above them; where a loaded input has larger ids, a range starts at
the next million above the input's largest id, so synthetic and real ids never coincide.
"""

import numpy as np

SUBJECT_ID_START = 1_000_000
HADM_ID_START = 2_000_000
ICUSTAY_ID_START = 3_000_000
ROW_ID_START = 10_000_000


def id_start(default: int, largest_real_id: int | None) -> int:
    """Return the first synthetic id: `default`, or the next million above the largest real id."""
    if largest_real_id is None or largest_real_id < default:
        return default
    return (int(largest_real_id) // 1_000_000 + 1) * 1_000_000


def id_range(start: int, count: int) -> np.ndarray:
    return np.arange(start, start + count, dtype=np.int64)
