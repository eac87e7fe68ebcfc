"""Distribution bounds for a synthetic mart, derived from the real training rows of the mart.

Three kinds of bound, each turned into Great Expectations expectations:
- continuous columns: the 25th, 50th and 75th percentiles within `quantile_tolerance` times
  the real interquartile range of the real percentile;
- categorical and binary columns: each value's share within `share_tolerance` of its real
  share (a computed 0/1 column per value, whose mean is the share);
- categorical columns: no value outside the real domain.

The reference is the training part of the split that the generator was trained on, because the
holdout rows are kept for evaluation and must not shape what synthetic data is accepted.
"""

import json
import logging
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from equisynth.errors import NotFoundError
from equisynth.paths import DBT_PROJECT_DIR
from equisynth.warehouse import table_exists

log = logging.getLogger(__name__)

QUANTILES = (0.25, 0.5, 0.75)
MART_YML = DBT_PROJECT_DIR / "models" / "marts" / "mm_admission_features.yml"

# Condition columns a generator takes as input when the mart yml is not available.
DEFAULT_CONDITION_COLUMNS = ("ethnicity_group", "insurance", "gender", "age_band", "multimorbid")


@dataclass
class Bound:
    """One bound on a synthetic mart column, with the real value it was derived from."""

    column_name: str
    statistic: str  # "q25", "q50", "q75", "share" or "domain"
    category: str | None
    real_value: float | None
    lower_bound: float | None
    upper_bound: float | None
    domain: list[str] | None = None


@dataclass
class BoundsReference:
    """Source of the bounds: the split, its training rows, and the columns left out of the share bounds with the reason."""

    split_id: str
    mode: str | None
    reference_rows: int
    restricted_to: str | None
    excluded_columns: dict[str, str]
    extra_domain: dict[str, list[str]]


def column_kinds(mart: pd.DataFrame, yml_path: Path = MART_YML) -> tuple[dict[str, str], set[str]]:
    """Return each mart column's kind and the condition columns, from the column `meta` in the mart yml.

    Columns that the yml does not describe get a kind inferred from their values: text is
    categorical, integers that are only 0 or 1 are binary, other integers are counts and
    floating-point numbers are continuous.
    """
    kinds: dict[str, str] = {}
    conditions: set[str] = set()
    if yml_path.exists():
        document = yaml.safe_load(yml_path.read_text(encoding="utf-8")) or {}
        for model in document.get("models", []):
            if model.get("name") != "mm_admission_features":
                continue
            for column in model.get("columns", []):
                meta = column.get("meta") or (column.get("config") or {}).get("meta") or {}
                if "kind" in meta:
                    kinds[column["name"]] = meta["kind"]
                if meta.get("condition"):
                    conditions.add(column["name"])
    else:
        log.warning("Mart column roles not found at %s; inferring column kinds from the values.", yml_path)
        conditions = set(DEFAULT_CONDITION_COLUMNS)

    for name in mart.columns:
        if name in kinds:
            continue
        kinds[name] = infer_kind(name, mart[name])
    return kinds, conditions


def infer_kind(name: str, values: pd.Series) -> str:
    if name in ("subject_id", "hadm_id"):
        return "id"
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
        return "categorical" if not pd.api.types.is_bool_dtype(values) else "binary"
    non_null = values.dropna()
    if pd.api.types.is_float_dtype(values) and not (non_null == non_null.round()).all():
        return "continuous"
    if non_null.isin([0, 1]).all():
        return "binary"
    return "count"


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
    """Return each attribute that ml.rebalance_plans sets target shares for, with its target values."""
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


