"""Selection of the suites and tables that `--real`, `--generation ID` and `--table NAME` validate."""

import logging
import re

import duckdb

from equisynth.config import ValidateSettings
from equisynth.errors import EquisynthError, NotFoundError
from equisynth.validation import bounds as bounds_module
from equisynth.validation import reference as reference_module
from equisynth.validation.suites import (
    MART_TABLE,
    REQUIRED_RAW_TABLES,
    SYNTHETIC_TABLES,
    SuiteSpec,
    full_release_row_counts,
    load_suite,
    raw_suite_names,
)
from equisynth.warehouse import table_exists

log = logging.getLogger(__name__)

GENERATION_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{2,40}$")


def is_full_release(con: duckdb.DuckDBPyConnection) -> bool:
    """Return whether raw.load_manifest records the raw tables as loaded from the full MIMIC-III release."""
    if not table_exists(con, "raw", "load_manifest"):
        return False
    row = con.execute("select count(*) filter (where source_form = 'full') from raw.load_manifest").fetchone()
    return bool(row and row[0])


def raw_specs(con: duckdb.DuckDBPyConnection, skipped: dict[str, str]) -> list[SuiteSpec]:
    """Suites of the raw tables present; the full-release row counts are expected of a full load only."""
    full = is_full_release(con)
    counts = full_release_row_counts() if full else {}
    specs = []
    for suite in raw_suite_names():
        spec = load_suite(suite, schema="raw")
        if not table_exists(con, "raw", spec.table):
            if spec.table in REQUIRED_RAW_TABLES:
                raise NotFoundError(f"Table raw.{spec.table} is not in the warehouse. Run `equisynth load --raw DIR` first.")
            skipped[f"raw.{spec.table}"] = "not loaded"
            continue
        if spec.table in counts:
            spec.expectations.append(
                {
                    "type": "expect_table_row_count_to_equal",
                    "kwargs": {"value": counts[spec.table]},
                    "notes": "raw.load_manifest says the input is the full release, which has this many rows in v1.4.",
                }
            )
        specs.append(spec)
    return specs


def mart_spec(con: duckdb.DuckDBPyConnection) -> SuiteSpec:
    if not table_exists(con, "main", MART_TABLE):
        raise NotFoundError(f"Table main.{MART_TABLE} is not in the warehouse. Run `equisynth build` first.")
    return load_suite(f"mart.{MART_TABLE}", schema="main")


def synthetic_schema(con: duckdb.DuckDBPyConnection, generation_id: str) -> str:
    """Check the generation id and that its decoded tables exist; return their schema."""
    if not GENERATION_ID_PATTERN.match(generation_id):
        raise EquisynthError(
            f"Invalid generation id {generation_id!r}: use 3-41 lower-case letters, digits or underscores, starting with a letter."
        )
    schema = f"synthetic_{generation_id}"
    for table in SYNTHETIC_TABLES:
        if not table_exists(con, schema, table):
            step = "equisynth build --generation" if table == MART_TABLE else "equisynth decode --generation"
            raise NotFoundError(
                f"Table {schema}.{table} is not in the warehouse, so generation {generation_id} cannot be validated. "
                f"Run `{step} {generation_id}` first."
            )
    return schema


def synthetic_specs(
    con: duckdb.DuckDBPyConnection,
    generation_id: str,
    settings: ValidateSettings,
    tables: tuple[str, ...] = SYNTHETIC_TABLES,
) -> tuple[list[SuiteSpec], list[dict]]:
    """Suites of the generation's decoded tables and mart, the mart one with distribution bounds.

    Returns the specs and the bounds rows to store with the results.
    """
    schema = synthetic_schema(con, generation_id)
    specs = [load_suite(f"synthetic.{table}", schema=schema, generation_id=generation_id) for table in tables]
    stored_bounds: list[dict] = []

    for spec in specs:
        if not spec.meta.get("distribution_bounds"):
            continue
        reference, info = reference_module.bounds_reference(con, generation_id)
        kinds, conditions = bounds_module.column_kinds(reference)
        reference_module.exclude_conditions(info, conditions)
        derived = bounds_module.derive_bounds(
            reference, kinds, info, settings.quantile_tolerance, settings.share_tolerance, settings.z,
            settings.false_alarm_rate,
        )
        expectations, computed = bounds_module.bound_expectations(derived, info)
        spec.expectations.extend(expectations)
        spec.computed_columns.update(computed)
        for column, reason in info.excluded_columns.items():
            log.info("Distribution bounds leave out %s of generation %s: %s.", column, generation_id, reason)
        stored_bounds = [{"generation_id": generation_id, **row} for row in bounds_module.bounds_rows(derived, info)]
    return specs, stored_bounds


def table_specs(
    con: duckdb.DuckDBPyConnection, name: str, settings: ValidateSettings
) -> tuple[list[SuiteSpec], list[dict]]:
    """Select the suite for one table named `schema.table`, where a bare name means a raw table."""
    schema, _, table = name.rpartition(".")
    schema = schema or "raw"
    if not table_exists(con, schema, table):
        raise NotFoundError(f"Table {schema}.{table} is not in the warehouse. Check the name (schema.table).")

    if schema == "raw":
        specs = [spec for spec in raw_specs(con, {}) if spec.table == table]
        if not specs:
            raise EquisynthError(f"No expectation suite for raw.{table}. Suites exist for: {', '.join(raw_suite_names())}.")
        return specs, []
    if schema == "main" and table == MART_TABLE:
        return [mart_spec(con)], []
    if schema.startswith("synthetic_") and table in SYNTHETIC_TABLES:
        return synthetic_specs(con, schema.removeprefix("synthetic_"), settings, tables=(table,))
    raise EquisynthError(
        f"No expectation suite for {schema}.{table}. Validate raw.<table>, main.{MART_TABLE} or "
        f"synthetic_<generation>.<table> for {', '.join(SYNTHETIC_TABLES)}."
    )
