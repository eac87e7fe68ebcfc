"""`equisynth evaluate`: fidelity, utility, fairness, privacy and representation of a generation."""

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from equisynth.errors import ConfigError


def command(
    generation: str | None = typer.Option(None, "--generation", "-g", help="Generation id to evaluate."),
    compare: list[str] | None = typer.Option(None, "--compare", help="Show these evaluated generations side by side (repeat, or give several ids after one --compare)."),
    warehouse: Path | None = typer.Option(None, "--warehouse", help="DuckDB warehouse file. Default: the config, else $EQUISYNTH_WAREHOUSE, else warehouse/equisynth.duckdb."),
    config: Path | None = typer.Option(None, "--config", help="equisynth.toml whose evaluate section sets the defaults."),
    bootstrap: int | None = typer.Option(None, "--bootstrap", min=10, help="Bootstrap resamples for 95% intervals (default: `bootstrap` in the evaluate section of the config)."),
    min_subgroup_rows: int | None = typer.Option(None, "--min-subgroup-rows", min=1, help="Holdout rows below which a subgroup is too small to estimate."),
    seed: int | None = typer.Option(None, "--seed", min=0, help="Seed of the bootstrap and the classifiers."),
    extra_ids: list[str] | None = typer.Argument(None, help="More generation ids for --compare.", show_default=False),
) -> None:
    """Evaluate a generation on the real holdout, or compare evaluated generations."""
    from equisynth.config import load_settings
    from equisynth.paths import reports_dir

    settings = load_settings(config)
    section = settings.evaluate.model_copy()
    for name, value in (("bootstrap", bootstrap), ("min_subgroup_rows", min_subgroup_rows), ("seed", seed)):
        if value is not None:
            setattr(section, name, value)
    if warehouse is None and config is not None:
        warehouse = Path(settings.warehouse.path)
    console = Console()

    if compare:
        from equisynth.evaluation.compare import compare_table, load_comparison, write_comparison

        ids = list(compare) + list(extra_ids or [])
        metrics = load_comparison(warehouse, ids)
        table = compare_table(metrics, ids)
        rich_table = Table(title="Generations side by side (overall, 95% CI)")
        for column in table.columns:
            rich_table.add_column(column)
        for record in table.itertuples(index=False):
            rich_table.add_row(*[str(value) for value in record])
        console.print(rich_table)
        path = write_comparison(reports_dir(warehouse), table, ids)
        console.print(f"Comparison report: {path}")
        return

    if not generation:
        raise ConfigError("Give --generation ID to evaluate, or --compare ID1 ID2 ... to compare evaluated generations.")

    from equisynth.evaluation import evaluate
    from equisynth.evaluation.formatting import format_value

    with console.status(f"Evaluating generation {generation}") as status:
        summary = evaluate(warehouse, generation, settings=section,
                           on_step=lambda step: status.update(f"Evaluating generation {generation}: {step}"))

    table = Table(title=f"Evaluation of {generation} ({summary.mode}; overall, 95% CI)")
    for column in ("area", "metric", "value"):
        table.add_column(column)
    for row in summary.headline().to_dict("records"):
        text = format_value(row) if row["n"] == row["n"] else "not computed"
        table.add_row(row["area"], row["metric"], text)
    console.print(table)
    console.print(
        f"{len(summary.metrics)} rows in quality.evaluation_metrics; "
        f"{len(summary.too_small_subgroups)} subgroups too small to estimate (< {section.min_subgroup_rows} holdout rows)."
    )
    console.print(f"Report: {summary.report_path}")
