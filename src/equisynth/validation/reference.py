"""The real rows that a generation's distribution bounds come from, and what is expected to differ.

The reference is the training part of the split that the generator was trained on, because the
holdout rows are kept for evaluation and must not shape what synthetic data is accepted. For a
rebalanced generation the reference rows are post-stratified to the synthetic mix of the
rebalanced groups (see `reweighting`), so every other column is compared with its real
distribution given that mix.
"""

import json
import logging
import re
from dataclasses import dataclass

import duckdb
import pandas as pd

from equisynth.errors import EquisynthError, NotFoundError
from equisynth.validation.reweighting import ReferenceWeights, kish_effective_size, poststratification_weights, stratum_labels
from equisynth.warehouse import table_exists

log = logging.getLogger(__name__)


@dataclass
class BoundsReference:
    """Source of the bounds: the split, its training rows, and the columns left out of the share bounds with the reason.

    `weights` is set for a rebalanced generation: the post-stratification weights of the
    reference rows. `synthetic_rows` has the synthetic mart's row count under "*" and each
    column's non-null count.
    """

    split_id: str
    mode: str | None
    reference_rows: int
    restricted_to: str | None
    excluded_columns: dict[str, str]
    extra_domain: dict[str, list[str]]
    weights: ReferenceWeights | None = None
    synthetic_rows: dict[str, int] | None = None

    @property
    def weighting(self) -> str | None:
        if self.weights is None:
            return None
        return f"post-stratified to the synthetic mix of {', '.join(self.weights.columns)}"


def training_split_id(con: duckdb.DuckDBPyConnection, generation_id: str) -> str:
    """Return the split whose training rows the generation's model learnt from.

    Follows ml.generations -> ml.model_runs when both have the generation; otherwise takes the
    most recent split in ml.splits.
    """
    if table_exists(con, "ml", "generations") and table_exists(con, "ml", "model_runs"):
        row = con.execute(
            "select r.split_id from ml.generations g join ml.model_runs r using (run_id) where g.generation_id = ?",
            [generation_id],
        ).fetchone()
        if row and row[0]:
            return row[0]

    if not table_exists(con, "ml", "splits"):
        raise NotFoundError(
            "Table ml.splits is not in the warehouse, so there are no training rows to derive "
            "distribution bounds from. Run `equisynth split` (or `equisynth train`) first."
        )
    row = con.execute(
        "select split_id from ml.splits group by split_id order by max(created_at) desc, split_id desc limit 1"
    ).fetchone()
    if row is None:
        raise NotFoundError("Table ml.splits is empty. Run `equisynth split` first.")
    log.info("Generation %s has no model run with a split, so the latest split %s is used.", generation_id, row[0])
    return row[0]


def generation_design(con: duckdb.DuckDBPyConnection, generation_id: str) -> tuple[str | None, dict]:
    """Return the generation's mode and rebalance spec (empty where ml.generations lacks them)."""
    if not table_exists(con, "ml", "generations"):
        return None, {}
    row = con.execute(
        "select mode, rebalance_spec_json from ml.generations where generation_id = ?", [generation_id]
    ).fetchone()
    if row is None:
        return None, {}
    mode, spec_json = row
    spec = json.loads(spec_json) if spec_json else {}
    return mode, spec if isinstance(spec, dict) else {}


def rebalanced_attributes(con: duckdb.DuckDBPyConnection, generation_id: str) -> dict[str, set[str]]:
    """Return each attribute that ml.rebalance_plans sets target shares for, with its target values, in plan order."""
    if not table_exists(con, "ml", "rebalance_plans"):
        return {}
    rows = con.execute(
        "select attributes_json from ml.rebalance_plans where generation_id = ?", [generation_id]
    ).fetchall()
    attributes: dict[str, set[str]] = {}
    for (attributes_json,) in rows:
        for column, value in json.loads(attributes_json).items():
            attributes.setdefault(column, set()).add(str(value))
    return attributes


def parse_within(within: str | None) -> tuple[str, str] | None:
    """Split a `column = value` restriction; None when there is none."""
    if not within:
        return None
    match = re.fullmatch(r"\s*([a-z_][a-z0-9_]*)\s*=\s*'?([^']*?)'?\s*", within)
    return (match.group(1), match.group(2)) if match else None


