"""Groups of 0/1 columns that are nested in the training data, to be encoded as one category.

Diagnosis flags often nest: every Charlson heart-failure code is also an Elixhauser one, so
`cci_chf = 1` implies `elix_chf = 1`, and every heart-failure code lies in the circulatory chapter.
A generator that draws each flag on its own breaks such rules on a share of its rows (the
diffusion model's per-block sampling broke the heart-failure pair on about a fifth of them).
Encoding a nested group as one categorical column over the combinations seen in training makes
a broken combination impossible to generate.

A pair (a inside b) counts only when chance alone would rarely produce it. When `a` is 1 on
`n` rows and `b` is 1 on a share `p` of all rows, the chance that all `n` rows have `b = 1`
is `p ** n`, and it must be under `CHANCE`. Groups are built greedily from
the tightest pairs (the share of `b`'s ones that `a` covers), up to `MAX_GROUP` columns and
`MAX_COMBINATIONS` observed combinations, so each stays a small one-hot block.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CHANCE = 1e-6
MAX_GROUP = 3
MAX_COMBINATIONS = 6


def nested_groups(table: pd.DataFrame, columns: list[str]) -> list[list[str]]:
    """Return groups (each sorted as in `columns`) of 0/1 columns that nest in `table`."""
    flags = [name for name in columns if _is_flag(table[name])]
    if len(flags) < 2 or len(table) == 0:
        return []
    x = table[flags].to_numpy(np.int64)
    ones = x.sum(axis=0)
    share = ones / len(x)
    both = x.T @ x

    pairs = []
    for a in range(len(flags)):
        for b in range(len(flags)):
            if a == b or ones[a] == 0 or not 0 < share[b] < 1 or both[a, b] != ones[a]:
                continue
            if share[b] ** ones[a] < CHANCE:
                pairs.append((-ones[a] / ones[b], flags[a], flags[b]))
    pairs.sort()

    group_of: dict[str, int] = {}
    groups: list[list[str]] = []
    for _, a, b in pairs:
        ga, gb = group_of.get(a), group_of.get(b)
        if ga is not None and ga == gb:
            continue
        members_a = groups[ga] if ga is not None else [a]
        members_b = groups[gb] if gb is not None else [b]
        members = members_a + members_b
        if len(members) > MAX_GROUP or combinations(table, members) > MAX_COMBINATIONS:
            continue
        index = len(groups)
        groups.append(members)
        for name in members:
            group_of[name] = index
        for old in {ga, gb} - {None}:
            groups[old] = []
    order = {name: position for position, name in enumerate(columns)}
    return [sorted(group, key=order.__getitem__) for group in groups if group]


def combinations(table: pd.DataFrame, members: list[str]) -> int:
    return len(table[members].drop_duplicates())


def encode(table: pd.DataFrame, members: list[str]) -> pd.Series:
    """Pack the flags of each row into one integer. Bit i is the value of `members[i]`."""
    code = np.zeros(len(table), dtype=np.int64)
    for bit, name in enumerate(members):
        code |= table[name].to_numpy(np.int64) << bit
    return pd.Series(code, index=table.index)


def decode(codes: np.ndarray, members: list[str]) -> dict[str, np.ndarray]:
    codes = np.asarray(codes, dtype=np.int64)
    return {name: (codes >> bit) & 1 for bit, name in enumerate(members)}


def _is_flag(series: pd.Series) -> bool:
    if series.isna().any():
        return False
    values = pd.unique(series)
    return len(values) == 2 and set(pd.to_numeric(pd.Series(values), errors="coerce").tolist()) == {0, 1}
