"""Nested flags encoded as one block, and early stopping on held-back patients."""

import numpy as np
import pandas as pd
import pytest
import torch

from mart_factory import HIERARCHY, make_mart, mart_schema
from models_ml import nested_flags
from models_ml.early_stopping import EarlyStopping, held_back_mask
from models_ml.registry import MODELS, load_model
from models_ml.transformer import DataTransformer

SMALL = {
    "gan": {"batch_size": 100, "generator_dims": [64, 64], "discriminator_dims": [64, 64], "noise_dim": 32},
    "diffusion": {"batch_size": 100, "hidden_dims": [64, 64], "embedding_dim": 32, "sampling_steps": 10},
}


def nested_table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    """cci_chf implies elix_chf on every row; elix_pvd is independent of both."""
    rng = np.random.default_rng(seed)
    elix_chf = (rng.random(n) < 0.3).astype(int)
    cci_chf = elix_chf * (rng.random(n) < 0.8).astype(int)
    return pd.DataFrame({"elix_chf": elix_chf, "cci_chf": cci_chf, "elix_pvd": (rng.random(n) < 0.4).astype(int)})


def test_nested_pair_grouped():
    table = nested_table()

    assert nested_flags.nested_groups(table, ["elix_chf", "cci_chf", "elix_pvd"]) == [["elix_chf", "cci_chf"]]


def test_chance_nesting_not_grouped():
    # elix_pvd is 1 on 3 rows, all of which happen to have the common flag: 0.6 ** 3 is no evidence.
    table = pd.DataFrame({"common": [1] * 60 + [0] * 40, "elix_pvd": [1] * 3 + [0] * 97})

    assert nested_flags.nested_groups(table, ["common", "elix_pvd"]) == []


def test_codes_round_trip():
    table = nested_table(50)
    members = ["elix_chf", "cci_chf", "elix_pvd"]

    decoded = nested_flags.decode(nested_flags.encode(table, members).to_numpy(), members)

    for name in members:
        assert decoded[name].tolist() == table[name].tolist()


def mart_with_nesting(n: int, seed: int) -> tuple[pd.DataFrame, list[str]]:
    """The invented mart with a Charlson flag made a subset of an Elixhauser one, as shared codes make them."""
    table = make_mart(n, seed=seed)
    ranked = {flag for pair in HIERARCHY for flag in pair}
    generated = [c for c in mart_schema().generated_columns if c not in ranked]
    parent = next(c for c in generated if c.startswith("elix_"))
    child = next(c for c in generated if c.startswith("cci_"))
    table[parent] = (np.random.default_rng(seed).random(n) < 0.4).astype(int)
    table[child] = table[parent] * (np.random.default_rng(seed + 1).random(n) < 0.6).astype(int)
    return table, [parent, child]


def test_transformer_encodes_nested_flags_as_one_block():
    table, pair = mart_with_nesting(300, seed=1)
    transformer = DataTransformer("quantile").fit(table, mart_schema())
    grouped = [info["members"] for info in transformer.columns if "members" in info]

    restored = transformer.inverse_transform(transformer.transform(table), table)

    assert any(set(pair) <= set(members) for members in grouped)
    for members in grouped:
        for name in members:
            assert restored[name].tolist() == table[name].tolist()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_generated_rows_keep_training_nesting(name):
    table, (parent, child) = mart_with_nesting(400, seed=3)
    torch.set_num_threads(1)
    model = MODELS[name](SMALL[name], seed=0).fit(table, mart_schema(), 3, HIERARCHY)

    rows = model.sample(n=600, seed=2, implications={child: [parent]})

    assert rows[child].sum() > 0
    assert not ((rows[child] == 1) & (rows[parent] == 0)).any()


def test_held_back_mask_takes_whole_patients_deterministically():
    table = pd.DataFrame({"subject_id": np.repeat(np.arange(40), 3), "x": np.arange(120)})

    first = held_back_mask(table, "subject_id", 0.1, seed=4)
    second = held_back_mask(table, "subject_id", 0.1, seed=4)

    assert (first == second).all()
    assert table.loc[first, "subject_id"].nunique() == 4
    assert first.sum() == 12
    assert not held_back_mask(table.head(9 * 3), "subject_id", 0.1, seed=4).any()


def test_early_stopping_keeps_best_epoch():
    stopping = EarlyStopping(patience=2)

    decisions = [stopping.update(epoch, loss, {"w": torch.tensor([float(epoch)])}) for epoch, loss in enumerate([3.0, 2.0, 2.5, 2.4], 1)]

    assert decisions == [False, False, False, True]
    assert stopping.best_epoch == 2
    assert stopping.best_weights["w"].item() == 2.0


def test_diffusion_stops_on_held_back_loss_and_resumes(tmp_path):
    table = make_mart(300, seed=1)
    torch.set_num_threads(1)
    params = {**SMALL["diffusion"], "patience": 2}
    model = MODELS["diffusion"](params, seed=0).fit(table, mart_schema(), 400, HIERARCHY)

    assert model.epochs_done < 400
    assert model.epochs_done - model.stopping.best_epoch == 2
    assert model.losses["best_epoch"] == model.stopping.best_epoch
    assert "validation_loss" in model.losses
    assert model.stopping.stopped

    stopped_at = model.epochs_done
    model.train(500)
    assert model.epochs_done == stopped_at

    model.save_checkpoint(tmp_path / "checkpoint")
    restored = load_model(tmp_path / "checkpoint")
    assert restored.stopping.best_epoch == model.stopping.best_epoch
    assert restored.stopping.best_loss == pytest.approx(model.stopping.best_loss)
    assert restored.stopping.stopped
