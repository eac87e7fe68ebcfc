"""Subgroups of the evaluation: each condition attribute's values and their intersections."""

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from equisynth.evaluation.metrics_table import OVERALL


@dataclass(frozen=True)
class Subgroup:
    """Rows whose columns equal the given values; no conditions means every row ('overall')."""

    conditions: tuple[tuple[str, str], ...]

    @property
    def label(self) -> str:
        if not self.conditions:
            return OVERALL
        return " & ".join(f"{column}={value}" for column, value in self.conditions)

    @property
    def attributes(self) -> tuple[str, ...]:
        return tuple(column for column, _ in self.conditions)

    def mask(self, frame: pd.DataFrame) -> np.ndarray:
        selected = np.ones(len(frame), dtype=bool)
        for column, value in self.conditions:
            values = frame[column]
            if values.dtype != object and not pd.api.types.is_string_dtype(values):
                values = values.astype(str)
            selected &= values.to_numpy() == value
        return selected


OVERALL_GROUP = Subgroup(())


def attribute_families(attributes: list[str], max_intersection: int) -> list[tuple[str, ...]]:
    """List each attribute alone, then every combination of 2..max_intersection attributes."""
    families: list[tuple[str, ...]] = []
    for size in range(1, max(1, max_intersection) + 1):
        families.extend(combinations(attributes, size))
    return families


def subgroups_of(frames: list[pd.DataFrame], families: list[tuple[str, ...]]) -> list[Subgroup]:
    """List every cell of every family seen in any of the frames, in a stable order."""
    groups: list[Subgroup] = []
    for family in families:
        seen: set[tuple[str, ...]] = set()
        for frame in frames:
            if len(frame) == 0:
                continue
            cells = frame[list(family)].astype(str).drop_duplicates().itertuples(index=False, name=None)
            seen.update(cells)
        for cell in sorted(seen):
            groups.append(Subgroup(tuple(zip(family, cell))))
    return groups
