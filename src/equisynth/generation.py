"""Generate rows from a trained run into `synthetic.gen_<generation_id>` and record them in `ml.generations`.

A request is either a number of rows (conditions drawn from the training distribution) or a
table of counts per condition combination, which the generated table then contains exactly.
"""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from equisynth.errors import ConfigError, EquisynthError, InputDataError, NotFoundError
from equisynth.paths import warehouse_path
from equisynth.training import load_run
from equisynth.warehouse import connect

log = logging.getLogger(__name__)

COUNT_COLUMN = "count"

GENERATIONS_DDL = """
create table if not exists ml.generations (
    generation_id varchar primary key,
    run_id varchar not null,
    seed bigint not null,
    n_rows bigint not null,
    request_json varchar not null,
    rebalance_spec_json varchar,
    mode varchar not null,
    created_at timestamp not null,
    code_fallbacks integer,
    status varchar not null
)
"""


def new_generation_id() -> str:
    return f"g{datetime.now(timezone.utc):%Y%m%d_%H%M%S}_{secrets.token_hex(2)}"


def read_counts(path: Path | str) -> pd.DataFrame:
    """Read a CSV request: one column per condition attribute and a `count` column."""
    path = Path(path)
    if not path.exists():
        raise NotFoundError(f"Counts file {path} not found.")
    try:
        counts = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputDataError(f"Counts file {path} is not a readable CSV: {exc}") from exc
    if COUNT_COLUMN not in counts.columns:
        raise InputDataError(f"Counts file {path} has no `{COUNT_COLUMN}` column; columns are {', '.join(counts.columns)}.")
    return counts


def _typed_request(counts: pd.DataFrame, model) -> pd.DataFrame:
    """Give each request column the type of the model's vocabulary (CSV values arrive as text)."""
    typed = counts.copy()
    for attribute in counts.columns:
        if attribute == COUNT_COLUMN:
            typed[attribute] = pd.to_numeric(counts[attribute], errors="coerce")
            continue
        vocabulary = model.conditions.vocabularies.get(attribute)
        if vocabulary and all(isinstance(v, int) for v in vocabulary):
            numbers = pd.to_numeric(counts[attribute], errors="coerce")
            typed[attribute] = [int(n) if pd.notna(n) and float(n).is_integer() else value for n, value in zip(numbers, counts[attribute])]
    return typed


def _check_exact(rows: pd.DataFrame, counts: pd.DataFrame) -> None:
    """Raise when the generated rows miss a requested row: a wrong total, or too few of a fully given combination."""
    total = int(counts[COUNT_COLUMN].sum())
    if len(rows) != total:
        raise EquisynthError(f"Generated {len(rows)} rows, not the {total} requested.")
    attributes = [c for c in counts.columns if c != COUNT_COLUMN]
    for _, request in counts.iterrows():
        if any(pd.isna(request[a]) or str(request[a]).strip() == "" for a in attributes):
            continue
        matching = (rows[attributes] == request[attributes].to_numpy()).all(axis=1).sum()
        if matching < int(request[COUNT_COLUMN]):
            raise EquisynthError(f"Generated {matching} rows for {request[attributes].to_dict()}, fewer than the {int(request[COUNT_COLUMN])} requested.")


def generate_rows(
    warehouse: Path | str | None = None,
    run_id: str | None = None,
    counts: pd.DataFrame | None = None,
    rows: int | None = None,
    seed: int = 0,
    mode: str | None = None,
    rebalance_spec: dict | None = None,
    device: str = "cpu",
    blocked_flags: list[str] | None = None,
    implications: dict[str, list[str]] | None = None,
) -> str:
    """Generate rows with run `run_id`, write `synthetic.gen_<id>` and `ml.generations`; return the id.

    Exactly one of `rows` and `counts` is required. With `rows`, conditions are drawn from the
    training data. `counts` has one column per condition attribute (a subset of the model's) plus
    `count`, and attributes it leaves out are drawn from training given the specified ones. `mode` and `rebalance_spec` are recorded in
    `ml.generations` (default mode: 'rows' or 'counts'). `blocked_flags` are comorbidity flags
    that must be 0 on every generated row; `implications` ties flags that the same diagnosis codes
    set (flag -> flags every such code also sets).
    """
    if run_id is None:
        raise ConfigError("A run id is needed; pass --run RUN_ID (see ml.model_runs).")
    if (rows is None) == (counts is None):
        raise ConfigError("Pass exactly one of --rows N and --counts FILE.")
    if rows is not None and rows < 1:
        raise ConfigError(f"--rows must be at least 1, not {rows}.")
    warehouse = warehouse_path(warehouse)

    run = load_run(warehouse, run_id)
    if run["status"] != "finished":
        raise EquisynthError(
            f"Run {run_id} has status {run['status']}, so it has no finished model. "
            f"Continue it with `equisynth train --resume {run_id}`."
        )

    from equisynth.seeding import resolve_device, seed_everything
    from models_ml.registry import load_model

    model = load_model(Path(run["artefact_path"]), resolve_device(device))
    seed_everything(seed)
    if counts is not None:
        counts = _typed_request(counts, model)
        generated = model.sample(counts=counts, seed=seed, blocked_flags=blocked_flags or (), implications=implications)
        _check_exact(generated, counts)
        request = {"counts": json.loads(counts.to_json(orient="records"))}
    else:
        generated = model.sample(n=rows, seed=seed, blocked_flags=blocked_flags or (), implications=implications)
        request = {"rows": rows}
    if blocked_flags:
        request["blocked_flags"] = sorted(blocked_flags)
    if generated.empty:
        raise InputDataError("The request asks for 0 rows in total; give at least one positive count.")

    generation_id = new_generation_id()
    _write(warehouse, generation_id, generated, {
        "run_id": run_id,
        "seed": seed,
        "request_json": json.dumps(request),
        "rebalance_spec_json": json.dumps(rebalance_spec) if rebalance_spec is not None else None,
        "mode": mode or ("counts" if counts is not None else "rows"),
    })
    log.info("generation %s: %d rows from run %s in synthetic.gen_%s", generation_id, len(generated), run_id, generation_id)
    return generation_id


def _write(warehouse: Path, generation_id: str, generated: pd.DataFrame, record: dict) -> None:
    """Create the table and its `ml.generations` row in one transaction, so either both exist or neither."""
    table = f"gen_{generation_id}"
    with connect(warehouse) as con:
        con.execute("create schema if not exists synthetic")
        con.execute("create schema if not exists ml")
        con.execute(GENERATIONS_DDL)
        con.register("generated_rows", generated)
        con.execute("begin transaction")
        try:
            con.execute(f'create table synthetic."{table}" as select * from generated_rows')
            con.execute(
                "insert into ml.generations values (?, ?, ?, ?, ?, ?, ?, current_timestamp, null, 'finished')",
                [generation_id, record["run_id"], record["seed"], len(generated), record["request_json"],
                 record["rebalance_spec_json"], record["mode"]],
            )
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        finally:
            con.unregister("generated_rows")
