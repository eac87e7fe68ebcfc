"""GAN and diffusion generators on an invented table: train, save, load, sample, conditions, validity."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from equisynth.errors import EquisynthError, InputDataError
from mart_factory import HIERARCHY, make_mart, mart_schema
from model_checks import assert_exact_counts, assert_valid_rows, frames_equal, request_with_absent_combination
from models_ml.artefact import ArtefactError
from models_ml.registry import MODELS, load_model

SMALL = {
    "gan": {"batch_size": 100, "generator_dims": [64, 64], "discriminator_dims": [64, 64], "noise_dim": 32},
    "diffusion": {"batch_size": 100, "hidden_dims": [64, 64], "embedding_dim": 32, "sampling_steps": 10},
}
EPOCHS = 3


@pytest.fixture(scope="module")
def training_table() -> pd.DataFrame:
    return make_mart(300, seed=1)


def train_model(name: str, table: pd.DataFrame, epochs: int = EPOCHS, seed: int = 0):
    torch.set_num_threads(1)
    model = MODELS[name](SMALL[name], seed=seed)
    return model.fit(table, mart_schema(), epochs, HIERARCHY)


@pytest.fixture(scope="module", params=sorted(MODELS))
def trained(request, training_table):
    return request.param, train_model(request.param, training_table)


def test_sample_rows_valid(trained, training_table):
    name, model = trained
    rows = model.sample(n=500, seed=3)
    assert len(rows) == 500
    assert_valid_rows(rows, training_table, mart_schema())


def test_counts_exact_with_absent_combination(trained, training_table):
    name, model = trained
    request, absent = request_with_absent_combination(training_table)
    rows = model.sample(counts=request, seed=4)
    assert_exact_counts(rows, request)
    assert_valid_rows(rows, training_table, mart_schema())
    absent_rows = rows[(rows[list(absent)] == pd.Series(absent)).all(axis=1)]
    assert len(absent_rows) == 13
    assert absent_rows["age"].between(0, 17).all()


def test_counts_partial_request_draws_others(trained, training_table):
    name, model = trained
    request = pd.DataFrame({"ethnicity_group": ["BLACK", "HISPANIC"], "count": [30, 12]})
    rows = model.sample(counts=request, seed=5)
    assert (rows["ethnicity_group"] == "BLACK").sum() == 30
    assert (rows["ethnicity_group"] == "HISPANIC").sum() == 12
    assert set(rows["insurance"]) <= set(training_table["insurance"])
    assert_valid_rows(rows, training_table, mart_schema())


def test_unseen_condition_value_rejected(trained):
    name, model = trained
    request = pd.DataFrame({"ethnicity_group": ["MARTIAN"], "count": [5]})
    with pytest.raises(InputDataError, match="ethnicity_group = MARTIAN was never seen"):
        model.sample(counts=request, seed=0)


def test_request_without_count_rejected(trained):
    name, model = trained
    with pytest.raises(InputDataError, match="count"):
        model.sample(counts=pd.DataFrame({"gender": ["F"]}), seed=0)


def test_same_seed_same_rows(trained):
    name, model = trained
    first = model.sample(n=200, seed=11)
    second = model.sample(n=200, seed=11)
    other = model.sample(n=200, seed=12)
    assert frames_equal(first, second)
    assert not frames_equal(first, other)


def test_save_load_samples_identically(trained, tmp_path):
    name, model = trained
    model.save(tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert type(loaded) is type(model)
    assert frames_equal(model.sample(n=150, seed=2), loaded.sample(n=150, seed=2))
    manifest = json.loads((tmp_path / "model" / "manifest.json").read_text())
    assert manifest["seed"] == 0
    assert manifest["libraries"]["torch"] == torch.__version__.split("+")[0] or manifest["libraries"]["torch"].startswith(torch.__version__.split("+")[0])
    assert manifest["schema"]["model"] == "mm_admission_features"


def test_corrupt_artefact_rejected(trained, tmp_path):
    name, model = trained
    model.save(tmp_path / "model")
    weights = tmp_path / "model" / "tensors.pt"
    weights.write_bytes(weights.read_bytes()[:-100])
    with pytest.raises(ArtefactError, match="corrupt"):
        load_model(tmp_path / "model")
    (tmp_path / "model" / "manifest.json").write_text("{not json")
    with pytest.raises(EquisynthError, match="manifest"):
        load_model(tmp_path / "model")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_training_deterministic(name, training_table):
    first = train_model(name, training_table, epochs=2, seed=7).sample(n=100, seed=1)
    second = train_model(name, training_table, epochs=2, seed=7).sample(n=100, seed=1)
    assert frames_equal(first, second)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_resume_continues_checkpoint(name, training_table, tmp_path):
    straight = train_model(name, training_table, epochs=4, seed=5)

    torch.set_num_threads(1)
    partial = MODELS[name](SMALL[name], seed=5)
    partial.fit(training_table, mart_schema(), 2, HIERARCHY)
    partial.save_checkpoint(tmp_path / "checkpoint")
    resumed = load_model(tmp_path / "checkpoint")
    assert resumed.epochs_done == 2
    resumed.attach_training_data(training_table)
    epochs_seen = []
    resumed.train(4, lambda epoch, losses: epochs_seen.append(epoch))

    assert epochs_seen == [3, 4]
    assert resumed.losses == pytest.approx(straight.losses)
    assert frames_equal(straight.sample(n=100, seed=1), resumed.sample(n=100, seed=1))


def test_multimorbid_switches_on_probable_flags(training_table):
    from models_ml.constraints import ConsistencyRules

    rules = ConsistencyRules.for_schema(mart_schema(), HIERARCHY, training_table)
    rows = pd.DataFrame(0, index=range(2), columns=rules.multimorbid_flags)
    rows.loc[1, ["elix_chf", "elix_pvd", "elix_obesity"]] = 1
    probability = pd.DataFrame(0.01, index=range(2), columns=rules.multimorbid_flags)
    probability.loc[0, ["elix_renal_failure", "elix_depression"]] = [0.4, 0.3]
    probability.loc[0, "elix_aids_hiv"] = 0.9  # never on in training, so never switched on
    probability.loc[1, "elix_pvd"] = 0.8
    conditions = pd.DataFrame({"multimorbid": [1, 0]})

    fixed = rules.apply(rows, conditions, probability)
    assert set(np.array(rules.multimorbid_flags)[fixed.loc[0].to_numpy() == 1]) == {"elix_renal_failure", "elix_depression"}
    assert set(np.array(rules.multimorbid_flags)[fixed.loc[1].to_numpy() == 1]) == {"elix_pvd"}


def test_gan_lazy_penalty_steps(training_table, monkeypatch):
    from models_ml.gan import ConditionalGAN

    weights, penalty_steps = [], []
    penalty_weight = ConditionalGAN._penalty_weight
    gradient_penalty = ConditionalGAN._gradient_penalty

    def record_weight(self, step):
        weight = penalty_weight(self, step)
        weights.append((step, weight))
        return weight

    def record_penalty(self, real, fake):
        penalty_steps.append(weights[-1][0])
        return gradient_penalty(self, real, fake)

    monkeypatch.setattr(ConditionalGAN, "_penalty_weight", record_weight)
    monkeypatch.setattr(ConditionalGAN, "_gradient_penalty", record_penalty)
    torch.set_num_threads(1)
    params = {**SMALL["gan"], "penalty_every": 3, "discriminator_steps": 2, "gradient_penalty": 10.0}
    ConditionalGAN(params, seed=0).fit(training_table, mart_schema(), 2, HIERARCHY)

    # 300 rows at batch 100 give 3 steps per epoch with 2 discriminator steps each: 12 in 2 epochs.
    assert [step for step, _ in weights] == list(range(12))
    assert [weight for _, weight in weights] == [30.0 if step % 3 == 0 else 0.0 for step in range(12)]
    assert penalty_steps == [0, 3, 6, 9]


@pytest.mark.parametrize("every", [0, -2, 1.5, True])
def test_gan_penalty_every_invalid(every):
    from models_ml.gan import ConditionalGAN

    with pytest.raises(ValueError, match="penalty_every"):
        ConditionalGAN({"penalty_every": every})
