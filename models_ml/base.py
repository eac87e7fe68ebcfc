"""Common interface of the tabular generators: fit, sample, save, load, and checkpoints.

A subclass supplies the networks (`_build`), one training epoch (`_train_epoch`) and the
generation of encoded rows for given condition codes (`_generate`). Everything else is shared:
encoding with `DataTransformer`, conditions with `ConditionEncoder`, consistency rules, seeding,
and the artefact on disk.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch

from equisynth.errors import InputDataError
from models_ml import artefact
from models_ml.conditioning import ConditionEncoder
from models_ml.constraints import ConsistencyRules, band_specs
from models_ml.early_stopping import EarlyStopping, held_back_mask
from models_ml.table_schema import TableSchema
from models_ml.transformer import DataTransformer

log = logging.getLogger(__name__)

EpochCallback = Callable[[int, dict], None]
SAMPLE_BATCH_ROWS = 8192


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch, and ask torch for deterministic kernels."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


class TabularGenerator:
    """Base class: a conditional generator of the generated columns of a `TableSchema`."""

    name = "base"
    transformer_method = "gmm"
    default_params: dict = {}

    def __init__(self, params: dict | None = None, seed: int = 0, device: str = "cpu") -> None:
        unknown = set(params or {}) - set(self.default_params)
        if unknown:
            raise ValueError(f"unknown {self.name} parameter(s): {', '.join(sorted(unknown))}")
        self.params = {**self.default_params, **(params or {})}
        self.seed = seed
        self.device = torch.device(device)
        self.schema: TableSchema | None = None
        self.transformer: DataTransformer | None = None
        self.conditions: ConditionEncoder | None = None
        self.rules: ConsistencyRules | None = None
        self.epochs_done = 0
        self.losses: dict[str, float] = {}
        self.rng = np.random.default_rng(seed)
        self.stopping: EarlyStopping | None = None
        self._validation: tuple[torch.Tensor, torch.Tensor] | None = None

    # ---- training ---------------------------------------------------------------------------------

    def fit(
        self,
        table: pd.DataFrame,
        schema: TableSchema,
        epochs: int,
        hierarchy: list[tuple[str, str]] = (),
        callback: EpochCallback | None = None,
    ) -> "TabularGenerator":
        """Prepare encoders and networks from `table`, then train for `epochs` epochs."""
        self.prepare(table, schema, hierarchy)
        return self.train(epochs, callback)

    def prepare(self, table: pd.DataFrame, schema: TableSchema, hierarchy: list[tuple[str, str]] = ()) -> None:
        """Fit the transformer, condition vocabularies and rules, and build the networks."""
        seed_everything(self.seed)
        if not schema.condition_columns:
            raise InputDataError(f"Table {schema.model} declares no condition column; mark at least one with `condition: true`.")
        if len(table) < 2:
            raise InputDataError(f"Table {schema.model} has {len(table)} training row(s); at least 2 are needed.")
        self.schema = schema
        self.conditions = ConditionEncoder(schema.condition_columns).fit(table)
        bands = band_specs(table, schema)
        self.transformer = DataTransformer(self.transformer_method, self.params.get("max_modes", 10), self.seed)
        self.transformer.fit(table, schema, bands)
        self.rules = ConsistencyRules.for_schema(schema, list(hierarchy), table)

        self._attach(table)
        self._build()
        self.epochs_done = 0
        self.stopping = EarlyStopping(self.params["patience"]) if self._validation is not None else None

    def _attach(self, table: pd.DataFrame) -> None:
        """Encode the rows to fit and, for a model with a validation loss, the held-back patients' rows."""
        held_back = np.zeros(len(table), dtype=bool)
        patient = next((column.name for column in self.schema.columns if column.kind == "id"), None)
        if self.params.get("validation_fraction"):
            held_back = held_back_mask(table, patient, self.params["validation_fraction"], self.seed)

        self._data, self._codes = self._encode(table.loc[~held_back])
        self._validation = None
        if held_back.any():
            validation = table.loc[held_back]
            self._validation = self._encode(validation)
            log.info("%d rows of %d patients held back to stop training when their loss stops falling",
                     int(held_back.sum()), validation[patient].nunique())

    def _encode(self, table: pd.DataFrame) -> tuple[torch.Tensor, torch.Tensor]:
        """Return the encoded rows and condition codes of `table` on the model's device."""
        data = torch.from_numpy(self.transformer.transform(table)).to(self.device)
        codes = torch.from_numpy(self.conditions.encode(table)).to(self.device)
        return data, codes

    def train(self, epochs: int, callback: EpochCallback | None = None) -> "TabularGenerator":
        """Train until `epochs` epochs are done in total (a resumed model continues its count).

        With held-back patients, training also stops once their loss has not improved for
        `patience` epochs, and the model takes the weights of its best epoch. A model that has
        stopped this way trains no further.
        """
        for epoch in range(self.epochs_done, epochs):
            if self.stopping is not None and self.stopping.stopped:
                break
            self._set_train_mode(True)
            self.losses = self._train_epoch(epoch)
            self.epochs_done = epoch + 1
            stop = False
            if self.stopping is not None and self._validation is not None:
                self._set_train_mode(False)
                self.losses["validation_loss"] = self._validation_loss(*self._validation)
                stop = self.stopping.update(self.epochs_done, self.losses["validation_loss"], self._weights())
            if callback is not None:
                callback(self.epochs_done, self.losses)
            if stop:
                log.info("held-back loss has not improved for %d epochs: stopping at epoch %d, keeping epoch %d",
                         self.stopping.patience, self.epochs_done, self.stopping.best_epoch)
                self.stopping.stopped = True
                self._load_weights(self.stopping.best_weights)
                self.losses["best_epoch"] = float(self.stopping.best_epoch)
                break
        self._set_train_mode(False)
        return self

    # ---- sampling -----------------------------------------------------------------------------------

    def sample(
        self,
        n: int | None = None,
        counts: pd.DataFrame | None = None,
        seed: int = 0,
        blocked_flags: tuple[str, ...] | list[str] = (),
        implications: dict[str, list[str]] | None = None,
    ) -> pd.DataFrame:
        """Generate rows: `n` with conditions drawn from training, or exactly `counts` per combination.

        `counts` has one column per specified condition attribute and a `count` column; returned
        rows contain every output column (generated columns and conditions) in table order.
        `blocked_flags` are 0 on every row and `implications` tie flags that the same diagnosis
        codes set (see `ConsistencyRules.apply`).
        """
        if (n is None) == (counts is None):
            raise ValueError("pass exactly one of n and counts")
        rng = np.random.default_rng(seed)
        conditions = self.conditions.rows_for_total(n, rng) if counts is None else self.conditions.rows_for_counts(counts, rng)
        return self.sample_conditions(conditions, seed, blocked_flags, implications)

    def sample_conditions(
        self,
        conditions: pd.DataFrame,
        seed: int = 0,
        blocked_flags: tuple[str, ...] | list[str] = (),
        implications: dict[str, list[str]] | None = None,
    ) -> pd.DataFrame:
        """Generate one row per row of `conditions` (a column per condition attribute)."""
        codes = self.conditions.encode(conditions)
        generator = torch.Generator(device=self.device).manual_seed(seed)
        self._set_train_mode(False)

        matrices, probabilities = [], []
        with torch.no_grad():
            for start in range(0, len(codes), SAMPLE_BATCH_ROWS):
                batch = torch.from_numpy(codes[start:start + SAMPLE_BATCH_ROWS]).to(self.device)
                matrix, probability = self._generate(batch, generator)
                matrices.append(matrix.cpu().numpy())
                probabilities.append(probability.cpu().numpy())
        width = self.transformer.output_dim
        matrix = np.concatenate(matrices) if matrices else np.zeros((0, width), np.float32)
        probability = np.concatenate(probabilities) if probabilities else np.zeros((0, width), np.float32)

        conditions = conditions.reset_index(drop=True)
        rows = self.transformer.inverse_transform(matrix, conditions)
        rows = self.rules.apply(
            rows, conditions, self._flag_probability(probability), blocked_flags,
            np.random.default_rng(seed), implications,
        )
        for attribute in self.conditions.attributes:
            values = conditions[attribute].to_numpy()
            if all(isinstance(v, int) for v in self.conditions.vocabularies[attribute]):
                values = values.astype(np.int64)
            rows[attribute] = values
        return rows[self.schema.output_columns]

    def _flag_probability(self, probability: np.ndarray) -> pd.DataFrame:
        """P(flag = 1) per row for each flag the multimorbidity rule uses."""
        return pd.DataFrame({flag: self.transformer.probability_of(probability, flag, 1) for flag in self.rules.multimorbid_flags})

    # ---- persistence ----------------------------------------------------------------------------------

    def state(self) -> dict:
        """JSON-ready description of everything but the weights."""
        return {
            "model": self.name,
            "params": self.params,
            "seed": self.seed,
            "epochs_done": self.epochs_done,
            "losses": self.losses,
            "early_stopping": self.stopping.state() if self.stopping is not None else None,
            "schema": self.schema.to_dict(),
            "transformer": self.transformer.to_dict(),
            "conditions": self.conditions.to_dict(),
            "rules": self.rules.to_dict(),
        }

    def save(self, path: Path) -> None:
        """Write the trained model (weights, transformer, schema, seed, versions) to folder `path`."""
        artefact.write(Path(path), self.state(), {"weights": self._weights()})

    def save_checkpoint(self, path: Path) -> None:
        """Write weights, optimiser states and random states, so `train` can continue exactly."""
        tensors = {
            "weights": self._weights(),
            "best_weights": self.stopping.best_weights if self.stopping is not None else None,
            "optimisers": self._optimiser_states(),
            "torch_rng": torch.get_rng_state(),
            "numpy_rng": self.rng.bit_generator.state,
        }
        artefact.write(Path(path), self.state(), tensors)

    @classmethod
    def load(cls, path: Path, device: str = "cpu") -> "TabularGenerator":
        """Read a model written by `save` or `save_checkpoint` from folder `path`."""
        state, tensors = artefact.read(Path(path))
        model = cls._from_state(state, device)
        model._load_weights(tensors["weights"])
        if state.get("early_stopping"):
            model.stopping = EarlyStopping.from_state(state["early_stopping"], tensors.get("best_weights"))
        if "optimisers" in tensors:
            model._load_optimiser_states(tensors["optimisers"])
            torch.set_rng_state(tensors["torch_rng"])
            model.rng.bit_generator.state = tensors["numpy_rng"]
        return model

    @classmethod
    def _from_state(cls, state: dict, device: str) -> "TabularGenerator":
        if state["model"] != cls.name:
            raise ValueError(f"artefact contains a {state['model']} model, not {cls.name}")
        model = cls(state["params"], state["seed"], device)
        model.schema = TableSchema.from_dict(state["schema"])
        model.transformer = DataTransformer.from_dict(state["transformer"])
        model.conditions = ConditionEncoder.from_dict(state["conditions"])
        model.rules = ConsistencyRules.from_dict(state["rules"])
        model.epochs_done = int(state["epochs_done"])
        model.losses = dict(state["losses"])
        model._build()
        return model

    def attach_training_data(self, table: pd.DataFrame) -> None:
        """Encode `table` with the fitted transformer so a loaded checkpoint can continue training."""
        self._attach(table)
        self._after_data_attached()

    # ---- subclass hooks ------------------------------------------------------------------------------

    def _build(self) -> None:
        raise NotImplementedError

    def _after_data_attached(self) -> None:
        """Recompute what depends on the training data (samplers); called after `attach_training_data`."""

    def _train_epoch(self, epoch: int) -> dict[str, float]:
        raise NotImplementedError

    def _validation_loss(self, data: torch.Tensor, codes: torch.Tensor) -> float:
        """Return the loss on encoded held-back rows. Models that set `validation_fraction` implement it."""
        raise NotImplementedError

    def _generate(self, codes: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """Return encoded rows with one-hot decisions and the probabilities behind them, both (batch, output_dim)."""
        raise NotImplementedError

    def _modules(self) -> dict[str, torch.nn.Module]:
        raise NotImplementedError

    def _optimisers(self) -> dict[str, torch.optim.Optimizer]:
        raise NotImplementedError

    def _set_train_mode(self, training: bool) -> None:
        for module in self._modules().values():
            module.train(training)

    def _weights(self) -> dict:
        return {name: module.state_dict() for name, module in self._modules().items()}

    def _load_weights(self, weights: dict) -> None:
        for name, module in self._modules().items():
            module.load_state_dict(weights[name])

    def _optimiser_states(self) -> dict:
        return {name: optimiser.state_dict() for name, optimiser in self._optimisers().items()}

    def _load_optimiser_states(self, states: dict) -> None:
        for name, optimiser in self._optimisers().items():
            optimiser.load_state_dict(states[name])
