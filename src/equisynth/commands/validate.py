"""`equisynth validate`: run the Great Expectations suites on real tables, a generation or one table."""

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

MAX_FAILURE_ROWS = 30


def command(
    real: bool = typer.Option(False, "--real", help="Validate the real raw MIMIC-III tables and the mart main.mm_admission_features."),
    generation: str | None = typer.Option(None, "--generation", help="Validate the decoded tables and mart of this synthetic generation."),
    table: str | None = typer.Option(None, "--table", help="Validate one table, named schema.table (a bare name means raw.<name>)."),
    warehouse: Path | None = typer.Option(None, "--warehouse", help="DuckDB warehouse file. Default: the config, else $EQUISYNTH_WAREHOUSE, else warehouse/equisynth.duckdb."),
    config: Path | None = typer.Option(None, "--config", help="equisynth.toml with the [validate] tolerances."),
) -> None:
    """Check tables against the suites in expectations/, write Data Docs, and exit 1 when an expectation fails."""
    from equisynth.config import load_settings
    from equisynth.validation import validate

    settings = load_settings(config)
    if warehouse is None and config is not None:
        warehouse = Path(settings.warehouse.path)

    console = Console()
    summary = validate(warehouse, real=real, generation=generation, table=table, settings=settings.validate_)

    for name, reason in summary.skipped_tables.items():
        console.print(f"Skipped {name}: {reason}.")

    if summary.failures:
        failures = Table(title=f"Failed expectations ({summary.failed} of {summary.evaluated})")
        for heading in ("table", "expectation", "column", "observed"):
            failures.add_column(heading, overflow="fold")
        for failure in summary.failures[:MAX_FAILURE_ROWS]:
            failures.add_row(failure.table_name, failure.expectation, failure.column_name or "", failure.observed_value)
        console.print(failures)
        if summary.failed > MAX_FAILURE_ROWS:
            console.print(f"... and {summary.failed - MAX_FAILURE_ROWS} more in quality.validation_results (validation_id {summary.validation_id}).")
    else:
        console.print(f"All {summary.evaluated} expectations passed on {len(summary.tables)} tables.")

    console.print(f"Data Docs: {summary.data_docs_path}")
    console.print(f"Results: quality.validation_results, validation_id {summary.validation_id}")
    if not summary.success:
        raise typer.Exit(code=1)
