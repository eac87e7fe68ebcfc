"""Numeric encodings of mart rows for classifiers and nearest-neighbour distances.

Column roles come from the mart's TableSchema (`kind` of each column). Categorical columns are
one-hot encoded over the categories seen in any of the compared tables. Binary, count and
continuous columns are scaled with statistics of the reference (real training) rows only, so
that no holdout or synthetic value shapes the scale.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models_ml.table_schema import TableSchema

MISSING_CATEGORY = "(missing)"
OUTCOME_COLUMNS = ("hospital_expire_flag", "readmit_30d")


def columns_of_kind(schema: TableSchema, kinds: tuple[str, ...], present_in: pd.DataFrame | None = None) -> list[str]:
    names = [c.name for c in schema.columns if c.kind in kinds]
    if present_in is not None:
        names = [name for name in names if name in present_in.columns]
    return names


def non_id_columns(schema: TableSchema, frame: pd.DataFrame) -> list[str]:
    return [c.name for c in schema.columns if c.kind != "id" and c.name in frame.columns]


def base_columns(schema: TableSchema, frame: pd.DataFrame) -> list[str]:
    """Columns a generator produces or takes as a condition: no ids and nothing dbt derives."""
    return [c.name for c in schema.columns if c.kind != "id" and not c.derived and c.name in frame.columns]


@dataclass
class TabularEncoder:
    """One-hot for categorical columns, scaled numbers for the others.

    `scaling` is 'standard' (z-scores, for linear classifiers) or 'range' (divided by the
    reference range, for distances). With 'range', one-hot columns are multiplied by 1/sqrt(2),
    so that a differing category adds 1 to the squared distance, as a differing binary value does.
    """

    schema: TableSchema
    columns: list[str]
    scaling: str = "standard"
    categories: dict[str, list[str]] = field(default_factory=dict)
    centre: dict[str, float] = field(default_factory=dict)
    scale: dict[str, float] = field(default_factory=dict)

    def fit(self, reference: pd.DataFrame, others: list[pd.DataFrame] | None = None) -> "TabularEncoder":
        frames = [reference] + list(others or [])
        for name in self.columns:
            kind = self.schema[name].kind
            if kind == "categorical":
                values: set[str] = set()
                for frame in frames:
                    values.update(_as_category(frame[name]).unique())
                self.categories[name] = sorted(values)
                continue

            values_ref = pd.to_numeric(reference[name], errors="coerce").astype(float)
            if self.scaling == "range":
                low, high = values_ref.min(), values_ref.max()
                self.centre[name] = float(low) if np.isfinite(low) else 0.0
                spread = float(high - low) if np.isfinite(high - low) else 0.0
            else:
                self.centre[name] = float(values_ref.mean()) if values_ref.notna().any() else 0.0
                spread = float(values_ref.std(ddof=0)) if values_ref.notna().sum() > 1 else 0.0
            self.scale[name] = spread if spread > 0 else 1.0
        return self

    def transform(self, frame: pd.DataFrame) -> np.ndarray:
        blocks = []
        for name in self.columns:
            if name in self.categories:
                values = _as_category(frame[name]).to_numpy()
                levels = np.array(self.categories[name], dtype=object)
                one_hot = (values[:, None] == levels[None, :]).astype(float)
                if self.scaling == "range":
                    one_hot /= np.sqrt(2.0)
                blocks.append(one_hot)
                continue
            numbers = pd.to_numeric(frame[name], errors="coerce").astype(float).to_numpy()
            numbers = np.where(np.isnan(numbers), self.centre[name], numbers)
            blocks.append(((numbers - self.centre[name]) / self.scale[name])[:, None])
        if not blocks:
            return np.zeros((len(frame), 0))
        return np.hstack(blocks)


def _as_category(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), MISSING_CATEGORY).astype(str)


def category_codes(series: pd.Series, levels: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """Integer codes of a column's values as strings, over `levels` or the sorted values seen."""
    values = _as_category(series)
    levels = sorted(values.unique()) if levels is None else levels
    codes = pd.Categorical(values, categories=levels).codes
    if (codes < 0).any():
        raise ValueError(f"column {series.name}: value {values[codes < 0].iloc[0]!r} is not in the levels")
    return codes.astype(int), levels


def as_text_columns(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Copy of `frame` with the given columns as strings (missing values as a category of their own)."""
    frame = frame.copy()
    for name in columns:
        if name in frame.columns:
            frame[name] = _as_category(frame[name])
    return frame