def synthetic_row_counts(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> dict[str, int]:
    """Return the synthetic table's row count under "*" and the non-null count of each of `columns` it has."""
    present = {row[0] for row in con.execute(f"select column_name from (describe {table})").fetchall()}
    names = [column for column in columns if column in present]
    counts = ", ".join(["count(*)"] + [f'count("{name}")' for name in names])
    row = con.execute(f"select {counts} from {table}").fetchone()
    return {"*": int(row[0]), **{name: int(value) for name, value in zip(names, row[1:])}}


def synthetic_mix(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> pd.Series:
    """Return the synthetic rows per combination of `columns`, labelled as the reweighting strata are."""
    quoted = ", ".join(f'"{column}"' for column in columns)
    try:
        frame = con.execute(f"select {quoted} from {table}").df()
    except duckdb.Error as exc:
        raise EquisynthError(
            f"Cannot read the rebalanced columns {', '.join(columns)} from {table}: {exc}. "
            "Rebuild the generation's mart with `equisynth build --generation`."
        ) from exc
    return stratum_labels(frame, columns).value_counts()


def bounds_reference(con: duckdb.DuckDBPyConnection, generation_id: str) -> tuple[pd.DataFrame, BoundsReference]:
    """Read the real training rows the bounds come from and decide which shares are expected to differ.

    A rebalanced generation changes the shares of its rebalanced attributes by design, so those
    columns keep only the domain bound (widened by the plan's target values), and the reference
    rows are weighted to the synthetic mix of those attributes. An `augment` generation
    restricted to a sub-population (`within`) is compared with the training rows of that
    sub-population, and the restricting column is left out of the share bounds.
    """
    split_id = training_split_id(con, generation_id)
    mode, spec = generation_design(con, generation_id)
    excluded: dict[str, str] = {}
    where = ""
    restricted_to = None

    within = parse_within(spec.get("within")) if spec else None
    if within and mode == "augment":
        column, value = within
        where = f" and cast(m.{column} as varchar) = '{value.replace(chr(39), chr(39) * 2)}'"
        restricted_to = f"{column} = {value}"
        excluded[column] = f"the generation only adds rows with {column} = {value}"

    reference = con.execute(
        "select m.* from main.mm_admission_features m "
        "where m.subject_id in (select subject_id from ml.splits where split_id = ? and part = 'train')" + where,
        [split_id],
    ).df()
    if reference.empty:
        raise NotFoundError(
            f"Split {split_id} has no training rows in main.mm_admission_features"
            + (f" with {restricted_to}" if restricted_to else "")
            + ". Rebuild the mart (`equisynth build`) and the split (`equisynth split`)."
        )

    synthetic_table = f"synthetic_{generation_id}.mm_admission_features"
    plan = rebalanced_attributes(con, generation_id)
    for column in plan:
        excluded[column] = "its shares are set by the rebalance plan, so they differ from the real ones by design"

    weights = None
    if plan:
        missing = [column for column in plan if column not in reference.columns]
        if missing:
            raise EquisynthError(
                f"ml.rebalance_plans of generation {generation_id} rebalances {', '.join(missing)}, which "
                "main.mm_admission_features does not have. Rebuild the mart (`equisynth build`) or re-plan the generation."
            )
        strata_columns = list(plan)
        weights = poststratification_weights(reference, synthetic_mix(con, synthetic_table, strata_columns), strata_columns)
        log.info(
            "Distribution bounds of generation %s: real rows post-stratified on %s, Kish effective size %.1f of %d rows.",
            generation_id, ", ".join(strata_columns), kish_effective_size(weights.weights), len(reference),
        )

    extra_domain = {column: set(values) for column, values in plan.items()}
    if where:
        # The domain is the whole training data's: a category that the restricted rows lack but
        # other real rows have (a multimorbid newborn, say) is rare, not impossible.
        for column, values in _categorical_domains(con, split_id).items():
            extra_domain.setdefault(column, set()).update(values)

    return reference, BoundsReference(
        split_id=split_id,
        mode=mode,
        reference_rows=len(reference),
        restricted_to=restricted_to,
        excluded_columns=excluded,
        extra_domain={column: sorted(values) for column, values in extra_domain.items()},
        weights=weights,
        synthetic_rows=synthetic_row_counts(con, synthetic_table, list(reference.columns)),
    )


def _categorical_domains(con: duckdb.DuckDBPyConnection, split_id: str) -> dict[str, set[str]]:
    """Distinct values of every text column of the mart over all training rows of the split."""
    columns = [
        row[0]
        for row in con.execute(
            "select column_name from information_schema.columns "
            "where table_schema = 'main' and table_name = 'mm_admission_features' and data_type = 'VARCHAR'"
        ).fetchall()
    ]
    domains = {}
    for column in columns:
        rows = con.execute(
            f"select distinct cast(m.{column} as varchar) from main.mm_admission_features m "
            "where m.subject_id in (select subject_id from ml.splits where split_id = ? and part = 'train') "
            f"and m.{column} is not null",
            [split_id],
        ).fetchall()
        domains[column] = {row[0] for row in rows}
    return domains


def exclude_conditions(info: BoundsReference, conditions: set[str]) -> None:
    """Leave the condition columns out of the share bounds of a `counts` generation, whose request fixes them."""
    if info.mode != "counts":
        return
    for column in sorted(conditions):
        info.excluded_columns.setdefault(column, "the generation request fixes the rows per condition value")
