"""Condition attributes: their vocabularies, the per-row condition table of a request, and embeddings.

Every condition attribute has its own vocabulary and its own embedding table, so any combination
of values seen in training can be requested, including combinations no training row has. Index 0
of every vocabulary is the null value used for classifier-free guidance (the condition dropped).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import torch
from torch import nn

from equisynth.errors import InputDataError

log = logging.getLogger(__name__)

COUNT_COLUMN = "count"


def _scalar(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or (isinstance(value, str) and value.strip() == "")


class ConditionEncoder:
    """Vocabulary of each condition attribute and the training frequency of each combination."""

    def __init__(self, attributes: list[str]) -> None:
        self.attributes = list(attributes)
        self.vocabularies: dict[str, list] = {}
        self.combinations = pd.DataFrame(columns=[*self.attributes, COUNT_COLUMN])

    def fit(self, table: pd.DataFrame) -> "ConditionEncoder":
        for attribute in self.attributes:
            if table[attribute].isna().any():
                raise InputDataError(
                    f"Condition column {attribute} has {int(table[attribute].isna().sum())} missing value(s); "
                    "a condition needs a value on every training row. Fill it in the mart or drop its `condition` meta."
                )
            values = {_scalar(value) for value in table[attribute].tolist()}
            self.vocabularies[attribute] = sorted(values, key=str)
        normalised = pd.DataFrame({a: [_scalar(v) for v in table[a].tolist()] for a in self.attributes})
        self.combinations = (
            normalised.groupby(self.attributes, dropna=False).size().rename(COUNT_COLUMN).reset_index()
        )
        return self

    @property
    def cardinalities(self) -> list[int]:
        """Vocabulary size of each attribute, counting the null value at index 0."""
        return [len(self.vocabularies[attribute]) + 1 for attribute in self.attributes]

    def encode(self, conditions: pd.DataFrame) -> np.ndarray:
        """Map a per-row condition table to indices (rows, attributes); 0 is never returned."""
        codes = np.zeros((len(conditions), len(self.attributes)), dtype=np.int64)
        for j, attribute in enumerate(self.attributes):
            lookup = {value: i + 1 for i, value in enumerate(self.vocabularies[attribute])}
            values = [_scalar(value) for value in conditions[attribute].tolist()]
            unknown = sorted({str(value) for value in values if value not in lookup})
            if unknown:
                raise InputDataError(
                    f"Condition {attribute} = {', '.join(unknown)} was never seen in training, so the model has "
                    f"no embedding for it. Known values: {', '.join(map(str, self.vocabularies[attribute]))}."
                )
            codes[:, j] = [lookup[value] for value in values]
        return codes

    def rows_for_total(self, n: int, rng: np.random.Generator) -> pd.DataFrame:
        """Draw `n` condition rows from the training distribution of combinations."""
        return self._draw(self.combinations, n, rng)

    def rows_for_counts(self, counts: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        """Expand a request (a column per specified attribute, plus `count`) to one condition row per requested row.

        Attributes a request row leaves out (no column, or an empty value) are drawn from the training combinations that match
        the specified ones; where none match, from the joint training distribution of the
        unspecified attributes alone.
        """
        self._check_request(counts)
        specified = [a for a in self.attributes if a in counts.columns]

        parts = []
        for _, request in counts.iterrows():
            n = int(request[COUNT_COLUMN])
            values = {a: _scalar(request[a]) for a in specified if not _is_blank(request[a])}
            self.encode(pd.DataFrame({a: [values.get(a, self.vocabularies[a][0])] for a in self.attributes}))
            if n == 0:
                continue
            if len(values) == len(self.attributes):
                parts.append(pd.DataFrame({a: [values[a]] * n for a in self.attributes}))
                continue
            matches = self.combinations
            for attribute, value in values.items():
                matches = matches[matches[attribute].map(_scalar) == value]
            if matches.empty:
                log.info("no training rows with %s; drawing the other conditions from their joint distribution", values)
                matches = self.combinations
            drawn = self._draw(matches, n, rng)
            for attribute, value in values.items():
                drawn[attribute] = value
            parts.append(drawn)
        if not parts:
            return pd.DataFrame({a: pd.Series(dtype=object) for a in self.attributes})
        return pd.concat(parts, ignore_index=True)[self.attributes]

    def _check_request(self, counts: pd.DataFrame) -> None:
        if COUNT_COLUMN not in counts.columns:
            raise InputDataError(f"The request of counts has no `{COUNT_COLUMN}` column; add one with the rows wanted per combination.")
        unknown = [c for c in counts.columns if c != COUNT_COLUMN and c not in self.attributes]
        if unknown:
            raise InputDataError(
                f"The request of counts has column(s) {', '.join(unknown)} that are not condition attributes "
                f"of this model. Conditions: {', '.join(self.attributes)}."
            )
        count = pd.to_numeric(counts[COUNT_COLUMN], errors="coerce")
        if count.isna().any() or (count < 0).any() or (count % 1 != 0).any():
            bad = counts.loc[count.isna() | (count < 0) | (count % 1 != 0), COUNT_COLUMN].tolist()
            raise InputDataError(f"The request column `{COUNT_COLUMN}` must contain non-negative integers; found {bad[:5]}.")

    def _draw(self, combinations: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
        weights = combinations[COUNT_COLUMN].to_numpy(float)
        picks = rng.choice(len(combinations), size=n, replace=True, p=weights / weights.sum())
        return combinations.iloc[picks][self.attributes].reset_index(drop=True)

    def to_dict(self) -> dict:
        return {
            "attributes": self.attributes,
            "vocabularies": self.vocabularies,
            "combinations": {c: [_scalar(v) for v in self.combinations[c].tolist()] for c in self.combinations.columns},
        }

    @classmethod
    def from_dict(cls, data: dict) -> "ConditionEncoder":
        encoder = cls(data["attributes"])
        encoder.vocabularies = {a: list(v) for a, v in data["vocabularies"].items()}
        encoder.combinations = pd.DataFrame(data["combinations"])[[*encoder.attributes, COUNT_COLUMN]]
        return encoder


class ConditionEmbedding(nn.Module):
    """One embedding table per attribute; the attribute vectors are concatenated or summed.

    Input: indices (batch, attributes), 0 for a dropped attribute. Output: (batch, output_dim).
    """

    def __init__(self, cardinalities: list[int], dim: int, reduce: str = "concat") -> None:
        super().__init__()
        self.tables = nn.ModuleList(nn.Embedding(size, dim) for size in cardinalities)
        self.reduce = reduce
        self.output_dim = dim * len(cardinalities) if reduce == "concat" else dim

    def forward(self, codes: torch.Tensor) -> torch.Tensor:
        vectors = [table(codes[:, j]) for j, table in enumerate(self.tables)]
        if self.reduce == "concat":
            return torch.cat(vectors, dim=1)
        return torch.stack(vectors, dim=0).sum(dim=0)
