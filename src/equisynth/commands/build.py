"""`equisynth build`: run the dbt project (staging, intermediate, marts and every dbt test)."""

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table


def command(
    warehouse: Path | None = typer.Option(
        None, "--warehouse", help="DuckDB file to build. Default: $EQUISYNTH_WAREHOUSE, else warehouse/equisynth.duckdb."
    ),
    generation: str | None = typer.Option(
        None, "--generation", help="Build the models of this synthetic generation (schema synthetic_<ID>) instead of the real data."
    ),
    select: str | None = typer.Option(
        None, "--select", help="dbt node selection, as for `dbt build --select` (e.g. 'mm_admission_features+'). Default: every node."
    ),
    skip_first_diagnosis: bool | None = typer.Option(
        None,
        "--skip-first-diagnosis/--all-diagnoses",
        help="Count comorbidities from secondary diagnoses only (mimic-code's convention), or from every position. Default: skip_first_diagnosis in the build section of equisynth.toml, else every position.",
    ),
    docs: bool = typer.Option(False, "--docs", help="Also write dbt's documentation site with the lineage from raw to the marts."),
    config: Path | None = typer.Option(None, "--config", help="equisynth.toml to read defaults from. Default: ./equisynth.toml when present."),
) -> None:
    """Build the multimorbidity mart with dbt and print what passed, warned and failed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from equisynth import dbt_runner
    from equisynth.config import load_settings

    settings = load_settings(config)
    if warehouse is None and config is not None:
        warehouse = Path(settings.warehouse.path)
    if skip_first_diagnosis is None:
        skip_first_diagnosis = settings.build.skip_first_diagnosis

    console = Console()
    with Progress(
        TextColumn("[bold]dbt build[/bold] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task("starting", total=None)

        def on_start(node_count: int) -> None:
            progress.update(task, total=node_count, description="")

        def on_node_finished(node: dbt_runner.NodeResult) -> None:
            progress.update(task, advance=1, description=node.name)

        try:
            report = dbt_runner.build(
                warehouse,
                generation=generation,
                select=select,
                skip_first_diagnosis=skip_first_diagnosis,
                on_start=on_start,
                on_node_finished=on_node_finished,
            )
        except dbt_runner.BuildError as exc:
            progress.stop()
            console.print(summary_table(exc.report))
            raise

    console.print(summary_table(report))
    target = f"synthetic_{generation}" if generation else "main"
    console.print(f"Built schema {target} of {report.warehouse} in {report.seconds:.1f} s.")

    if docs:
        docs_path = dbt_runner.docs_generate(report.warehouse, generation=generation)
        console.print(f"Documentation: {docs_path / 'index.html'} (serve it with `dbt docs serve --target-path {docs_path}`).")


def summary_table(report) -> Table:
    """Nodes per resource type and outcome, then the failing and warning nodes with dbt's message."""
    title = f"dbt build of {'generation ' + report.generation if report.generation else 'the real data'}"
    table = Table(title=title)
    table.add_column("resource")
    for outcome in ("pass", "warn", "fail", "skip"):
        table.add_column(outcome, justify="right")
    for resource_type, outcomes in sorted(report.counts.items()):
        table.add_row(
            resource_type,
            str(outcomes.get("pass", 0)),
            f"[yellow]{outcomes['warn']}[/yellow]" if outcomes.get("warn") else "0",
            f"[red]{outcomes['fail']}[/red]" if outcomes.get("fail") else "0",
            str(outcomes.get("skip", 0)),
        )
    for node in report.failed + report.warned:
        colour = "red" if node.outcome == "fail" else "yellow"
        table.add_row(f"[{colour}]{node.resource_type} {node.name}[/{colour}]", "", "", "", "", end_section=False)
        table.add_row(f"  {node.message}", "", "", "", "")
    return table
