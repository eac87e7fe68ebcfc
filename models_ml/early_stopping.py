"""Stop training when the loss on held-back training patients stops improving, and keep the best weights.

On a small table a generator trained for many epochs learns its rows by heart. On the
100-patient MIMIC-III demo, the diffusion model's loss on patients it does not fit was lowest
after 25 to 40 epochs and rose from there. Meanwhile its synthetic rows moved closer to the
training rows: the median distance to the closest record fell from 2.7 at 50 epochs to 0.3 at
1,000. On a few thousand rows the held-back loss keeps falling, so the run uses all its epochs.

The held-back patients are a share of the training patients only; the evaluation's holdout
patients are never seen.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# Below this many training patients no share is held back: too few remain to fit.
MIN_PATIENTS = 10


def held_back_mask(table: pd.DataFrame, id_column: str | None, fraction: float, seed: int) -> np.ndarray:
    """Select the rows of a fixed `fraction` of the patients in `id_column`, or none when there are too few patients."""
    none = np.zeros(len(table), dtype=bool)
    if fraction <= 0 or id_column is None or id_column not in table:
        return none
    patients = np.sort(table[id_column].dropna().unique())
    if len(patients) < MIN_PATIENTS:
        return none
    count = max(1, int(round(fraction * len(patients))))
    chosen = np.random.default_rng(seed).choice(patients, size=count, replace=False)
    return table[id_column].isin(chosen).to_numpy()


@dataclass
class EarlyStopping:
    """Best held-back loss so far, with its epoch and weights. After `patience` epochs without a lower loss, the run stops."""

    patience: int
    best_loss: float = float("inf")
    best_epoch: int = 0
    best_weights: dict | None = field(default=None, repr=False)
    stopped: bool = False

    def update(self, epoch: int, loss: float, weights: dict) -> bool:
        """Record the loss after `epoch` and return True when training should stop."""
        if loss < self.best_loss:
            self.best_loss, self.best_epoch = loss, epoch
            self.best_weights = copy.deepcopy(weights)
            return False
        return epoch - self.best_epoch >= self.patience

    def state(self) -> dict:
        return {"patience": self.patience, "best_loss": self.best_loss, "best_epoch": self.best_epoch, "stopped": self.stopped}

    @classmethod
    def from_state(cls, state: dict, weights: dict | None) -> "EarlyStopping":
        return cls(int(state["patience"]), float(state["best_loss"]), int(state["best_epoch"]), weights, bool(state["stopped"]))
