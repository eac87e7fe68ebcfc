"""Everything one evaluation needs: the three row sets, column roles, subgroups and bootstrap weights."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from equisynth.evaluation.bootstrap import resample_weights, with_point_row
from equisynth.evaluation.encoding import as_text_columns
from equisynth.evaluation.subgroups import OVERALL_GROUP, Subgroup, attribute_families, subgroups_of
from models_ml.table_schema import TableSchema


@dataclass
class EvaluationContext:
    """Inputs of every area. Weight matrices have the point row (all ones) first, then the resamples."""

    generation_id: str
    mode: str
    schema: TableSchema
    train: pd.DataFrame
    holdout: pd.DataFrame
    synthetic: pd.DataFrame
    conditions: list[str]
    max_intersection: int = 2
    min_rows: int = 30
    bootstrap: int = 200
    seed: int = 0
    sensitive_column: str | None = None
    quasi_identifiers: list[str] = field(default_factory=list)
    plan: pd.DataFrame | None = None
    within: tuple[str, str] | None = None
    subgroups: list[Subgroup] = field(init=False)
    w_train: np.ndarray = field(init=False)
    w_holdout: np.ndarray = field(init=False)
    w_synthetic: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        # Categories and conditions as strings once, so that masks and codes need no conversion.
        text = [c.name for c in self.schema.columns if c.kind == "categorical" or c.condition] + list(self.conditions)
        if self.within:
            text.append(self.within[0])
        self.train = as_text_columns(self.train.reset_index(drop=True), text)
        self.holdout = as_text_columns(self.holdout.reset_index(drop=True), text)
        self.synthetic = as_text_columns(self.synthetic.reset_index(drop=True), text)
        families = attribute_families(self.conditions, self.max_intersection)
        self.subgroups = [OVERALL_GROUP] + subgroups_of([self.train, self.holdout, self.synthetic], families)

        rng = np.random.default_rng(self.seed)
        self.w_train = with_point_row(resample_weights(len(self.train), self.bootstrap, rng))
        self.w_holdout = with_point_row(resample_weights(len(self.holdout), self.bootstrap, rng))
        self.w_synthetic = with_point_row(resample_weights(len(self.synthetic), self.bootstrap, rng))

    def holdout_rows(self, group: Subgroup) -> int:
        return int(group.mask(self.holdout).sum())

    def below_minimum(self, group: Subgroup) -> bool:
        """Tell whether a subgroup (never 'overall') has fewer holdout rows than the minimum."""
        return bool(group.conditions) and self.holdout_rows(group) < self.min_rows

    def columns_of_kind(self, *kinds: str) -> list[str]:
        return [c.name for c in self.schema.columns if c.kind in kinds and c.name in self.train.columns]