def bounds_reference(con: duckdb.DuckDBPyConnection, generation_id: str) -> tuple[pd.DataFrame, BoundsReference]:
    """Read the real training rows the bounds come from and decide which shares are expected to differ.

    A rebalanced generation changes the shares of its rebalanced attributes by design, so those
    columns keep only the domain bound (widened by the plan's target values). An `augment`
    generation restricted to a sub-population (`within`) is compared with the training rows of
    that sub-population, and the restricting column is left out of the share bounds.
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

    plan = rebalanced_attributes(con, generation_id)
    for column in plan:
        excluded[column] = "its shares are set by the rebalance plan, so they differ from the real ones by design"
    if "age_band" in plan:
        excluded["age"] = "age_band is rebalanced, so the age distribution differs by design"

    return reference, BoundsReference(
        split_id=split_id,
        mode=mode,
        reference_rows=len(reference),
        restricted_to=restricted_to,
        excluded_columns=excluded,
        extra_domain={column: sorted(values) for column, values in plan.items()},
    )


def exclude_conditions(info: BoundsReference, conditions: set[str]) -> None:
    """Leave the condition columns out of the share bounds of a `counts` generation, whose request fixes them."""
    if info.mode != "counts":
        return
    for column in sorted(conditions):
        info.excluded_columns.setdefault(column, "the generation request fixes the rows per condition value")


def derive_bounds(
    reference: pd.DataFrame,
    kinds: dict[str, str],
    info: BoundsReference,
    quantile_tolerance: float,
    share_tolerance: float,
) -> list[Bound]:
    """Compute the bounds of every continuous, categorical and binary mart column."""
    bounds: list[Bound] = []
    for column in reference.columns:
        kind = kinds.get(column)
        values = reference[column]

        if kind == "continuous" and column not in info.excluded_columns:
            bounds.extend(quantile_bounds(column, values.dropna().astype(float), quantile_tolerance))

        if kind == "categorical":
            domain = sorted({str(v) for v in values.dropna()} | set(info.extra_domain.get(column, [])))
            bounds.append(Bound(column, "domain", None, None, None, None, domain=domain))

        if kind not in ("categorical", "binary") or column in info.excluded_columns:
            continue

        if kind == "binary":
            # The share of 0 is 1 minus the share of 1, so only 1 is bounded, also where no real row has it.
            shares = pd.Series({"1": float((values == 1).mean())})
        else:
            shares = values.dropna().astype(str).value_counts(normalize=True).sort_index()

        for category, share in shares.items():
            bounds.append(
                Bound(
                    column,
                    "share",
                    str(category),
                    round(float(share), 6),
                    round(max(0.0, share - share_tolerance), 6),
                    round(min(1.0, share + share_tolerance), 6),
                )
            )
    return bounds


def quantile_bounds(column: str, values: pd.Series, tolerance: float) -> list[Bound]:
    """Bound the quartiles of one continuous column, scaled by its real spread.

    The scale is the interquartile range. Where that is 0 (a column mostly at one value), the
    scale is the standard deviation, and where that is 0 too, 1 unit.
    """
    if values.empty:
        return []
    quartiles = values.quantile(list(QUANTILES))
    scale = float(quartiles.iloc[2] - quartiles.iloc[0])
    if scale <= 0:
        scale = float(values.std(ddof=0)) or 1.0
    margin = tolerance * scale
    return [
        Bound(column, f"q{round(q * 100)}", None, round(float(v), 6), round(float(v) - margin, 6), round(float(v) + margin, 6))
        for q, v in zip(QUANTILES, quartiles)
    ]


def share_column(column: str, category: str) -> str:
    """Name of the computed 0/1 column whose mean is the share of `category` in `column`."""
    return f"{column}={category}"


def bound_expectations(bounds: list[Bound], info: BoundsReference) -> tuple[list[dict], dict[str, str]]:
    """Turn bounds into expectation configurations plus the computed share columns they read."""
    expectations: list[dict] = []
    computed: dict[str, str] = {}
    source = f"real training rows of split {info.split_id}" + (f" with {info.restricted_to}" if info.restricted_to else "")

    by_column: dict[str, list[Bound]] = {}
    for bound in bounds:
        by_column.setdefault(bound.column_name, []).append(bound)

    for column, column_bounds in by_column.items():
        quartiles = [b for b in column_bounds if b.statistic.startswith("q")]
        if quartiles:
            expectations.append(
                {
                    "type": "expect_column_quantiles_near_reference",
                    "kwargs": {
                        "column": column,
                        "quantile_ranges": {
                            "quantiles": list(QUANTILES),
                            "value_ranges": [[b.lower_bound, b.upper_bound] for b in quartiles],
                        },
                    },
                    "meta": {"real_values": [b.real_value for b in quartiles]},
                    "notes": f"Quartiles within the tolerance of the {source} (real: {[b.real_value for b in quartiles]}).",
                }
            )

        for bound in column_bounds:
            if bound.statistic == "domain":
                expectations.append(
                    {
                        "type": "expect_column_values_to_be_in_set",
                        "kwargs": {"column": column, "value_set": bound.domain},
                        "notes": f"Only values that occur in the {source}"
                        + (" or in the rebalance plan." if column in info.extra_domain else "."),
                    }
                )
            if bound.statistic == "share":
                name = share_column(column, bound.category)
                literal = bound.category.replace("'", "''")
                computed[name] = f"case when cast(t.{column} as varchar) = '{literal}' then 1.0 else 0.0 end"
                expectations.append(
                    {
                        "type": "expect_column_mean_to_be_between",
                        "kwargs": {"column": name, "min_value": bound.lower_bound, "max_value": bound.upper_bound},
                        "meta": {"real_share": bound.real_value},
                        "notes": f"Share of {column} = {bound.category} within the tolerance of the {source} (real: {bound.real_value}).",
                    }
                )
    return expectations, computed


def bounds_rows(bounds: list[Bound], info: BoundsReference) -> list[dict]:
    """Rows for quality.distribution_bounds: one per bound, with the reference it came from."""
    rows = []
    for bound in bounds:
        row = asdict(bound)
        row["domain"] = json.dumps(row["domain"]) if row["domain"] is not None else None
        row.update(split_id=info.split_id, reference_rows=info.reference_rows, restricted_to=info.restricted_to)
        rows.append(row)
    for column, reason in sorted(info.excluded_columns.items()):
        rows.append(
            dict(column_name=column, statistic="excluded", category=None, real_value=None, lower_bound=None,
                 upper_bound=None, domain=json.dumps(reason), split_id=info.split_id,
                 reference_rows=info.reference_rows, restricted_to=info.restricted_to)
        )
    return rows
