"""`equisynth export`: write a versioned synthetic release, or verify one with --verify."""

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from equisynth.errors import ConfigError, EquisynthError

console = Console()


def command(
    generation: str | None = typer.Option(None, "--generation", help="Generation id to release (see ml.generations)."),
    out: Path | None = typer.Option(None, "--out", help="Folder that contains the release folders and index.csv. Overrides export.out (default: releases)."),
    version: str | None = typer.Option(None, "--version", help="Release version MAJOR.MINOR.PATCH. Overrides export.version (default: 1.0.0)."),
    gzip: bool | None = typer.Option(None, "--gzip/--no-gzip", help="Also write each table as .csv.gz. Overrides export.gzip."),
    force: bool = typer.Option(False, "--force", help="Export even when release checks fail; needs --waiver."),
    waiver: str | None = typer.Option(None, "--waiver", help="Why the release is exported despite failed checks; recorded in manifest.json and README.md."),
    verify: Path | None = typer.Option(None, "--verify", help="Re-check the SHA256SUMS of this release folder instead of exporting."),
    warehouse: Path | None = typer.Option(None, "--warehouse", help="DuckDB warehouse file. Default: the config, else $EQUISYNTH_WAREHOUSE, else warehouse/equisynth.duckdb."),
    config: Path | None = typer.Option(None, "--config", help="Settings file (see `equisynth init`). Default: ./equisynth.toml when present."),
) -> None:
    """Export a generation as a MIMIC-III-layout release with manifest, data card, DataCite metadata and checksums."""
    from equisynth import release

    if verify is not None:
        _verify(verify, release)
        return

    if generation is None:
        raise ConfigError("Give --generation ID to export, or --verify FOLDER to check a release.")

    from equisynth.config import load_settings

    settings = load_settings(config)
    if warehouse is None and config is not None:
        warehouse = Path(settings.warehouse.path)
    report = release.export(
        warehouse,
        generation,
        out=out,
        version=version,
        gzip=gzip,
        force=force,
        waiver=waiver,
        settings=settings,
    )

    table = Table(title=f"Release {report.name}", show_header=True)
    table.add_column("Check")
    table.add_column("Result")
    table.add_column("Detail", overflow="fold")
    for gate in report.gates:
        table.add_row(gate.name, "[green]passed[/green]" if gate.passed else "[red]FAILED (waived)[/red]", gate.reason)
    console.print(table)
    for name, rows in report.row_counts.items():
        console.print(f"  {name}: {rows:,} rows")
    console.print(f"Wrote {report.path} (manifest SHA-256 {report.manifest_sha256[:12]}…).")


def _verify(folder: Path, release) -> None:
    result = release.verify(folder)
    if not result.ok:
        raise EquisynthError(f"Release {folder} failed verification: {result.describe_problems()}.")
    console.print(f"[green]OK[/green]: {len(result.checked)} files in {folder} match SHA256SUMS, none missing or extra.")
