"""`equisynth train`: train a GAN or diffusion generator on the training part of a mart."""

from pathlib import Path

import typer
from rich.console import Console


def command(
    model: str = typer.Option(None, "--model", help="Generator family: gan or diffusion. Default: train.model setting."),
    table: str = typer.Option(None, "--table", help="Mart in schema main to learn from. Default: mm_admission_features."),
    epochs: int = typer.Option(None, "--epochs", min=1, help="Training epochs (in total, when resuming). Default: from the settings."),
    batch_size: int = typer.Option(None, "--batch-size", min=2, help="Rows per training batch. Default: 500."),
    lr: float = typer.Option(None, "--lr", min=0.0, help="Learning rate. Default: 2e-4 for gan, 1e-3 for diffusion."),
    device: str = typer.Option(None, "--device", help="Torch device: cpu or cuda. Default: cpu."),
    seed: int = typer.Option(None, "--seed", min=0, help="Seed for Python, NumPy and torch. Default: 0."),
    resume: str = typer.Option(None, "--resume", help="Continue run RUN_ID from its last checkpoint."),
    checkpoint_every: int = typer.Option(None, "--checkpoint-every", min=1, help="Save a checkpoint every this many epochs. Default: 50."),
    warehouse: Path = typer.Option(None, "--warehouse", help="DuckDB warehouse file. Default: $EQUISYNTH_WAREHOUSE or warehouse/equisynth.duckdb."),
    config: Path = typer.Option(None, "--config", help="Settings file. Default: ./equisynth.toml when present."),
) -> None:
    """Train a generator; the run id it prints is what `equisynth generate --run` takes."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from equisynth.config import load_settings
    from equisynth.training import TrainingInterrupted, train

    console = Console(stderr=True)
    settings = load_settings(config)
    with Progress(
        TextColumn("[bold]epoch"),
        BarColumn(bar_width=20),
        MofNCompleteColumn(),
        TextColumn("{task.fields[losses]}"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        task = bar.add_task("train", total=None, losses="preparing", rate="")

        first_epoch: list[int] = []

        def show(epoch: int, total: int, losses: dict) -> None:
            if not first_epoch:
                first_epoch.append(epoch)
                bar.reset(task, total=total, completed=epoch - 1)
            elapsed = bar.tasks[task].elapsed or 0.0
            done = epoch - first_epoch[0] + 1
            bar.update(
                task,
                completed=epoch,
                losses=" ".join(f"{name}={value:.3f}" for name, value in losses.items()),
                rate=f"{done / elapsed:.2f} epochs/s" if elapsed else "",
            )

        try:
            run_id = train(
                warehouse, model=model, table=table, epochs=epochs, batch_size=batch_size, lr=lr,
                device=device, seed=seed, resume=resume, checkpoint_every=checkpoint_every,
                settings=settings, progress=show,
            )
        except TrainingInterrupted as stopped:
            bar.stop()
            console.print(f"[yellow]{stopped}[/yellow]", highlight=False)
            raise typer.Exit(code=130) from None
    Console().print(f"Run {run_id} finished. Generate rows with `equisynth generate --run {run_id} --rows N`.")
