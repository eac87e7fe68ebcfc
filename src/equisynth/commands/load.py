"""`equisynth load`: load MIMIC-III CSV files (full release or demo) into the warehouse's raw schema."""

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table


def command(
    raw: Path = typer.Option(
        ..., "--raw", help="Folder with the MIMIC-III v1.4 CSV files: the full release (NAME.csv.gz) or the demo (NAME.csv)."
    ),
    warehouse: Path | None = typer.Option(
        None, "--warehouse", help="DuckDB file to load into. Default: $EQUISYNTH_WAREHOUSE, else warehouse/equisynth.duckdb."
    ),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar per table."),
) -> None:
    """Check and load MIMIC-III tables into schema `raw`, replacing the previous load only on success."""
    from equisynth.loader import load_raw

    report = load_raw(raw, warehouse, progress=progress)

    summary = Table(title=f"Loaded into {report.schema} of {report.warehouse} ({report.source_form} form)")
    summary.add_column("table")
    summary.add_column("rows", justify="right")
    summary.add_column("file")
    for table_name, rows in report.tables.items():
        path = report.files.get(table_name)
        summary.add_row(table_name, f"{rows:,}", path.name if path else "[yellow]missing: created empty[/yellow]")

    console = Console()
    console.print(summary)
    if report.empty_tables:
        console.print(
            f"[yellow]Created empty because their files are missing:[/yellow] {', '.join(report.empty_tables)}"
        )
    console.print(f"Next: `equisynth build --warehouse {report.warehouse}` builds the mart.")
