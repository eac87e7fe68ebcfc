"""`equisynth run`: the whole job, from raw MIMIC-III CSVs (or the built-in sample) to a release."""

import shlex
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

# Outside a terminal (a log file, a notebook cell) rich would wrap the summary's paths at 80 columns.
console = Console(width=None if sys.stdout.isatty() else 240)


def command(
    raw: Path | None = typer.Option(None, "--raw", help="Folder with MIMIC-III CSVs (the demo or the full release). Default: a built-in simulated sample."),
    config: Path | None = typer.Option(None, "--config", help="Settings file (see `equisynth init`). Default: ./equisynth.toml when present."),
    model: str | None = typer.Option(None, "--model", help="Generator: gan or diffusion. Overrides the train.model setting."),
    rebalance: str | None = typer.Option(None, "--rebalance", help="Rebalancing spec: inline TOML (e.g. 'by=[\"ethnicity_group\"]; target=\"parity\"') or a TOML file. Overrides the rebalance settings."),
    from_step: str | None = typer.Option(None, "--from", help="Re-run from this step on: sample, load, build, validate-real, train, generate, validate-synthetic, evaluate, export."),
    epochs: int | None = typer.Option(None, "--epochs", min=1, help="Training epochs. Overrides the train.epochs setting."),
    warehouse: Path | None = typer.Option(None, "--warehouse", help="DuckDB file. Overrides the warehouse.path setting."),
    release_dir: Path | None = typer.Option(None, "--release-dir", help="Folder for release folders and index.csv. Overrides the export.out setting."),
    release_version: str | None = typer.Option(None, "--release-version", help="Version of the release, MAJOR.MINOR.PATCH. Overrides the export.version setting."),
    waiver: str | None = typer.Option(None, "--waiver", help="Export even if release checks fail, recording this reason in the release. Overrides the export.waiver setting."),
) -> None:
    """Run every step: load, dbt build, validate, train, generate, validate, evaluate, export."""
    from equisynth.pipeline.options import apply_overrides, resolve_context
    from equisynth.pipeline.runner import run_pipeline

    settings, config_source = apply_overrides(
        config, model=model, rebalance=rebalance, epochs=epochs, warehouse=warehouse, release_dir=release_dir, waiver=waiver,
        release_version=release_version,
    )
    overrides = {
        "--model": model, "--rebalance": rebalance, "--epochs": epochs, "--warehouse": warehouse,
        "--release-dir": release_dir, "--release-version": release_version, "--waiver": waiver,
    }
    # The resume command printed after a failure repeats these, so it runs the same job.
    options = [f"{name} {shlex.quote(str(value))}" for name, value in overrides.items() if value is not None]
    ctx = resolve_context(settings, config_source, raw, options)

    if ctx.uses_builtin_sample:
        console.print(
            "[yellow]No --raw folder given: running on a built-in SIMULATED sample of "
            f"{settings.data.sample_patients} patients. It is for trying the tool, not research data.[/yellow]"
        )

    def on_step_start(step, index, total):
        console.rule(f"[bold]{index + 1}/{total} {step.title}[/bold]", align="left")

    def on_step_end(outcome):
        if outcome.status == "skipped":
            console.print(f"[dim]skipped: inputs unchanged since the last run[/dim]")
        else:
            console.print(f"[green]done[/green] in {outcome.seconds:.1f} s")

    summary = run_pipeline(ctx, from_step=from_step, on_step_start=on_step_start, on_step_end=on_step_end)
    _print_summary(summary.outputs)


def _print_summary(outputs: dict) -> None:
    table = Table(title="equisynth run: results", show_header=False)
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("Release", outputs["export"]["release"])
    table.add_row("Evaluation report", outputs["evaluate"]["report"])
    table.add_row("Data Docs (synthetic)", outputs["validate-synthetic"]["data_docs"])
    table.add_row("Generation", outputs["generate"]["generation_id"])
    table.add_row("Model run", outputs["train"]["run_id"])
    if "holdout" in outputs["evaluate"]:
        table.add_row("Real holdout", outputs["evaluate"]["holdout"])
    for name, value in outputs["evaluate"].get("headline", {}).items():
        table.add_row(name, str(value))
    console.print(table)
