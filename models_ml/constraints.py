"""Rules that keep generated rows consistent with what dbt derives from them.

dbt recomputes `age_band` from `age` and `multimorbid` from the Elixhauser flags (after the
comorbidity hierarchy), so a generated row must already satisfy the condition it was asked for:
- age lies inside the requested band (done by the transformer's band scale, `band_specs` here);
- flags obey the hierarchy: a suppressed flag is 0 when its dominant flag is 1;
- `multimorbid = 1` rows count at least `threshold` flags, `multimorbid = 0` rows fewer. Missing
  flags are switched on, and the one flag a `multimorbid = 0` row keeps is chosen, at random in
  proportion to the model's own probabilities (the most probable flag when no random generator
  is given), so no row is filtered out. Always taking the most probable flag would inflate the
  commonest conditions (heart failure, say) on every row that needs one.
- `icu_days` is 0 on rows with `icu_stays = 0`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models_ml.table_schema import TableSchema
from models_ml.transformer import BandSpec

log = logging.getLogger(__name__)

# Numeric column -> band condition that dbt derives from it.
BANDED_COLUMNS = {"age": "age_band"}
MULTIMORBID_COLUMN = "multimorbid"
MULTIMORBID_FLAG_FAMILY = "elixhauser"
MULTIMORBID_THRESHOLD = 2
ICU_PAIRS = (("icu_stays", "icu_days"),)

_CLOSED_BAND = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*$")
_OPEN_BAND = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*\+\s*$")


def band_specs(table: pd.DataFrame, schema: TableSchema) -> dict[str, BandSpec]:
    """Bounds of each band value: parsed from labels like '18-44' and '80+', else the observed range.

    The upper bound of an open band ('80+') is the largest value seen in that band in training.
    """
    specs = {}
    for column, condition in BANDED_COLUMNS.items():
        if column not in schema.generated_columns or condition not in schema.condition_columns:
            continue
        observed = table.groupby(table[condition].astype(str))[column].agg(["min", "max"])
        bounds = {}
        for value, row in observed.iterrows():
            closed, open_ = _CLOSED_BAND.match(value), _OPEN_BAND.match(value)
            if closed:
                bounds[value] = (float(closed.group(1)), float(closed.group(2)))
            elif open_:
                bounds[value] = (float(open_.group(1)), float(max(row["max"], float(open_.group(1)))))
            else:
                bounds[value] = (float(row["min"]), float(row["max"]))
        specs[column] = BandSpec(condition, bounds)
    return specs


def _equivalence_classes(implications: dict[str, list[str]]) -> list[list[str]]:
    """Groups of flags that imply each other, each sorted with Elixhauser flags first."""
    parent: dict[str, str] = {}

    def root(flag: str) -> str:
        while parent.setdefault(flag, flag) != flag:
            flag = parent[flag]
        return flag

    for flag, others in implications.items():
        for other in others:
            if flag in implications.get(other, []):
                parent[root(other)] = root(flag)
    classes: dict[str, list[str]] = {}
    for flag in parent:
        classes.setdefault(root(flag), []).append(flag)
    return [sorted(members, key=lambda f: (not f.startswith("elix_"), f)) for members in classes.values() if len(members) > 1]


def apply_implications(
    rows: pd.DataFrame,
    implications: dict[str, list[str]],
    rows_mask: np.ndarray | None = None,
    skip_targets: set[str] = frozenset(),
    set_targets_only: bool = False,
) -> None:
    """Make flags that the same codes set agree, in place.

    Flags that imply each other (elix_chf and cci_chf) are one condition: every member takes the
    value of the class's first member, so the condition keeps that member's generated prevalence
    instead of the union of two nearly independent draws.

    A one-way implication (source -> target) that a row breaks is resolved in favour of the
    Elixhauser flag, the one the multimorbidity count uses: a Charlson source implying an
    Elixhauser target (cci_mild_liver -> elix_liver_disease) is switched off, so liver disease
    keeps its generated prevalence; otherwise the target is switched on. With `set_targets_only`
    every broken implication switches its target on, for flags the multimorbidity fill-in has
    just switched on. A target in `skip_targets` is never switched on: the source is switched
    off instead. `rows_mask` limits the change to some rows.
    """
    mask = np.ones(len(rows), dtype=bool) if rows_mask is None else np.asarray(rows_mask, dtype=bool)
    for members in _equivalence_classes(implications):
        present = [flag for flag in members if flag in rows]
        if len(present) < 2:
            continue
        for flag in present[1:]:
            if flag not in skip_targets:
                rows.loc[mask, flag] = rows.loc[mask, present[0]].to_numpy()
    for flag, others in implications.items():
        if flag not in rows:
            continue
        for other in others:
            if other not in rows:
                continue
            broken = mask & (rows[flag].to_numpy() == 1) & (rows[other].to_numpy() != 1)
            prefer_target = not set_targets_only and _is_elixhauser(other) and not _is_elixhauser(flag)
            if prefer_target or other in skip_targets:
                rows.loc[broken, flag] = 0
            else:
                rows.loc[broken, other] = 1


def _is_elixhauser(flag: str) -> bool:
    return flag.startswith("elix_")


@dataclass
class ConsistencyRules:
    """Hierarchy, multimorbidity and ICU rules applied to every generated batch."""

    hierarchy: list[tuple[str, str]] = field(default_factory=list)
    multimorbid_flags: list[str] = field(default_factory=list)
    multimorbid_condition: str | None = None
    threshold: int = MULTIMORBID_THRESHOLD
    switchable_flags: list[str] = field(default_factory=list)
    icu_pairs: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def for_schema(cls, schema: TableSchema, hierarchy: list[tuple[str, str]], table: pd.DataFrame) -> "ConsistencyRules":
        generated = set(schema.generated_columns)
        pairs = [(d, s) for d, s in hierarchy if d in generated and s in generated]
        flags = schema.flags(MULTIMORBID_FLAG_FAMILY)
        condition = MULTIMORBID_COLUMN if MULTIMORBID_COLUMN in schema.condition_columns and flags else None
        # A flag can be switched on only where training rows have it on (the training domain).
        switchable = [flag for flag in flags if (pd.to_numeric(table[flag], errors="coerce") == 1).any()]
        if condition and len(switchable) < cls.threshold:
            raise ValueError(
                f"{MULTIMORBID_COLUMN} is a condition but only {len(switchable)} Elixhauser flag(s) are ever 1 "
                f"in training, fewer than the {cls.threshold} a multimorbid row needs"
            )
        icu = [(count, days) for count, days in ICU_PAIRS if count in generated and days in generated]
        return cls(pairs, flags, condition, MULTIMORBID_THRESHOLD, switchable, icu)

    def to_dict(self) -> dict:
        return {
            "hierarchy": [list(pair) for pair in self.hierarchy],
            "multimorbid_flags": self.multimorbid_flags,
            "multimorbid_condition": self.multimorbid_condition,
            "threshold": self.threshold,
            "switchable_flags": self.switchable_flags,
            "icu_pairs": [list(pair) for pair in self.icu_pairs],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "ConsistencyRules":
        return cls(
            hierarchy=[tuple(pair) for pair in data["hierarchy"]],
            multimorbid_flags=list(data["multimorbid_flags"]),
            multimorbid_condition=data["multimorbid_condition"],
            threshold=int(data["threshold"]),
            switchable_flags=list(data["switchable_flags"]),
            icu_pairs=[tuple(pair) for pair in data["icu_pairs"]],
        )

    def apply(
        self,
        rows: pd.DataFrame,
        conditions: pd.DataFrame,
        flag_probability: pd.DataFrame,
        blocked_flags: tuple[str, ...] | list[str] = (),
        rng: np.random.Generator | None = None,
        implications: dict[str, list[str]] | None = None,
    ) -> pd.DataFrame:
        """Return `rows` made consistent; `flag_probability` contains the model's P(flag = 1) per row.

        `blocked_flags` are set to 0 on every row and never switched on, for example flags that
        no privacy-safe diagnosis code can express in the decoded tables. `implications` maps a
        flag to the flags that every code setting it also sets (see `apply_implications`).
        """
        rows = rows.copy()
        blocked = [flag for flag in blocked_flags if flag in rows]
        if blocked:
            rows[blocked] = 0
        if implications:
            apply_implications(rows, implications)
        self._suppress(rows)
        if self.multimorbid_condition:
            self._enforce_multimorbidity(rows, conditions, flag_probability, set(blocked), rng)
            if implications:
                # Carry flags switched on above to their partners; rows asked not to be
                # multimorbid take only implied flags outside the multimorbidity count.
                wanted = pd.to_numeric(conditions[self.multimorbid_condition], errors="coerce").to_numpy()
                counted = set(self.multimorbid_flags)
                apply_implications(rows, implications, rows_mask=wanted == 1, set_targets_only=True)
                apply_implications(rows, implications, rows_mask=wanted != 1, skip_targets=counted, set_targets_only=True)
                self._suppress(rows)
        for count, days in self.icu_pairs:
            if count in rows and days in rows:
                rows.loc[rows[count] == 0, days] = 0.0
        return rows

    def _suppress(self, rows: pd.DataFrame) -> None:
        for dominant, suppressed in self.hierarchy:
            if dominant in rows and suppressed in rows:
                rows.loc[rows[dominant] == 1, suppressed] = 0

    def _enforce_multimorbidity(
        self,
        rows: pd.DataFrame,
        conditions: pd.DataFrame,
        flag_probability: pd.DataFrame,
        blocked: set[str] = frozenset(),
        rng: np.random.Generator | None = None,
    ) -> None:
        flags = self.multimorbid_flags
        on = rows[flags].to_numpy(np.int64).copy()
        probability = flag_probability[flags].to_numpy(float)
        # Gumbel-max: the argmax of log p + Gumbel noise draws each flag with probability
        # proportional to p; without a generator the argmax of p itself is taken.
        noise = rng.gumbel(size=probability.shape) if rng is not None else 0.0
        score_base = np.log(np.clip(probability, 1e-12, None)) + noise
        wanted = pd.to_numeric(conditions[self.multimorbid_condition], errors="coerce").to_numpy()
        position = {flag: i for i, flag in enumerate(flags)}
        pairs = [(position[d], position[s]) for d, s in self.hierarchy if d in position and s in position]
        switchable = np.isin(flags, [flag for flag in self.switchable_flags if flag not in blocked])

        # Rows asked to be multimorbid: switch on flags, drawn by probability, that raise the count.
        for _ in range(self.threshold):
            short = (wanted == 1) & (on.sum(axis=1) < self.threshold)
            if not short.any():
                break
            candidate = (on == 0) & switchable[None, :]
            for dominant, suppressed in pairs:
                candidate[:, suppressed] &= on[:, dominant] == 0  # would be suppressed at once
                candidate[:, dominant] &= on[:, suppressed] == 0  # would suppress a flag that is on
            score = np.where(candidate, score_base, -np.inf)
            choice = score.argmax(axis=1)
            rows_to_fix = np.flatnonzero(short & np.isfinite(score.max(axis=1)))
            on[rows_to_fix, choice[rows_to_fix]] = 1

        # Rows asked not to be multimorbid: keep one of their flags, drawn by probability.
        excess = (wanted == 0) & (on.sum(axis=1) >= self.threshold)
        if excess.any():
            keep = np.where(on == 1, score_base, -np.inf).argmax(axis=1)
            on[excess] = 0
            on[np.flatnonzero(excess), keep[excess]] = 1

        still_short = (wanted == 1) & (on.sum(axis=1) < self.threshold)
        if still_short.any():
            raise RuntimeError(f"{int(still_short.sum())} multimorbid rows could not reach {self.threshold} flags")
        rows[flags] = on
