"""Expectation results as rows of quality.validation_results, and the summary a caller gets back."""

import json
import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import pandas as pd

from equisynth.validation.suites import SYNTHETIC_TABLES
from equisynth.warehouse import table_exists

log = logging.getLogger(__name__)

MAX_OBSERVED_CHARS = 500
EXAMPLE_VALUES = 5

RESULTS_DDL = """
create table if not exists quality.validation_results (
    validation_id varchar not null,
    suite varchar not null,
    table_name varchar not null,
    generation_id varchar,
    expectation varchar not null,
    column_name varchar,
    success boolean not null,
    observed_value varchar,
    run_time timestamp not null
)
"""

BOUNDS_DDL = """
create table if not exists quality.distribution_bounds (
    validation_id varchar not null,
    generation_id varchar not null,
    split_id varchar not null,
    reference_rows integer not null,
    restricted_to varchar,
    column_name varchar not null,
    statistic varchar not null,
    category varchar,
    real_value double,
    lower_bound double,
    upper_bound double,
    domain varchar,
    unweighted_value double,
    tolerance double,
    tolerance_source varchar,
    n_eff double,
    n_synthetic integer,
    weighting varchar,
    note varchar
)
"""

# Columns added to quality.distribution_bounds after its first version, added to older warehouses.
BOUNDS_ADDED_COLUMNS = {
    "unweighted_value": "double",
    "tolerance": "double",
    "tolerance_source": "varchar",
    "n_eff": "double",
    "n_synthetic": "integer",
    "weighting": "varchar",
    "note": "varchar",
}


@dataclass
class ExpectationOutcome:
    """One expectation's result on one table."""

    suite: str
    table_name: str
    generation_id: str | None
    expectation: str
    column_name: str | None
    success: bool
    observed_value: str


@dataclass
class ValidationSummary:
    """Outcome of one `validate` call: the tables checked, the counts and the failed expectations."""

    validation_id: str
    success: bool
    evaluated: int
    failed: int
    tables: list[str]
    failures: list[ExpectationOutcome]
    data_docs_path: Path
    skipped_tables: dict[str, str] = field(default_factory=dict)


def column_of(kwargs: dict) -> str | None:
    """Return the column an expectation reads, or its columns joined with a comma."""
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_A" in kwargs:
        return f"{kwargs['column_A']},{kwargs['column_B']}"
    if "column_list" in kwargs:
        return ",".join(kwargs["column_list"])
    return None


def plain(value):
    """Turn numpy, pandas and datetime values into JSON-ready Python values."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (datetime, date, pd.Timestamp)):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            return str(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def observed_text(result: dict, exception_message: str | None, bound: str | None = None) -> str:
    """Summarise what the expectation observed: its value, or how many rows broke it with examples.

    `bound` (a distribution bound's reference and tolerance) follows the observed value.
    """
    if exception_message:
        text = f"error: {exception_message}"
    elif "observed_value" in result and result["observed_value"] is not None:
        text = json.dumps(plain(result["observed_value"]), default=str)
    elif "unexpected_count" in result:
        count = result.get("unexpected_count") or 0
        total = result.get("element_count")
        text = f"{count} of {total} rows unexpected"
        examples = plain(result.get("partial_unexpected_list") or [])[:EXAMPLE_VALUES]
        if count and examples:
            text += f", e.g. {json.dumps(examples, default=str)}"
    elif not result:
        text = "no result: Great Expectations could not evaluate this expectation on the batch"
    else:
        text = json.dumps(plain(result), default=str)
    if bound:
        text += f" (bound: {bound})"
    return text[:MAX_OBSERVED_CHARS]


def write_results(
    con: duckdb.DuckDBPyConnection,
    validation_id: str,
    outcomes: list[ExpectationOutcome],
    run_time: datetime,
    bounds: list[dict],
) -> None:
    """Append the outcomes (and the distribution bounds they used) in one transaction."""
    con.execute("create schema if not exists quality")
    con.execute(RESULTS_DDL)
    con.execute(BOUNDS_DDL)
    for column, column_type in BOUNDS_ADDED_COLUMNS.items():
        con.execute(f"alter table quality.distribution_bounds add column if not exists {column} {column_type}")

    results = pd.DataFrame(
        [
            {
                "validation_id": validation_id,
                "suite": o.suite,
                "table_name": o.table_name,
                "generation_id": o.generation_id,
                "expectation": o.expectation,
                "column_name": o.column_name,
                "success": o.success,
                "observed_value": o.observed_value,
                "run_time": run_time,
            }
            for o in outcomes
        ],
        columns=["validation_id", "suite", "table_name", "generation_id", "expectation", "column_name",
                 "success", "observed_value", "run_time"],
    )
    bound_frame = pd.DataFrame(
        [{"validation_id": validation_id, **row} for row in bounds],
        columns=["validation_id", "generation_id", "split_id", "reference_rows", "restricted_to", "column_name",
                 "statistic", "category", "real_value", "lower_bound", "upper_bound", "domain", *BOUNDS_ADDED_COLUMNS],
    )

    con.execute("begin transaction")
    try:
        con.register("validation_results_frame", results)
        con.execute(
            "insert into quality.validation_results by name select * from validation_results_frame"
        )
        if not bound_frame.empty:
            con.register("distribution_bounds_frame", bound_frame)
            con.execute(
                "insert into quality.distribution_bounds by name select * from distribution_bounds_frame"
            )
        con.execute("commit")
    except duckdb.Error:
        con.execute("rollback")
        raise
    finally:
        con.unregister("validation_results_frame")
        if not bound_frame.empty:
            con.unregister("distribution_bounds_frame")
    log.info("Wrote %d expectation results of validation %s to quality.validation_results.", len(results), validation_id)


def latest_validation_passed(con: duckdb.DuckDBPyConnection, generation_id: str) -> bool:
    """Return whether the latest full validation of the generation passed every expectation.

    A full validation is one `equisynth validate --generation` run, which covers every synthetic
    suite; single-table runs (`--table`) do not count. False when there is none.
    """
    if not table_exists(con, "quality", "validation_results"):
        return False
    required = [f"synthetic.{table}" for table in SYNTHETIC_TABLES]
    row = con.execute(
        """
        with runs as (
            select validation_id,
                   max(run_time) as run_time,
                   bool_and(success) as passed,
                   count(distinct suite) filter (where suite in (select unnest(?::varchar[]))) as suites
            from quality.validation_results
            where generation_id = ?
            group by validation_id
        )

        select passed
        from runs
        where suites = ?
        order by run_time desc, validation_id desc
        limit 1
        """,
        [required, generation_id, len(required)],
    ).fetchone()
    return bool(row and row[0])
