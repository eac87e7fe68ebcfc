"""`equisynth sample`: write a simulated MIMIC-III-shaped dataset for trying the tool."""

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table


def command(
    patients: int = typer.Option(..., "--patients", min=1, help="Number of simulated patients (the full release has 46,520)."),
    out: Path = typer.Option(..., "--out", help="Folder to write the NAME.csv.gz files to; same-named files are replaced."),
    seed: int = typer.Option(0, "--seed", min=0, help="Random seed; the same seed and size give byte-identical files."),
) -> None:
    """Write simulated MIMIC-III v1.4 tables drawn from published aggregate figures (not research data)."""
    from equisynth.sample import write_sample

    console = Console()
    with Progress(
        TextColumn("Simulating patients"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console, transient=True
    ) as bar:
        task = bar.add_task("patients", total=patients)
        counts = write_sample(patients, out, seed=seed, progress=lambda done: bar.update(task, completed=done))

    summary = Table(title=f"Simulated MIMIC-III sample in {out} (seed {seed})")
    summary.add_column("table")
    summary.add_column("rows", justify="right")
    for name, rows in counts.items():
        summary.add_row(f"{name}.csv.gz", f"{rows:,}")
    console.print(summary)
    console.print("This is simulated data for trying equisynth, not research data.")
    console.print(f"Next: `equisynth load --raw {out}` loads it into the warehouse.")
