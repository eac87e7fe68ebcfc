"""Peer job run inside the ctgan virtual environment (ctgan 0.12.1, SDV 2.0.0) by bench_generators.py.

1. Speed: ctgan's CTGAN on the whole mart for a few epochs at batch 500; the epoch loop is
   timed apart from CTGAN's data transformer, and then every row is sampled once.
2. Quality: SDV's CTGANSynthesizer (the same ctgan CTGAN behind SDV's preprocessing) trains on
   the training part for as many epochs as the time budget allows at the measured epoch time,
   and generates the rows that bench_generators.py scores.
3. Conditional sampling: `sample_from_conditions` with one `Condition` on the small
   intersection; an error (such as "Unable to sample any rows") is recorded as a failure.

Prints one JSON line. Usage: <peer python> bench/peers/ctgan_job.py CONFIG_JSON
"""

import json
import resource
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import torch

warnings.filterwarnings("ignore")


def single_table(data):
    return next(iter(data.values())) if isinstance(data, dict) else data


def main() -> None:
    config = json.loads(Path(sys.argv[1]).read_text())
    torch.set_num_threads(config["threads"])
    torch.manual_seed(config["seed"])
    import ctgan
    import ctgan.synthesizers.ctgan as ctgan_module
    import sdv

    full = pd.read_csv(config["full_csv"], keep_default_na=False, na_values=[""])
    train = pd.read_csv(config["train_csv"], keep_default_na=False, na_values=[""])
    discrete = config["discrete"]
    result = {"version": ctgan.__version__, "sdv_version": sdv.__version__, "torch": torch.__version__}
    network = dict(embedding_dim=128, generator_dim=(256, 256), discriminator_dim=(256, 256), batch_size=config["gan_batch"], pac=10)

    # The epoch loop starts when CTGAN.fit wraps range(epochs) in tqdm, after its transformer is fitted.
    loop_started = {}
    original_tqdm = ctgan_module.tqdm

    def timed_tqdm(*args, **kwargs):
        loop_started["at"] = time.perf_counter()
        return original_tqdm(*args, **kwargs)

    ctgan_module.tqdm = timed_tqdm
    epochs = config["speed_epochs"]
    model = ctgan.CTGAN(epochs=epochs, verbose=False, enable_gpu=False, **network)
    started = time.perf_counter()
    model.fit(full, discrete)
    finished = time.perf_counter()
    result["prepare_seconds"] = loop_started["at"] - started
    result["seconds_per_epoch"] = (finished - loop_started["at"]) / epochs
    started = time.perf_counter()
    rows = model.sample(len(full))
    result["sample_rows_per_second"] = len(rows) / (time.perf_counter() - started)
    del model

    from sdv.metadata import Metadata
    from sdv.sampling import Condition
    from sdv.single_table import CTGANSynthesizer

    sdtypes = {column: {"sdtype": "categorical" if column in discrete else "numerical"} for column in train.columns}
    metadata = Metadata.load_from_dict({"tables": {"admissions": {"columns": sdtypes}}})
    budget_epochs = max(1, int(config["budget_seconds"] / (result["seconds_per_epoch"] * len(train) / len(full))))
    synthesizer = CTGANSynthesizer(metadata, epochs=budget_epochs, verbose=False, enable_gpu=False, **network)
    started = time.perf_counter()
    synthesizer.fit({"admissions": train})  # SDV 2 takes and returns {table name: DataFrame}
    result["sdv"] = {"version": sdv.__version__, "budget_epochs": budget_epochs, "fit_seconds": time.perf_counter() - started}
    # Training seconds at the measured epoch time, so the budget column compares like with like.
    result["sdv"]["budget_train_seconds"] = budget_epochs * result["seconds_per_epoch"] * len(train) / len(full)
    single_table(synthesizer.sample(num_rows=config["eval_rows"])).to_csv(Path(config["out_dir"]) / "sdv_ctgan.csv", index=False)

    intersection = config["intersection"]
    conditional = {"requested": config["conditional_rows"], "rows": 0, "matching": 0, "error": None}
    started = time.perf_counter()
    try:
        rows = single_table(synthesizer.sample_from_conditions([Condition(intersection, num_rows=config["conditional_rows"])]))
        conditional["rows"] = len(rows)
        conditional["matching"] = int((rows[list(intersection)].astype(str) == pd.Series(intersection)).all(axis=1).sum())
    except Exception as exc:  # SDV raises ValueError when rejection sampling finds no row; any error is a failure here
        conditional["error"] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]}"
    conditional["seconds"] = time.perf_counter() - started
    conditional["rows_per_second"] = conditional["matching"] / conditional["seconds"]
    result["sdv"]["conditional"] = conditional
    result["sdv"]["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["peak_mib"] = result["sdv"]["peak_mib"]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
