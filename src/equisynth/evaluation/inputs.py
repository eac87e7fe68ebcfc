"""Read one generation's evaluation inputs from the warehouse."""

import json
import logging
from dataclasses import dataclass

import duckdb
import pandas as pd

from equisynth.errors import InputDataError, NotFoundError
from equisynth.warehouse import require_table, table_exists

log = logging.getLogger(__name__)

MART = "mm_admission_features"


@dataclass
class EvaluationInputs:
    generation_id: str
    mode: str
    split_id: str
    train: pd.DataFrame
    holdout: pd.DataFrame
    synthetic: pd.DataFrame
    plan: pd.DataFrame | None
    within: tuple[str, str] | None = None


def parse_within(spec_json: str | None) -> tuple[str, str] | None:
    """Parse the rebalance spec's `within` restriction ('multimorbid = 1') into (column, value), or None."""
    if not spec_json:
        return None
    within = json.loads(spec_json).get("within")
    if not within:
        return None
    column, separator, value = within.partition("=")
    if not separator or not column.strip() or not value.strip():
        raise InputDataError(
            f"ml.generations.rebalance_spec_json has within = {within!r}; expected the form 'column = value'."
        )
    return column.strip(), value.strip().strip("'\"")


def _split_rows(con: duckdb.DuckDBPyConnection, split_id: str, part: str) -> pd.DataFrame:
    from equisynth import splits

    return splits.training_rows(con, split_id) if part == "train" else splits.holdout_rows(con, split_id)


def read_inputs(con: duckdb.DuckDBPyConnection, generation_id: str) -> EvaluationInputs:
    """Training and holdout rows of the generation's split, its synthetic mart rows and its rebalance plan."""
    require_table(con, "ml", "generations", "Run `equisynth generate` first.")
    generation = con.execute(
        "select g.generation_id, g.mode, r.split_id from ml.generations g "
        "left join ml.model_runs r on r.run_id = g.run_id where g.generation_id = ?",
        [generation_id],
    ).fetchone()
    if generation is None:
        known = [row[0] for row in con.execute("select generation_id from ml.generations order by 1").fetchall()]
        raise NotFoundError(
            f"Generation {generation_id!r} is not in ml.generations (known: {', '.join(known) or 'none'}). "
            "Run `equisynth generate` or pick one of the known ids."
        )
    _, mode, split_id = generation
    if split_id is None:
        raise InputDataError(
            f"Generation {generation_id}: its run has no split_id in ml.model_runs, so the holdout rows are "
            "unknown. Retrain with `equisynth train`, which records the split."
        )

    schema = f"synthetic_{generation_id}"
    if not table_exists(con, schema, MART):
        raise NotFoundError(
            f"Table {schema}.{MART} is not in the warehouse. Decode and build the generation first: "
            f"`equisynth decode --generation {generation_id}` then `equisynth build --generation {generation_id}`."
        )
    require_table(con, "main", MART, "Run `equisynth build` to build the real mart.")
    synthetic = con.execute(f"select * from {schema}.{MART} order by hadm_id").df()
    train, holdout = _split_rows(con, split_id, "train"), _split_rows(con, split_id, "holdout")
    if train.empty or holdout.empty:
        raise InputDataError(
            f"Split {split_id} in ml.splits has {len(train)} training and {len(holdout)} holdout rows of "
            f"main.{MART}; both must be non-empty. Rebuild the split with a larger holdout_fraction."
        )
    if synthetic.empty:
        raise InputDataError(f"Table {schema}.{MART} has no rows. Regenerate with `equisynth generate`.")

    spec_column = con.execute(
        "select count(*) from information_schema.columns where table_schema = 'ml' "
        "and table_name = 'generations' and column_name = 'rebalance_spec_json'"
    ).fetchone()[0]
    within = None
    if spec_column:
        spec_json = con.execute(
            "select rebalance_spec_json from ml.generations where generation_id = ?", [generation_id]
        ).fetchone()[0]
        within = parse_within(spec_json)

    plan = None
    if table_exists(con, "ml", "rebalance_plans"):
        plan = con.execute(
            "select * from ml.rebalance_plans where generation_id = ? order by group_label", [generation_id]
        ).df()
    log.info("Evaluating %s (%s): %d training, %d holdout, %d synthetic rows", generation_id, mode,
             len(train), len(holdout), len(synthetic))
    return EvaluationInputs(generation_id, mode, split_id, train, holdout, synthetic, plan, within)
