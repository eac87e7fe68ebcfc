"""Peer job run inside the synthcity virtual environment (synthcity 0.2.12) by bench_generators.py.

1. Speed: the TabDDPM plugin ("ddpm", MLP 256 x 3, 1,000 cosine steps) on the whole mart for a
   few epochs at batch 1024; the training loop is timed apart from the plugin's encoders.
2. Quality: the plugin trains on the training part for as many epochs as the time budget allows
   at the measured epoch time, then generates rows (all 1,000 denoising steps, its only sampler
   in the plugin), timed for throughput and written for scoring.
Between the two, the cost of one sampling step at 2,000 rows is timed over a few steps.

Text columns and columns with few values are coded as class indices before fitting (see
DISCRETE_LIMIT) and decoded after sampling. Prints one JSON line.
Usage: <peer python> bench/peers/synthcity_job.py CONFIG_JSON
"""

import json
import math
import resource
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import torch

warnings.filterwarnings("ignore")

# The plugin's encoder quantile-transforms columns with more than 10 distinct values, and TabDDPM
# then treats any column with at most 10 distinct values as class indices 0..K-1. A count column
# with 12 values collapses to 10 quantiles, which crashes training ("Class values must be
# non-negative"). So columns with at most 20 values (our own rule for counts) are coded densely,
# and the encoder's limit is raised to 20 so it passes them through unchanged.
DISCRETE_LIMIT = 20


def category_codes(frame: pd.DataFrame) -> dict:
    """Sorted values of each column with at most DISCRETE_LIMIT distinct values (text columns always)."""
    return {
        column: sorted(frame[column].unique())
        for column in frame.columns
        if frame[column].dtype == object or frame[column].nunique() <= DISCRETE_LIMIT
    }


def encode(frame: pd.DataFrame, categories: dict) -> pd.DataFrame:
    coded = frame.copy()
    for column, values in categories.items():
        coded[column] = pd.Categorical(frame[column], categories=values).codes
    return coded


def decode(frame: pd.DataFrame, categories: dict) -> pd.DataFrame:
    decoded = frame.copy()
    for column, values in categories.items():
        codes = pd.to_numeric(frame[column], errors="coerce").fillna(0).round().clip(0, len(values) - 1).astype(int)
        decoded[column] = [values[code] for code in codes]
    return decoded


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    torch.set_num_threads(config["threads"])
    from importlib.metadata import version

    import synthcity.plugins.core.models.tabular_ddpm as ddpm_module
    from synthcity.plugins import Plugins
    from synthcity.plugins.core.dataloader import GenericDataLoader

    full = pd.read_csv(config["full_csv"], keep_default_na=False, na_values=[""])
    train = pd.read_csv(config["train_csv"], keep_default_na=False, na_values=[""])
    result = {"version": version("synthcity"), "torch": torch.__version__, "batch_size": config["diffusion_batch"]}
    workspace = Path(config["out_dir"]) / "synthcity_workspace"

    # TabDDPM.fit wraps range(n_iter) in trange once its encoders and networks are ready.
    loop_started = {}
    original_trange = ddpm_module.trange

    def timed_trange(*args, **kwargs):
        loop_started["at"] = time.perf_counter()
        return original_trange(*args, **kwargs)

    ddpm_module.trange = timed_trange

    def plugin(n_iter: int):
        model = Plugins().get("ddpm", n_iter=n_iter, batch_size=config["diffusion_batch"], num_timesteps=1000,
                              dim_embed=128, random_state=config["seed"], workspace=workspace)
        model.encoder.categorical_limit = DISCRETE_LIMIT
        return model

    epochs = config["speed_epochs"]
    model = plugin(epochs)
    started = time.perf_counter()
    model.fit(GenericDataLoader(encode(full, category_codes(full))))
    finished = time.perf_counter()
    steps = epochs * math.ceil(len(full) / config["diffusion_batch"])
    result["prepare_seconds"] = loop_started["at"] - started
    result["seconds_per_epoch"] = (finished - loop_started["at"]) / epochs
    result["seconds_per_step"] = (finished - loop_started["at"]) / steps
    print(json.dumps(result), flush=True)  # partial result, kept by the caller if a later step times out

    # Sampling cost per denoising step at the plugin's largest batch (2,000 rows), timed over the
    # first `probe_steps` of the 1,000 steps, because a full pass takes many minutes here.
    probe_steps, probe_rows = config["synthcity_probe_steps"], config["synthcity_probe_rows"]
    diffusion = model.model.diffusion
    diffusion.num_timesteps = probe_steps
    started = time.perf_counter()
    model.model.generate(probe_rows)
    step_seconds = (time.perf_counter() - started) / probe_steps
    diffusion.num_timesteps = 1000
    result.update(sample_step_seconds=step_seconds, sample_probe_rows=probe_rows,
                  estimated_rows_per_second=probe_rows / (step_seconds * 1000))
    print(json.dumps(result), flush=True)
    del model

    seconds_per_train_epoch = result["seconds_per_epoch"] * len(train) / len(full)
    budget_epochs = max(1, int(config["budget_seconds"] / seconds_per_train_epoch))
    model = plugin(budget_epochs)
    categories = category_codes(train)
    model.fit(GenericDataLoader(encode(train, categories)))
    result["budget_epochs"] = budget_epochs
    result["budget_train_seconds"] = time.perf_counter() - loop_started["at"]
    print(json.dumps(result), flush=True)

    count = config["synthcity_sample_rows"]
    started = time.perf_counter()
    rows = model.generate(count=count).dataframe()
    result["sample_rows"] = len(rows)
    result["sample_rows_per_second"] = len(rows) / (time.perf_counter() - started)
    decode(rows, categories)[list(full.columns)].to_csv(Path(config["out_dir"]) / "synthcity_ddpm.csv", index=False)
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
