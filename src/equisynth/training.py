"""Train a generator on the training part of a mart and record the run in `ml.model_runs`.

A run lives in `<warehouse dir>/models/<run_id>/`: `checkpoint/` (weights, optimiser and random
states, every `checkpoint_every` epochs and on Ctrl-C) and `model/` (the finished model). Both are
artefact folders with a manifest (transformer, schema, seed, library versions, parameters).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import pandas as pd

from equisynth.config import Settings, load_settings
from equisynth.errors import ConfigError, EquisynthError, NotFoundError
from equisynth.paths import DBT_PROJECT_DIR, models_dir, warehouse_path
from equisynth.schema import check_columns, load_table_schema
from equisynth.seeding import resolve_device, seed_everything
from equisynth.splits import ensure_split, training_rows
from equisynth.warehouse import connect, require_table, table_exists

log = logging.getLogger(__name__)

ProgressCallback = Callable[[int, int, dict], None]

MODEL_RUNS_DDL = """
create table if not exists ml.model_runs (
    run_id varchar primary key,
    model varchar not null,
    params_json varchar not null,
    seed bigint not null,
    source_table varchar not null,
    source_fingerprint varchar not null,
    split_id varchar not null,
    device varchar not null,
    started_at timestamp not null,
    wall_seconds double,
    final_losses_json varchar,
    artefact_path varchar,
    status varchar not null
)
"""


class TrainingInterrupted(EquisynthError):
    """Ctrl-C during training: a checkpoint was saved and the run can be resumed."""


@dataclass
class RunOptions:
    model: str
    table: str
    epochs: int
    params: dict
    device: str
    seed: int
    checkpoint_every: int
    threads: int | None


def model_params(settings: Settings, model: str, batch_size: int | None = None, lr: float | None = None) -> dict:
    """Constructor parameters of `model` from the [train] and [gan]/[diffusion] settings."""
    train = settings.train
    if model == "gan":
        section = settings.gan.model_dump()
        params = {k: section[k] for k in ("lr", "pac", "noise_dim", "embedding_dim", "generator_dims", "discriminator_dims", "discriminator_steps", "gradient_penalty",
                                            "penalty_every")}
    elif model == "diffusion":
        section = settings.diffusion.model_dump()
        params = {k: section[k] for k in ("lr", "timesteps", "sampling_steps", "guidance_scale", "condition_dropout", "embedding_dim", "hidden_dims",
                                            "validation_fraction", "patience")}
    else:
        raise ConfigError(f"Model {model!r} is not known; use gan or diffusion.")
    params["batch_size"] = batch_size or train.batch_size
    params["lr"] = lr or train.lr or params["lr"]
    return params


def source_fingerprint(table: pd.DataFrame) -> str:
    """SHA-256 over every row and column of a mart, ordered by hadm_id; changes when the mart does."""
    ordered = table.sort_values("hadm_id").reset_index(drop=True) if "hadm_id" in table else table
    digest = hashlib.sha256(",".join(map(str, ordered.columns)).encode())
    digest.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def comorbidity_hierarchy() -> list[tuple[str, str]]:
    """(dominant, suppressed) flag pairs of the dbt seed, as dbt applies them before counting."""
    try:
        from equisynth.codelists import load_code_lists
    except ImportError:  # the code-list module ships with the dbt project; read its seed directly then
        frame = pd.read_csv(DBT_PROJECT_DIR / "seeds" / "seed_comorbidity_hierarchy.csv", dtype=str)
        return list(frame[["dominant_flag", "suppressed_flag"]].itertuples(index=False, name=None))
    return [tuple(pair) for pair in load_code_lists().hierarchy]


def new_run_id(model: str) -> str:
    return f"{model}_{datetime.now(timezone.utc):%Y%m%d_%H%M%S}_{secrets.token_hex(2)}"


def train(
    warehouse: Path | str | None = None,
    model: str | None = None,
    table: str | None = None,
    epochs: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    device: str | None = None,
    seed: int | None = None,
    resume: str | None = None,
    checkpoint_every: int | None = None,
    settings: Settings | None = None,
    progress: ProgressCallback | None = None,
) -> str:
    """Train a generator on `main.<table>` (training patients only) and return the run id.

    Arguments left as None come from `settings` (default: ./equisynth.toml or the defaults).
    `resume` continues an interrupted run from its last checkpoint, up to `epochs` in total.
    `progress(epoch, epochs, losses)` is called after every epoch.
    """
    settings = settings or load_settings(None)
    warehouse = warehouse_path(warehouse or settings.warehouse.path)
    if resume:
        return _resume(warehouse, resume, epochs, checkpoint_every, settings, progress)

    model = model or settings.train.model
    section = {"gan": settings.gan, "diffusion": settings.diffusion}.get(model)
    if section is None:
        raise ConfigError(f"Model {model!r} is not known; use gan or diffusion.")
    options = RunOptions(
        model=model,
        table=table or settings.train.table,
        epochs=epochs or settings.train.epochs or section.epochs,
        params=model_params(settings, model, batch_size, lr),
        device=resolve_device(device or settings.train.device),
        seed=settings.train.seed if seed is None else seed,
        checkpoint_every=checkpoint_every or settings.train.checkpoint_every,
        threads=settings.train.threads,
    )
    schema = load_table_schema(options.table)

    with connect(warehouse) as con:
        require_table(con, "main", options.table, "Build the marts first with `equisynth build`.")
        columns = [row[0] for row in con.execute(f'describe main."{options.table}"').fetchall()]
        check_columns(schema, columns, f"main.{options.table}")
        fingerprint = source_fingerprint(con.execute(f'select * from main."{options.table}"').df())
        split_id = ensure_split(con, settings.split.holdout_fraction, settings.split.seed, options.table)
        rows = training_rows(con, split_id, options.table)

    from models_ml.registry import model_class

    seed_everything(options.seed, options.threads)
    generator = model_class(options.model)(options.params, options.seed, options.device)
    generator.prepare(rows, schema, comorbidity_hierarchy())

    run_id = new_run_id(options.model)
    run_dir = models_dir(warehouse) / run_id
    with connect(warehouse) as con:
        con.execute("create schema if not exists ml")
        con.execute(MODEL_RUNS_DDL)
        con.execute(
            "insert into ml.model_runs values (?, ?, ?, ?, ?, ?, ?, ?, current_timestamp, null, null, ?, 'running')",
            [run_id, options.model, json.dumps({**options.params, "epochs": options.epochs, "checkpoint_every": options.checkpoint_every}),
             options.seed, f"main.{options.table}", fingerprint, split_id, options.device, str(run_dir / "model")],
        )
    log.info("training %s run %s on %d rows of main.%s for %d epochs", options.model, run_id, len(rows), options.table, options.epochs)
    return _run_epochs(warehouse, run_id, generator, options.epochs, options.checkpoint_every, progress)


def _resume(warehouse: Path, run_id: str, epochs: int | None, checkpoint_every: int | None, settings: Settings, progress: ProgressCallback | None) -> str:
    run = load_run(warehouse, run_id)
    params = json.loads(run["params_json"])
    total = epochs or params["epochs"]
    checkpoint = models_dir(warehouse) / run_id / "checkpoint"
    if not checkpoint.exists():
        raise NotFoundError(f"Run {run_id} has no checkpoint at {checkpoint}; it cannot be resumed. Train a new run.")

    from models_ml.registry import load_model

    seed_everything(int(run["seed"]), settings.train.threads)
    generator = load_model(checkpoint, run["device"])
    if generator.epochs_done >= total:
        raise ConfigError(
            f"Run {run_id} has already trained {generator.epochs_done} epochs; pass --epochs above that to continue it."
        )
    table = run["source_table"].split(".", 1)[1]
    with connect(warehouse) as con:
        if source_fingerprint(con.execute(f'select * from main."{table}"').df()) != run["source_fingerprint"]:
            raise EquisynthError(
                f"Table {run['source_table']} changed since run {run_id} started (its fingerprint differs), "
                "so the run cannot continue on the same data. Train a new run."
            )
        rows = training_rows(con, run["split_id"], table)
    generator.attach_training_data(rows)
    log.info("resuming run %s at epoch %d of %d", run_id, generator.epochs_done, total)
    return _run_epochs(warehouse, run_id, generator, total, checkpoint_every or params.get("checkpoint_every", 50), progress)


def _run_epochs(warehouse: Path, run_id: str, generator, epochs: int, checkpoint_every: int, progress: ProgressCallback | None) -> str:
    run_dir = models_dir(warehouse) / run_id
    started = time.perf_counter()

    def after_epoch(epoch: int, losses: dict) -> None:
        log.debug("run %s epoch %d/%d losses %s", run_id, epoch, epochs, losses)
        if epoch % checkpoint_every == 0 and epoch < epochs:
            generator.save_checkpoint(run_dir / "checkpoint")
        if progress is not None:
            progress(epoch, epochs, losses)

    try:
        generator.train(epochs, after_epoch)
    except KeyboardInterrupt:
        # NOTE: weights may include some batches of the interrupted epoch, which a resumed run then repeats in full,
        # so an interrupted-and-resumed run is close to, not identical with, an uninterrupted one.
        generator.save_checkpoint(run_dir / "checkpoint")
        _finish_run(warehouse, run_id, "interrupted", time.perf_counter() - started, generator.losses)
        raise TrainingInterrupted(
            f"Training of run {run_id} stopped at epoch {generator.epochs_done} of {epochs}; a checkpoint is saved in "
            f"{run_dir / 'checkpoint'}. Continue it with `equisynth train --resume {run_id}`."
        ) from None
    except Exception:
        _finish_run(warehouse, run_id, "failed", time.perf_counter() - started, generator.losses)
        raise

    generator.save(run_dir / "model")
    generator.save_checkpoint(run_dir / "checkpoint")
    _finish_run(warehouse, run_id, "finished", time.perf_counter() - started, generator.losses)
    log.info("run %s finished: %d epochs, losses %s", run_id, generator.epochs_done, generator.losses)
    return run_id


def _finish_run(warehouse: Path, run_id: str, status: str, seconds: float, losses: dict) -> None:
    with connect(warehouse) as con:
        con.execute(
            "update ml.model_runs set status = ?, wall_seconds = coalesce(wall_seconds, 0) + ?, final_losses_json = ? where run_id = ?",
            [status, seconds, json.dumps(losses), run_id],
        )


def load_run(warehouse: Path | str | None, run_id: str) -> dict:
    """Return the `ml.model_runs` row of `run_id` as a dict, or raise NotFoundError naming the run."""
    with connect(warehouse, read_only=True) as con:
        if not table_exists(con, "ml", "model_runs"):
            raise NotFoundError(f"Run {run_id} not found: the warehouse has no ml.model_runs yet. Train a model with `equisynth train`.")
        frame = con.execute("select * from ml.model_runs where run_id = ?", [run_id]).df()
        if frame.empty:
            known = [row[0] for row in con.execute("select run_id from ml.model_runs order by started_at desc limit 5").fetchall()]
            raise NotFoundError(f"Run {run_id} not found in ml.model_runs. Recent runs: {', '.join(known) or 'none'}.")
    return frame.iloc[0].to_dict()
