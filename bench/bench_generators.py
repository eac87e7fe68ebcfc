"""Compare equisynth's generators with ctgan, SDV and synthcity on `mm_admission_features`.

Every model runs in its own process (ours in this environment, the peers in their own virtual
environments, see bench/peers/), one after the other, with the same torch thread count:

- Speed, on the whole mart: GAN seconds per epoch at batch 500 against ctgan's CTGAN; diffusion
  milliseconds per training step at batch 1024 against synthcity's TabDDPM plugin ("ddpm"); rows
  per second when sampling; peak resident memory of each process.
- Quality at an equal training budget: each model trains on the training patients (an 80/20
  split by patient) for as many epochs as fit in `--budget` seconds, then generates `--eval-rows`
  rows, scored against the held-out patients: mean Kolmogorov-Smirnov statistic over numeric
  columns, mean total variation distance over discrete columns, and the AUROC on real held-out
  rows of a classifier of `hospital_expire_flag` trained on the synthetic rows (train on
  synthetic, test on real). The diffusion model samples both with its strided default schedule
  and with all 1,000 steps, to show that the shortcut keeps fidelity.
- Conditional sampling of a small intersection (default ASIAN x Medicaid x F): rows per second
  of our exact conditioning against SDV's CTGANSynthesizer `sample_from_conditions`, which
  samples by rejection; its errors are recorded as failures.

Results replace the "Generators" section of docs/benchmarks.md and go to
docs/benchmarks_generators.json. The mart comes from the warehouse that bench_warehouse.py
leaves behind (or `--warehouse`); `--quick` builds a small sample instead, for a smoke run.

Usage: python bench/bench_generators.py [--quick] [--budget 60] [--peer-env-dir /tmp]
"""

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
from bench_sample import machine  # noqa: E402
from bench_warehouse import run_step, write_section  # noqa: E402

REPO_ROOT = BENCH_DIR.parent
RESULTS_JSON = REPO_ROOT / "docs" / "benchmarks_generators.json"
SECTION_TITLE = "## Generators"
TABLE = "mm_admission_features"
TARGET = "hospital_expire_flag"
MAX_COUNT_CATEGORIES = 20  # the rule of models_ml.transformer: counts with few values are one-hot

# Virtual environment of each peer: folder name and pinned requirements. synthcity 0.2.12 pulls
# torch 2.2.2 and fails to import with opacus 1.5, so opacus is pinned below 1.5.
PEER_ENVS = {
    "ctgan": ("peer_ctgan", ["ctgan==0.12.1", "sdv==2.0.0"]),
    "synthcity": ("peer_synthcity", ["synthcity==0.2.12", "opacus<1.5"]),
}


# ---- data ------------------------------------------------------------------------------------------


def read_mart(warehouse: Path) -> pd.DataFrame:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f"select * from main.{TABLE} order by hadm_id").df()


