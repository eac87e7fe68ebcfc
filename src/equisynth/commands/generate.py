"""`equisynth generate`: write generated rows of a trained run to `synthetic.gen_<generation_id>`."""

from pathlib import Path

import typer
from rich.console import Console


def command(
    run: str = typer.Option(..., "--run", help="Run id of a finished training run (see ml.model_runs)."),
    rows: int = typer.Option(None, "--rows", min=1, help="Rows to generate, with conditions drawn from the training data."),
    counts: Path = typer.Option(None, "--counts", help="CSV with one column per condition attribute and a `count` column: rows wanted per combination."),
    seed: int = typer.Option(0, "--seed", min=0, help="Seed of the sampling."),
    device: str = typer.Option("cpu", "--device", help="Torch device for sampling: cpu or cuda."),
    warehouse: Path = typer.Option(None, "--warehouse", help="DuckDB warehouse file. Default: $EQUISYNTH_WAREHOUSE or warehouse/equisynth.duckdb."),
    rebalance: str = typer.Option(None, "--rebalance", help="Rebalancing spec, inline TOML (e.g. 'by = [\"ethnicity_group\", \"insurance\"], target = \"parity\", within = \"multimorbid = 1\"') or a TOML file; keys left out come from the rebalance section of equisynth.toml. Plans the rows per group, generates them, decodes them into MIMIC-III tables and builds their marts."),
) -> None:
    """Generate rows, exactly as many per condition combination as the counts file asks."""
    from equisynth.errors import ConfigError
    from equisynth.generation import generate_rows, read_counts

    if rebalance is not None:
        from equisynth.commands.rebalance_output import generate_with_rebalance

        generate_with_rebalance(warehouse, run, rebalance, seed=seed, device=device, rows=rows, counts=counts)
        return
    if (rows is None) == (counts is None):
        raise ConfigError("Pass exactly one of --rows N and --counts FILE.")
    request = read_counts(counts) if counts is not None else None
    generation_id = generate_rows(warehouse, run, counts=request, rows=rows, seed=seed, device=device)
    Console().print(f"Generation {generation_id}: rows in synthetic.gen_{generation_id}.")
