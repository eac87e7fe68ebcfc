"""Terminal output of `equisynth generate --rebalance`: the plan table and where the results are."""

from pathlib import Path

from rich.console import Console
from rich.markup import escape
from rich.table import Table


def generate_with_rebalance(warehouse: Path | None, run: str, spec: str, seed: int, device: str, rows: int | None, counts: Path | None) -> None:
    """Run the rebalanced synthesis of `run` and print the plan, the decoding and the dbt build."""
    from equisynth.config import load_settings
    from equisynth.errors import ConfigError
    from equisynth.rebalance.spec import load_spec, parse_spec_text
    from equisynth.synthesis import generate_rebalanced

    if rows is not None or counts is not None:
        raise ConfigError("--rebalance sizes the generation itself; leave out --rows and --counts.")
    values = parse_spec_text(spec)
    values.setdefault("seed", seed)
    settings = load_settings(None)
    settings.train.device = device

    validated = load_spec(values, settings.rebalance, source=f"--rebalance {spec!r}")
    result = generate_rebalanced(warehouse, run, validated, settings=settings)

    console = Console()
    console.print(plan_table(result.plan))
    for warning in result.plan.warnings:
        console.print(f"[yellow]Warning:[/yellow] {escape(warning)}", highlight=False)
    decoded = result.decode
    console.print(
        f"Generation [bold]{result.generation_id}[/bold]: {result.rows} rows in synthetic.gen_{result.generation_id}; "
        f"MIMIC-III tables in {decoded.schema} ({', '.join(f'{name} {count}' for name, count in decoded.tables.items())}); "
        f"{decoded.code_fallbacks} diagnosis codes from the dictionary (fewer than k = {decoded.k} training patients had a code of that category); "
        f"{decoded.adjusted_rows} rows moved to the nearest feasible value.",
        highlight=False,
    )
    if result.build is not None:
        console.print(f"dbt built the marts of {decoded.schema}; compare them with the real ones in main.mm_admission_features_all.")


def plan_table(plan) -> Table:
    table = Table(title=escape(f"Rebalancing plan ({plan.spec.mode}, target {plan.spec.target}, within {plan.spec.within or 'all rows'})"))
    for header in ("group", "real rows", "real share", "target share", "synthetic rows", "achieved share"):
        table.add_column(header, justify="left" if header == "group" else "right")
    for row in plan.groups.itertuples():
        table.add_row(
            escape(row.group_label), str(row.real_count), f"{row.real_share:.3f}", f"{row.target_share:.3f}",
            str(row.synthetic_rows), f"{row.achieved_share:.3f}",
        )
    return table
