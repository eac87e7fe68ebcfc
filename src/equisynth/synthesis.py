"""Rebalanced synthesis of one model run: plan, generate rows with exact counts, decode, dbt build.

`generate_rebalanced` is what `equisynth generate --rebalance` and `equisynth run` call. Each step
writes its result before the next starts: the generated rows and their ml.generations record,
then the plan in ml.rebalance_plans, then the decoded tables in synthetic_<generation_id>, then
the dbt models of that schema. A failure in a later step keeps what the earlier ones wrote, and
the error names the generation id, so the step can be redone for it.
"""

import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from equisynth.config import Settings, load_settings
from equisynth.errors import EquisynthError
from equisynth.paths import warehouse_path
from equisynth.rebalance.planner import RebalancePlan, format_plan, plan_rebalance, write_plan
from equisynth.rebalance.spec import RebalanceSpec, load_spec
from equisynth.warehouse import connect

log = logging.getLogger(__name__)


@dataclass
class SynthesisResult:
    """The generation made by `generate_rebalanced`, with its plan, decoding and dbt build reports."""

    generation_id: str
    rows: int
    plan: RebalancePlan
    decode: "object"
    build: "object | None"


def resolve_spec(spec: str | Path | dict | RebalanceSpec | None, settings: Settings) -> RebalanceSpec:
    """Validate `spec` (inline TOML, a TOML file or a dict) over the `[rebalance]` settings."""
    if isinstance(spec, RebalanceSpec):
        return spec
    return load_spec(spec, settings.rebalance)


def training_rows_of_run(warehouse: Path, run_id: str) -> tuple[pd.DataFrame, list[str]]:
    """Read the real training rows the run learnt from, and the run's condition columns."""
    from equisynth.schema import load_table_schema
    from equisynth.splits import training_rows
    from equisynth.training import load_run

    run = load_run(warehouse, run_id)
    table = str(run["source_table"]).removeprefix("main.").strip('"')
    conditions = load_table_schema(table).condition_columns
    with connect(warehouse, read_only=True) as con:
        rows = training_rows(con, run["split_id"], table)
    return rows, conditions


def plan_for_run(warehouse: Path | str | None, run_id: str, spec=None, settings: Settings | None = None) -> RebalancePlan:
    """Plan rebalancing over the training rows of `run_id` without generating or writing anything.

    `by` and `within` may name only the run's condition columns, because only those can be
    requested from the generator exactly.
    """
    settings = settings or load_settings(None)
    resolved = resolve_spec(spec, settings)
    rows, conditions = training_rows_of_run(warehouse_path(warehouse), run_id)
    return plan_rebalance(rows, resolved, allowed_attributes=conditions)


def generate_rebalanced(
    warehouse: Path | str | None,
    run_id: str,
    spec: str | Path | dict | RebalanceSpec | None = None,
    settings: Settings | None = None,
    build: bool = True,
) -> SynthesisResult:
    """Plan, generate, decode and build one rebalanced generation of `run_id`; return its result.

    `spec` defaults to the `[rebalance]` settings; keys it gives override them. The decoder's k
    comes from `[decode] min_patients_per_code`, the diagnosis convention from
    `[build] skip_first_diagnosis`, the sampling device from `[train] device`.
    """
    from equisynth.decoder import decode
    from equisynth.generation import generate_rows

    settings = settings or load_settings(None)
    warehouse = warehouse_path(warehouse)
    resolved = resolve_spec(spec, settings)

    plan = plan_for_run(warehouse, run_id, resolved, settings)
    if plan.synthetic_rows == 0:
        raise EquisynthError(
            f"The training rows of run {run_id} already meet the targets of the rebalancing spec, so there "
            "are no rows to generate. Use mode = 'replace' for a fully synthetic set."
        )
    log.info("Rebalancing plan for run %s:\n%s", run_id, format_plan(plan))

    from equisynth.decoder.safe_codes import safe_code_rules
    from equisynth.schema import load_table_schema

    flag_columns = [c for c in load_table_schema().generated_columns if c.startswith(("elix_", "cci_"))]
    blocked, implications = safe_code_rules(warehouse, run_id, flag_columns, settings.decode.min_patients_per_code)

    generation_id = generate_rows(
        warehouse, run_id,
        counts=plan.counts,
        blocked_flags=blocked,
        implications=implications,
        seed=resolved.seed,
        mode=resolved.mode,
        rebalance_spec=resolved.to_json_dict(),
        device=settings.train.device,
    )
    with connect(warehouse) as con:
        write_plan(con, generation_id, plan)

    try:
        decoded = decode(
            warehouse, generation_id,
            k=settings.decode.min_patients_per_code,
            skip_first_diagnosis=settings.build.skip_first_diagnosis,
        )
        report = None
        if build:
            from equisynth.dbt_runner import build as dbt_build

            report = dbt_build(warehouse, generation=generation_id, skip_first_diagnosis=settings.build.skip_first_diagnosis)
    except EquisynthError as exc:
        raise EquisynthError(
            f"Generation {generation_id} was generated and its plan stored, but a later step failed: {exc} "
            f"Redo it with equisynth.decoder.decode(warehouse, {generation_id!r}) and "
            f"equisynth.dbt_runner.build(warehouse, generation={generation_id!r})."
        ) from exc

    return SynthesisResult(generation_id=generation_id, rows=plan.synthetic_rows, plan=plan, decode=decoded, build=report)

