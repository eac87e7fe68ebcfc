"""Run suites with Great Expectations: one validation definition and checkpoint per table, and Data Docs.

GX is imported inside `run_suites`, because importing it takes seconds and the command line
must start fast. The GX project (suites, validation definitions, checkpoints and validation
results as JSON) lives in `<warehouse dir>/reports/gx/`; its Data Docs site in
`<warehouse dir>/reports/data_docs/`.
"""

import logging
import os
from pathlib import Path

import duckdb
import pandas as pd
from tqdm import tqdm

from equisynth.errors import EquisynthError
from equisynth.validation.results import ExpectationOutcome, column_of, observed_text
from equisynth.validation.suites import SuiteSpec

log = logging.getLogger(__name__)

DATASOURCE_NAME = "equisynth_warehouse"
DOCS_SITE_NAME = "equisynth"

# Values of a failed expectation kept in results and Data Docs. Data Docs of real tables show
# these values, so they stay in the warehouse folder like the data itself.
RESULT_FORMAT = {"result_format": "SUMMARY", "partial_unexpected_count": 5}


def read_table(con: duckdb.DuckDBPyConnection, spec: SuiteSpec) -> pd.DataFrame:
    """Read the table and its computed columns into pandas.

    GX 1.x fails on DuckDB through duckdb_engine (an IndexError in
    SqlAlchemyExecutionEngine.resolve_metric_bundle, reported upstream for GX 1.10.0), so each
    table is read from DuckDB into a pandas DataFrame and GX validates that dataframe batch.
    """
    select_list = ["t.*"]
    for name, expression in spec.computed_columns.items():
        select_list.append(f'{expression.format(schema=spec.schema)} as "{name}"')
    sql = f'select {", ".join(select_list)} from "{spec.schema}"."{spec.table}" t'
    try:
        frame = con.execute(sql).df()
    except duckdb.Error as exc:
        raise EquisynthError(
            f"Cannot read {spec.table_name} for suite {spec.suite}: {exc}. Check that the table has the "
            "columns the suite's computed columns use, or rebuild it."
        ) from exc
    return with_numpy_dtypes(frame)


def with_numpy_dtypes(frame: pd.DataFrame) -> pd.DataFrame:
    """Replace pandas' nullable integer and boolean columns by numpy ones (float64 or object where empty values exist).

    DuckDB returns an integer column with NULLs as a nullable `Int32`, and GX 1.24 leaves a
    column-pair expectation on such a column with an empty result instead of comparing the values.
    """
    for name in frame.columns:
        dtype = frame[name].dtype
        if not isinstance(dtype, pd.api.extensions.ExtensionDtype):
            continue
        has_missing = bool(frame[name].isna().any())
        if pd.api.types.is_integer_dtype(dtype):
            frame[name] = frame[name].astype("float64" if has_missing else dtype.numpy_dtype)
        elif pd.api.types.is_bool_dtype(dtype):
            frame[name] = frame[name].astype(object if has_missing else bool)
    return frame


def with_computed_columns(spec: SuiteSpec) -> list[dict]:
    """Expectations of the spec, with the computed columns added to the expected column set.

    Computed columns are part of the batch that GX validates, so the exact column-set expectation must
    list them next to the table's own columns.
    """
    expectations = []
    for expectation in spec.expectations:
        if expectation["type"] == "expect_table_columns_to_match_set":
            expectation = {**expectation, "kwargs": dict(expectation["kwargs"])}
            expectation["kwargs"]["column_set"] = list(expectation["kwargs"]["column_set"]) + list(spec.computed_columns)
        expectations.append(expectation)
    return expectations


def open_context(reports: Path):
    """Open (or create) the file-backed GX project under `reports` with a local Data Docs site."""
    os.environ["GX_ANALYTICS_ENABLED"] = "False"
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    import equisynth.validation.quantile_expectation  # noqa: F401  (registers the expectation type)

    reports.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(reports))
    context.enable_analytics(enable=False)
    context.variables.progress_bars = ProgressBarsConfig(globally=False)

    site_config = {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(reports / "data_docs")},
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
    }
    sites = context.list_data_docs_sites()
    for name in list(sites):
        if name != DOCS_SITE_NAME:
            context.delete_data_docs_site(name)
    if DOCS_SITE_NAME in sites:
        context.update_data_docs_site(DOCS_SITE_NAME, site_config)
    else:
        context.add_data_docs_site(DOCS_SITE_NAME, site_config)
    return context


def remove_named_objects(context, name: str) -> None:
    """Delete the checkpoint, validation definition and suite called `name` where they exist."""
    from great_expectations.exceptions import DataContextError

    for store in (context.checkpoints, context.validation_definitions, context.suites):
        try:
            store.delete(name)
        except DataContextError:
            continue


def run_suites(
    con: duckdb.DuckDBPyConnection,
    specs: list[SuiteSpec],
    reports: Path,
    progress: bool = True,
) -> tuple[list[ExpectationOutcome], Path]:
    """Validate each spec's table with a GX checkpoint that also updates Data Docs; return the outcomes."""
    import great_expectations as gx
    from great_expectations.checkpoint import Checkpoint, UpdateDataDocsAction
    from great_expectations.core.expectation_suite import ExpectationSuite

    context = open_context(reports)
    datasource = context.data_sources.add_or_update_pandas(DATASOURCE_NAME)
    outcomes: list[ExpectationOutcome] = []

    for spec in tqdm(specs, desc="Validating tables", unit="table", disable=not progress):
        frame = read_table(con, spec)
        log.info("Validating %s (%d rows) with suite %s.", spec.table_name, len(frame), spec.suite)

        asset_name = spec.table_name
        existing = [asset.name for asset in datasource.assets]
        if asset_name in existing:
            datasource.delete_asset(asset_name)
        asset = datasource.add_dataframe_asset(asset_name)
        batch_definition = asset.add_batch_definition_whole_dataframe("whole_table")

        # Replace earlier objects of the same name instead of `add_or_update`, which compares every
        # expectation with every stored one. That quadratic step took most of a mart validation.
        remove_named_objects(context, spec.table_name)
        suite = context.suites.add(
            ExpectationSuite(
                name=spec.table_name,
                expectations=with_computed_columns(spec),
                meta={"family_suite": spec.suite, "generation_id": spec.generation_id, **spec.meta},
            )
        )
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=spec.table_name, data=batch_definition, suite=suite)
        )
        checkpoint = context.checkpoints.add(
            Checkpoint(
                name=spec.table_name,
                validation_definitions=[definition],
                actions=[UpdateDataDocsAction(name="update_data_docs", site_names=[DOCS_SITE_NAME])],
                result_format=RESULT_FORMAT,
            )
        )
        checkpoint_result = checkpoint.run(batch_parameters={"dataframe": frame})

        for validation_result in checkpoint_result.run_results.values():
            for result in validation_result.results:
                config = result.expectation_config
                exception = result.exception_info or {}
                message = exception.get("exception_message") if exception.get("raised_exception") else None
                outcomes.append(
                    ExpectationOutcome(
                        suite=spec.suite,
                        table_name=spec.table_name,
                        generation_id=spec.generation_id,
                        expectation=config.type,
                        column_name=column_of(config.kwargs),
                        success=bool(result.success) and message is None,
                        observed_value=observed_text(result.result or {}, message, (config.meta or {}).get("bound")),
                    )
                )

    return outcomes, reports / "data_docs" / "index.html"