def split_by_patient(table: pd.DataFrame, seed: int, holdout_fraction: float = 0.2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows 80/20 by subject_id, so no patient is on both sides."""
    subjects = np.sort(table["subject_id"].unique())
    rng = np.random.default_rng(seed)
    holdout = set(rng.choice(subjects, size=int(round(len(subjects) * holdout_fraction)), replace=False).tolist())
    in_holdout = table["subject_id"].isin(holdout)
    return table[~in_holdout].reset_index(drop=True), table[in_holdout].reset_index(drop=True)


def column_roles(table: pd.DataFrame) -> dict:
    """Output columns of the mart and which of them are discrete (as our transformer treats them)."""
    from equisynth.schema import load_table_schema

    schema = load_table_schema(TABLE)
    columns = schema.output_columns
    discrete = []
    for name in columns:
        kind = schema[name].kind
        if kind in ("categorical", "binary") or (kind == "count" and table[name].nunique() <= MAX_COUNT_CATEGORIES):
            discrete.append(name)
    return {"columns": columns, "discrete": discrete, "conditions": schema.condition_columns}


def prepare_data(args: argparse.Namespace) -> dict:
    """Export the mart's whole table and training part as CSV for the peers; return the job config."""
    table = read_mart(args.warehouse)
    train, holdout = split_by_patient(table, args.seed)
    roles = column_roles(table)
    data_dir = args.work_dir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    table[roles["columns"]].to_csv(data_dir / "full.csv", index=False)
    train[roles["columns"]].to_csv(data_dir / "train.csv", index=False)

    intersection = dict(zip(["ethnicity_group", "insurance", "gender"], args.intersection))
    mask = np.logical_and.reduce([table[k] == v for k, v in intersection.items()])
    return {
        **roles,
        "warehouse": str(args.warehouse),
        "full_csv": str(data_dir / "full.csv"),
        "train_csv": str(data_dir / "train.csv"),
        "out_dir": str(args.work_dir / "out"),
        "rows_full": len(table),
        "rows_train": len(train),
        "rows_holdout": len(holdout),
        "patients": int(table["subject_id"].nunique()),
        "seed": args.seed,
        "threads": args.threads,
        "budget_seconds": args.budget,
        "speed_epochs": args.speed_epochs,
        "eval_rows": args.eval_rows,
        "conditional_rows": args.conditional_rows,
        "intersection": intersection,
        "intersection_share": float(mask.mean()),
        "intersection_rows": int(mask.sum()),
        "gan_batch": 500,
        "diffusion_batch": 1024,
        "synthcity_sample_rows": args.synthcity_sample_rows,
        "schedule_rows": args.schedule_rows,
        "synthcity_probe_steps": 20,
        "synthcity_probe_rows": 2000,
    }


# ---- our generators (run as `--job gan|diffusion`) ---------------------------------------------------


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train_for_budget(model, budget: float, max_epochs: int = 100_000) -> tuple[int, float]:
    """Train one epoch at a time until `budget` seconds of training have passed; return (epochs, seconds)."""
    start = time.perf_counter()
    while model.epochs_done < max_epochs and time.perf_counter() - start < budget:
        model.train(model.epochs_done + 1)
        if model.stopping is not None and model.stopping.stopped:
            break
    return model.epochs_done, time.perf_counter() - start


def run_ours(name: str, config: dict) -> dict:
    """Speed on the whole mart, then quality and conditional sampling after a budgeted training."""
    import torch

    from equisynth.schema import load_table_schema
    from equisynth.training import comorbidity_hierarchy
    from models_ml.registry import model_class

    torch.set_num_threads(config["threads"])
    schema = load_table_schema(TABLE)
    hierarchy = comorbidity_hierarchy()
    table = read_mart(Path(config["warehouse"]))
    train, _ = split_by_patient(table, config["seed"])
    batch = config["gan_batch"] if name == "gan" else config["diffusion_batch"]
    out_dir = Path(config["out_dir"])
    result: dict = {"model": name, "batch_size": batch}

    # Speed: prepare (encoders, networks) apart from the epochs, on every row of the mart (none held back).
    speed_params = {"batch_size": batch, **({"validation_fraction": 0.0} if name == "diffusion" else {})}
    model = model_class(name)(speed_params, config["seed"])
    started = time.perf_counter()
    model.prepare(table, schema, hierarchy)
    result["prepare_seconds"] = time.perf_counter() - started
    result["params"] = model.params
    epoch_seconds = []
    for epoch in range(config["speed_epochs"]):
        started = time.perf_counter()
        model.train(epoch + 1)
        epoch_seconds.append(time.perf_counter() - started)
    steps = math.ceil(len(table) / batch)
    result.update(epoch_seconds=epoch_seconds, steps_per_epoch=steps, seconds_per_step=min(epoch_seconds) / steps)
    if name == "gan":
        started = time.perf_counter()
        rows = model.sample(n=len(table), seed=config["seed"])
        result["sample_rows_per_second"] = len(rows) / (time.perf_counter() - started)
    del model

    # Quality: train on the training part for the budget, then generate.
    model = model_class(name)({"batch_size": batch}, config["seed"])
    model.prepare(train, schema, hierarchy)
    epochs, seconds = train_for_budget(model, config["budget_seconds"])
    result.update(budget_epochs=epochs, budget_train_seconds=seconds)

    started = time.perf_counter()
    rows = model.sample(n=config["eval_rows"], seed=config["seed"] + 1)
    result["eval_sample_seconds"] = time.perf_counter() - started
    rows.to_csv(out_dir / f"ours_{name}.csv", index=False)
    if name == "diffusion":
        result["sample_rows_per_second"] = len(rows) / result["eval_sample_seconds"]
        result["sampling_steps_default"] = model.params["sampling_steps"]
        # Strided against all 1,000 steps, on fewer rows because the full schedule is 20x slower.
        model.sample(n=config["schedule_rows"], seed=config["seed"] + 3).to_csv(out_dir / f"ours_{name}_strided_small.csv", index=False)
        model.params["sampling_steps"] = model.params["timesteps"]
        started = time.perf_counter()
        rows = model.sample(n=config["schedule_rows"], seed=config["seed"] + 3)
        result["full_schedule_rows_per_second"] = len(rows) / (time.perf_counter() - started)
        rows.to_csv(out_dir / f"ours_{name}_full_schedule.csv", index=False)
        model.params["sampling_steps"] = result["sampling_steps_default"]

    # Conditional sampling of the small intersection, exact by construction; checked here.
    counts = pd.DataFrame([{**config["intersection"], "count": config["conditional_rows"]}])
    started = time.perf_counter()
    rows = model.sample(counts=counts, seed=config["seed"] + 2)
    seconds = time.perf_counter() - started
    matching = int(np.logical_and.reduce([rows[k] == v for k, v in config["intersection"].items()]).sum())
    result["conditional"] = {"requested": config["conditional_rows"], "rows": len(rows), "matching": matching,
                             "seconds": seconds, "rows_per_second": matching / seconds, "error": None}
    result["peak_mib"] = peak_mib()
    return result


# ---- peers -------------------------------------------------------------------------------------------


def peer_python(peer: str, env_dir: Path) -> Path:
    """Python of the peer's virtual environment, created with `python3 -m venv` and pip when absent."""
    folder, requirements = PEER_ENVS[peer]
    env = env_dir / folder
    python = env / "bin" / "python"
    if python.exists():
        return python
    print(f"Creating the {peer} environment in {env} (pip install {' '.join(requirements)}) ...", flush=True)
    subprocess.run(["python3", "-m", "venv", str(env)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *requirements], check=True)
    return python


def run_job(command: list[str], name: str, config_path: Path, timeout: float, threads: int) -> dict:
    """Run one job process; return its JSON result, or {"error": ...} when it fails or times out."""
    started = time.perf_counter()
    print(f"[{time.strftime('%H:%M:%S')}] {name} ...", flush=True)
    # BLAS and OpenMP pools (numpy, scikit-learn, torch) get the same thread count as torch.
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    try:
        result = subprocess.run([*command, str(config_path)], capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        print(f"  {name} timed out after {timeout:.0f} s", flush=True)
        output = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        partial = [line for line in output.splitlines() if line.startswith("{")]
        return {**(json.loads(partial[-1]) if partial else {}), "error": f"timed out after {timeout:.0f} s"}
    wall = time.perf_counter() - started
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.returncode != 0 or not lines:
        print(f"  {name} failed (exit {result.returncode}):\n{result.stderr[-3000:]}", flush=True)
        return {"error": f"exit {result.returncode}: {result.stderr.strip().splitlines()[-1] if result.stderr.strip() else 'no output'}"}
    measured = json.loads(lines[-1])
    measured["job_wall_seconds"] = wall
    print(f"  {name} done in {wall:.0f} s", flush=True)
    return measured


# ---- scoring -------------------------------------------------------------------------------------------


def discrete_values(series: pd.Series) -> pd.Series:
    """Discrete values as text, with numbers written as integers, so '1', 1 and 1.0 compare equal."""
    numbers = pd.to_numeric(series, errors="coerce")
    if numbers.notna().all():
        return numbers.round().astype(np.int64).astype(str)
    return series.astype(str)


def fidelity(synthetic: pd.DataFrame, real: pd.DataFrame, roles: dict) -> dict:
    """Mean KS statistic over numeric columns and mean TVD over discrete columns (0 = identical)."""
    from scipy.stats import ks_2samp

    ks, tvd = {}, {}
    for column in roles["columns"]:
        if column in roles["discrete"]:
            a = discrete_values(synthetic[column]).value_counts(normalize=True)
            b = discrete_values(real[column]).value_counts(normalize=True)
            tvd[column] = 0.5 * float(a.subtract(b, fill_value=0).abs().sum())
        else:
            ks[column] = float(ks_2samp(pd.to_numeric(synthetic[column], errors="coerce").dropna(), real[column].astype(float)).statistic)
    return {"ks_mean": float(np.mean(list(ks.values()))), "tvd_mean": float(np.mean(list(tvd.values()))), "ks": ks, "tvd": tvd}


def features(frame: pd.DataFrame, roles: dict, categories: dict) -> pd.DataFrame:
    columns = [c for c in roles["columns"] if c != TARGET]
    encoded = pd.DataFrame(index=frame.index)
    for column in columns:
        if column in categories:
            encoded[column] = pd.Categorical(frame[column].astype(str), categories=categories[column]).codes
        else:
            encoded[column] = pd.to_numeric(frame[column], errors="coerce")
    return encoded


def tstr_auroc(synthetic: pd.DataFrame, train_real: pd.DataFrame, holdout: pd.DataFrame, roles: dict, seed: int) -> float | None:
    """AUROC on real held-out rows of a gradient-boosting classifier of TARGET fitted on `synthetic`."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score

    text_columns = [c for c in roles["discrete"] if c != TARGET and pd.to_numeric(train_real[c], errors="coerce").isna().any()]
    categories = {c: sorted(train_real[c].astype(str).unique()) for c in text_columns}
    labels = discrete_values(synthetic[TARGET]).astype(int)
    if labels.nunique() < 2:
        return None
    x = features(synthetic, roles, categories)
    classifier = HistGradientBoostingClassifier(max_iter=200, random_state=seed,
                                                categorical_features=[c in categories for c in x.columns])
    classifier.fit(x, labels)
    return float(roc_auc_score(holdout[TARGET].astype(int), classifier.predict_proba(features(holdout, roles, categories))[:, 1]))


def score(results: dict, config: dict, args: argparse.Namespace) -> dict:
    """Fidelity and train-on-synthetic AUROC of every generated table, and of real training rows as a reference."""
    table = read_mart(args.warehouse)
    train, holdout = split_by_patient(table, args.seed)
    out_dir = Path(config["out_dir"])
    candidates = {
        "real training rows (reference)": train.sample(n=min(config["eval_rows"], len(train)), random_state=args.seed),
        "ours GAN": out_dir / "ours_gan.csv",
        "ours diffusion (strided default)": out_dir / "ours_diffusion.csv",
        "ours diffusion, same model: strided default, schedule rows": out_dir / "ours_diffusion_strided_small.csv",
        "ours diffusion, same model: all 1,000 steps, schedule rows": out_dir / "ours_diffusion_full_schedule.csv",
        "SDV CTGANSynthesizer (ctgan 0.12.1)": out_dir / "sdv_ctgan.csv",
        "synthcity ddpm (TabDDPM)": out_dir / "synthcity_ddpm.csv",
    }
    scores = {}
    for label, source in candidates.items():
        if isinstance(source, Path):
            if not source.exists():
                continue
            source = pd.read_csv(source, keep_default_na=False, na_values=[""])
        scored = fidelity(source, holdout, config)
        scored["tstr_auroc"] = tstr_auroc(source, train, holdout, config, args.seed)
        scored["rows"] = len(source)
        scores[label] = scored
    return scores


# ---- report ---------------------------------------------------------------------------------------------


def number(value, fmt: str = "{:,.1f}") -> str:
    return "n/a" if value is None else fmt.format(value)


def ratio(peer, ours) -> str:
    return "n/a" if peer is None or ours is None or ours == 0 else f"{peer / ours:.1f}x"


def render(config: dict, results: dict, scores: dict, command: str, load_averages: list[float], wall: float) -> str:
    gan, diffusion = results.get("gan", {}), results.get("diffusion", {})
    ctgan, sdv, synthcity = results.get("ctgan", {}), results.get("sdv", {}), results.get("synthcity", {})
    gan_epoch = min(gan["epoch_seconds"]) if "epoch_seconds" in gan else None
    ctgan_epoch = ctgan.get("seconds_per_epoch")
    diffusion_step = diffusion["seconds_per_step"] * 1000 if "seconds_per_step" in diffusion else None
    synthcity_step = synthcity["seconds_per_step"] * 1000 if "seconds_per_step" in synthcity else None
    share = config["intersection_share"]
    condition = " & ".join(f"{k}={v}" for k, v in config["intersection"].items())

    lines = [
        SECTION_TITLE,
        "",
        f"Side-by-side run on `{TABLE}` of the built-in sample ({config['patients']:,} patients, "
        f"{config['rows_full']:,} admissions x {len(config['columns'])} generated columns, of which "
        f"{len(config['discrete'])} are discrete). Every model ran in its own process, one after another,",
        f"with {config['threads']} thread per process for torch, BLAS and OpenMP alike, because two threads on the shared CPUs",
        "made our GAN about 7x slower in a check. The peers ran in their own virtual environments (bench/peers/).",
        "Network widths and batch sizes are equal: GAN generator and discriminator 256 x 256, batch 500,",
        "pac 10, noise 128 (CTGAN's defaults); diffusion MLP 256 x 3, embedding 128, 1,000-step cosine",
        "schedule, batch 1024 (TabDDPM's defaults in synthcity). Peers get the same discrete columns as our",
        f"transformer (categorical, binary, and counts with at most {MAX_COUNT_CATEGORIES} distinct values).",
        "Other processes shared the two CPUs during the run, so every time is an upper bound for an idle",
        "machine, and the ratios compare runs made minutes apart under similar load.",
        "",
        f"- Command: {command}",
        f"- Machine: {machine()}",
        f"- Measured: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, 1-minute load average "
        f"{min(load_averages):.1f} to {max(load_averages):.1f}; whole run {wall / 60:.1f} min",
        f"- Versions: ctgan {ctgan.get('version', 'n/a')} and SDV {sdv.get('version', 'n/a')} with torch "
        f"{ctgan.get('torch', 'n/a')}; synthcity {synthcity.get('version', 'n/a')} with torch {synthcity.get('torch', 'n/a')}; "
        f"ours with torch {gan.get('torch', diffusion.get('torch', 'n/a'))}",
        "",
        "### Speed and memory (whole mart)",
        "",
        "| measure | ours | peer | speed-up of ours | target |",
        "|---|---:|---:|---:|---|",
        f"| GAN seconds per epoch, batch 500 (best of {config['speed_epochs']}) | {number(gan_epoch, '{:.2f}')} | "
        f"{number(ctgan_epoch, '{:.2f}')} (ctgan CTGAN) | {ratio(ctgan_epoch, gan_epoch)} | ours >= 3x faster |",
        f"| GAN sampling, rows/s ({config['rows_full']:,} rows) | {number(gan.get('sample_rows_per_second'), '{:,.0f}')} | "
        f"{number(ctgan.get('sample_rows_per_second'), '{:,.0f}')} (ctgan CTGAN) | {ratio(gan.get('sample_rows_per_second'), ctgan.get('sample_rows_per_second'))} | |",
        f"| GAN peak memory of the process, MiB | {number(gan.get('peak_mib'), '{:,.0f}')} | {number(ctgan.get('peak_mib'), '{:,.0f}')} "
        f"(ctgan + SDV process) | | ours <= 2,048 |",
        f"| Diffusion ms per training step, batch 1024 | {number(diffusion_step, '{:.1f}')} | {number(synthcity_step, '{:.1f}')} "
        f"(synthcity ddpm) | {ratio(synthcity_step, diffusion_step)} | ours >= 2x faster |",
        f"| Diffusion sampling, rows/s | {number(diffusion.get('sample_rows_per_second'), '{:,.0f}')} "
        f"({diffusion.get('sampling_steps_default', 'n/a')} strided steps, {config['eval_rows']:,} rows) | "
        f"{number(synthcity.get('sample_rows_per_second'), '{:,.2f}')} (synthcity `generate`, 1,000 steps, {synthcity.get('sample_rows', 'n/a')} rows) | "
        f"{ratio(diffusion.get('sample_rows_per_second'), synthcity.get('sample_rows_per_second'))} | ours >= 20x faster |",
        f"| synthcity sampling estimated from {config['synthcity_probe_steps']} of its 1,000 steps at {config['synthcity_probe_rows']:,} rows "
        f"({number(synthcity.get('sample_step_seconds'), '{:.2f}')} s per step), rows/s | | "
        f"{number(synthcity.get('estimated_rows_per_second'), '{:,.1f}')} | {ratio(diffusion.get('sample_rows_per_second'), synthcity.get('estimated_rows_per_second'))} | ours >= 20x faster |",
        f"| Diffusion sampling with all 1,000 steps, rows/s ({config['schedule_rows']:,} rows) | {number(diffusion.get('full_schedule_rows_per_second'), '{:,.0f}')} | | | |",
        f"| Diffusion peak memory of the process, MiB | {number(diffusion.get('peak_mib'), '{:,.0f}')} | {number(synthcity.get('peak_mib'), '{:,.0f}')} | | |",
        "",
        f"Epoch and step times exclude preparation (fitting the encoders), which took {number(gan.get('prepare_seconds'))} s "
        f"for our GAN, {number(diffusion.get('prepare_seconds'))} s for our diffusion model, "
        f"{number(ctgan.get('prepare_seconds'))} s for ctgan and {number(synthcity.get('prepare_seconds'))} s for synthcity.",
        "",
        f"### Conditional sampling of {condition} ({config['intersection_rows']:,} of {config['rows_full']:,} admissions, "
        f"{share:.2%})",
        "",
        f"{config['conditional_rows']:,} rows requested from each model trained at the budget below.",
        "",
        "| model | rows returned that match | seconds | matching rows/s | result |",
        "|---|---:|---:|---:|---|",
    ]
    for label, result in (("ours GAN", gan), ("ours diffusion", diffusion), ("SDV CTGANSynthesizer, `sample_from_conditions`", sdv)):
        conditional = result.get("conditional")
        if conditional is None:
            lines.append(f"| {label} | n/a | n/a | n/a | not run: {result.get('error', 'no result')} |")
            continue
        outcome = "failed: " + conditional["error"] if conditional.get("error") else (
            "all rows match" if conditional["matching"] == conditional["requested"] else f"{conditional['matching']} of {conditional['requested']}")
        lines.append(f"| {label} | {conditional['matching']:,} | {conditional['seconds']:.2f} | "
                     f"{conditional['rows_per_second']:,.0f} | {outcome} |")

    lines += [
        "",
        f"### Quality at an equal training budget ({config['budget_seconds']:.0f} s of training each)",
        "",
        f"Each model trained on the {config['rows_train']:,} admissions of the training patients and generated "
        f"{config['eval_rows']:,} rows (synthcity: {synthcity.get('sample_rows', 0):,}, because it samples slowly), scored against the "
        f"{config['rows_holdout']:,} held-out admissions. KS: mean Kolmogorov-Smirnov statistic over the "
        f"{len(config['columns']) - len(config['discrete'])} numeric columns; TVD: mean total variation distance over the "
        f"{len(config['discrete'])} discrete columns (lower is better for both). TSTR AUROC: a gradient-boosting "
        f"classifier of `{TARGET}` fitted on the rows and scored on the held-out rows (higher is better). The first "
        "row uses real training rows, the floor that sampling noise allows.",
        "",
        "| rows from | epochs in budget | training seconds | mean KS | mean TVD | TSTR AUROC |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    trained = {
        "ours GAN": gan, "ours diffusion (strided default)": diffusion,
        "SDV CTGANSynthesizer (ctgan 0.12.1)": sdv, "synthcity ddpm (TabDDPM)": synthcity,
    }
    for label, scored in scores.items():
        run = trained.get(label, {})
        label = label.replace("schedule rows", f"{config['schedule_rows']:,} rows")
        lines.append(f"| {label} | {run.get('budget_epochs', '')} | {number(run.get('budget_train_seconds'), '{:.0f}') if run else ''} "
                     f"| {scored['ks_mean']:.3f} | {scored['tvd_mean']:.3f} | {number(scored['tstr_auroc'], '{:.3f}')} |")
    lines += [
        "",
        "Training stops at the first whole epoch past the budget, so a run can exceed it by part of an epoch.",
        "SDV's training seconds are its epochs times ctgan's measured epoch time (scaled to the training",
        "rows), without SDV's preprocessing. The two diffusion rows marked \"same model\" compare its",
        "strided default sampler with all 1,000 steps on equal numbers of rows.",
    ]
    failed = {name: r["error"] for name, r in results.items() if "error" in r}
    if failed:
        lines += ["", "Jobs that failed: " + "; ".join(f"{name}: {error}" for name, error in failed.items()) + "."]
    lines.append("")
    return "\n".join(lines)


# ---- main --------------------------------------------------------------------------------------------------


def ensure_warehouse(args: argparse.Namespace) -> None:
    """Build a sample warehouse for `--quick`, or check that `--warehouse` has the mart."""
    if args.quick:
        args.warehouse = args.work_dir / "quick" / "wh.duckdb"
        if not args.warehouse.exists():
            raw = args.work_dir / "quick" / "raw"
            run_step("sample", {"patients": args.quick_patients, "raw": str(raw)})
            run_step("load", {"raw": str(raw), "warehouse": str(args.warehouse)})
            run_step("build", {"raw": str(raw), "warehouse": str(args.warehouse)})
    if not args.warehouse.exists():
        raise SystemExit(f"Warehouse {args.warehouse} not found. Run `python bench/bench_warehouse.py` first, or pass --quick.")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=Path("/tmp/bench_warehouse/wh.duckdb"), help="Warehouse with main.mm_admission_features (default: the one bench_warehouse.py keeps).")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/bench_generators"), help="Scratch folder for exported and generated tables.")
    parser.add_argument("--peer-env-dir", type=Path, default=Path("/tmp"), help="Folder of the peers' virtual environments (peer_ctgan, peer_synthcity); created there when absent.")
    parser.add_argument("--budget", type=float, default=60.0, help="Training seconds per model for the quality comparison.")
    parser.add_argument("--speed-epochs", type=int, default=2, help="Epochs timed on the whole mart per model (the best is reported).")
    parser.add_argument("--eval-rows", type=int, default=3000, help="Rows each model generates for scoring.")
    parser.add_argument("--synthcity-sample-rows", type=int, default=300, help="Rows synthcity generates, in one batch of 1,000 denoising steps (slow, so kept small).")
    parser.add_argument("--schedule-rows", type=int, default=500, help="Rows of the strided-against-full-schedule comparison of the diffusion sampler.")
    parser.add_argument("--conditional-rows", type=int, default=500, help="Rows requested for the small intersection.")
    parser.add_argument("--intersection", nargs=3, default=["ASIAN", "Medicaid", "F"], metavar=("ETHNICITY_GROUP", "INSURANCE", "GENDER"), help="Intersection for conditional sampling.")
    # One thread by default: on the shared 2-core machine, 2 OpenMP threads made the GAN about 7x
    # slower in one check, likely because each op waits for a descheduled thread.
    parser.add_argument("--threads", type=int, default=1, help="torch threads of every model (default 1).")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the split, the models and the scoring.")
    parser.add_argument("--skip", nargs="*", default=[], choices=["gan", "diffusion", "ctgan", "synthcity"], help="Jobs to leave out.")
    parser.add_argument("--reuse", action="store_true", help="Take the results of skipped jobs from the previous run in --work-dir (its generated tables stay there).")
    parser.add_argument("--job-timeout", type=float, default=900.0, help="Seconds after which a job is stopped and recorded as failed.")
    parser.add_argument("--quick", action="store_true", help="Smoke run: a small sample (see --quick-patients), 10 s budget, 1 epoch.")
    parser.add_argument("--quick-patients", type=int, default=2000, help="Patients of the --quick sample.")
    parser.add_argument("--no-write", action="store_true", help="Print the results without editing docs/benchmarks.md.")
    parser.add_argument("--job", help=argparse.SUPPRESS)
    parser.add_argument("job_config", nargs="?", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.budget, args.speed_epochs, args.eval_rows = min(args.budget, 10.0), 1, min(args.eval_rows, 1000)
        args.synthcity_sample_rows, args.conditional_rows = min(args.synthcity_sample_rows, 20), min(args.conditional_rows, 100)
        args.schedule_rows = min(args.schedule_rows, 100)
    return args


def main() -> None:
    args = parse_args()
    if args.job:
        import torch

        result = run_ours(args.job, json.loads(args.job_config.read_text()))
        result["torch"] = torch.__version__
        print(json.dumps(result))
        return

    started = time.perf_counter()
    load_averages = [os.getloadavg()[0]]
    ensure_warehouse(args)
    config = prepare_data(args)
    Path(config["out_dir"]).mkdir(parents=True, exist_ok=True)
    config_path = args.work_dir / "config.json"
    config_path.write_text(json.dumps(config, indent=2))
    print(f"{config['rows_full']:,} rows ({config['rows_train']:,} train, {config['rows_holdout']:,} holdout); "
          f"{config['intersection']} holds {config['intersection_share']:.2%}", flush=True)

    jobs = []
    for name in ("gan", "diffusion"):
        if name not in args.skip:
            jobs.append((name, [sys.executable, str(Path(__file__).resolve()), "--job", name]))
    if "ctgan" not in args.skip:
        jobs.append(("ctgan", [str(peer_python("ctgan", args.peer_env_dir)), str(BENCH_DIR / "peers" / "ctgan_job.py")]))
    if "synthcity" not in args.skip:
        jobs.append(("synthcity", [str(peer_python("synthcity", args.peer_env_dir)), str(BENCH_DIR / "peers" / "synthcity_job.py")]))

    # Results of earlier jobs, so a job can be rerun alone (`--skip` the others, `--reuse`).
    jobs_json = args.work_dir / "jobs.json"
    results = json.loads(jobs_json.read_text()) if args.reuse and jobs_json.exists() else {}
    for name, command in jobs:
        measured = run_job(command, name, config_path, args.job_timeout, args.threads)
        load_averages.append(os.getloadavg()[0])
        if name == "ctgan" and "error" not in measured:
            results["sdv"] = measured.pop("sdv")
        results[name] = measured
        jobs_json.write_text(json.dumps(results, indent=2))

    scores = score(results, config, args)
    wall = time.perf_counter() - started
    command = "`" + " ".join(["python bench/bench_generators.py", *sys.argv[1:]]) + "`"
    if args.reuse and args.skip:
        command += f" (the {', '.join(args.skip)} jobs: from the previous run in the same --work-dir)"
    section = render(config, results, scores, command, load_averages, wall)
    print(section)
    if args.no_write or args.quick:
        (args.work_dir / "results.json").write_text(json.dumps({"config": config, "results": results, "scores": scores}, indent=2))
        return
    RESULTS_JSON.write_text(json.dumps({"config": config, "results": results, "scores": scores}, indent=2), encoding="utf-8")
    write_section(SECTION_TITLE, section)


if __name__ == "__main__":
    main()
