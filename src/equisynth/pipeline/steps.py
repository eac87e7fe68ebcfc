"""The steps of `equisynth run`, in order, each with what decides whether it must run again.

Every step has an `inputs` function that returns what changes its result (settings, file
checksums, the dbt project's files) and a `run` function that does the work and returns what
later steps need (ids, paths, headline numbers).
"""

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from equisynth import __version__
from equisynth.errors import EquisynthError
from equisynth.paths import DBT_PROJECT_DIR, EXPECTATIONS_DIR
from equisynth.pipeline.context import PipelineContext
from equisynth.pipeline.inputs import raw_file_checksums

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Step:
    name: str
    title: str
    inputs: Callable[[PipelineContext], dict]
    run: Callable[[PipelineContext], dict]


def _tree_digest(folder: Path, patterns: tuple[str, ...]) -> str:
    """SHA-256 over the relative paths and contents of the files under `folder` that match."""
    digest = hashlib.sha256()
    for pattern in patterns:
        for path in sorted(folder.rglob(pattern)):
            if "target" in path.parts or "logs" in path.parts or "__pycache__" in path.parts:
                continue
            digest.update(str(path.relative_to(folder)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _raw_folder(ctx: PipelineContext) -> Path:
    if ctx.raw_dir is not None:
        return ctx.raw_dir
    return Path(ctx.output("sample", "folder"))


# --- sample -------------------------------------------------------------------------------------

def sample_inputs(ctx: PipelineContext) -> dict:
    if ctx.uses_builtin_sample:
        data = ctx.settings.data
        return {"patients": data.sample_patients, "seed": data.sample_seed, "version": __version__}
    return {"raw": str(ctx.raw_dir)}


def run_sample(ctx: PipelineContext) -> dict:
    if not ctx.uses_builtin_sample:
        return {"folder": str(ctx.raw_dir), "simulated": False}

    from equisynth.sample import write_sample

    folder = ctx.warehouse.parent / "sample_input"
    data = ctx.settings.data
    log.info("Writing a simulated MIMIC-III-shaped sample of %d patients to %s", data.sample_patients, folder)
    rows = write_sample(data.sample_patients, folder, seed=data.sample_seed)
    return {"folder": str(folder), "simulated": True, "rows": rows}


# --- load ---------------------------------------------------------------------------------------

def load_inputs(ctx: PipelineContext) -> dict:
    return {"files": raw_file_checksums(_raw_folder(ctx))}


def run_load(ctx: PipelineContext) -> dict:
    from equisynth.loader import load_raw

    report = load_raw(_raw_folder(ctx), ctx.warehouse, progress=True)
    return {"tables": report.tables, "source_form": report.source_form}


# --- build --------------------------------------------------------------------------------------

def build_inputs(ctx: PipelineContext) -> dict:
    return {
        "dbt_project": _tree_digest(DBT_PROJECT_DIR, ("*.sql", "*.yml", "*.csv")),
        "skip_first_diagnosis": ctx.settings.build.skip_first_diagnosis,
    }


def run_build(ctx: PipelineContext) -> dict:
    from equisynth.dbt_runner import build

    report = build(ctx.warehouse, skip_first_diagnosis=ctx.settings.build.skip_first_diagnosis)
    return {"summary": report.summary_line()}


# --- validate real ------------------------------------------------------------------------------

def validate_inputs(ctx: PipelineContext) -> dict:
    return {"expectations": _tree_digest(EXPECTATIONS_DIR, ("*.json", "*.py")), "settings": ctx.settings.validate_.model_dump()}


def run_validate_real(ctx: PipelineContext) -> dict:
    from equisynth.validation import validate

    summary = validate(ctx.warehouse, real=True, settings=ctx.settings)
    if not summary.success:
        raise EquisynthError(
            f"The real tables failed {summary.failed} expectation(s); see the Data Docs at "
            f"{summary.data_docs_path} or run `equisynth validate --real`."
        )
    return {"data_docs": str(summary.data_docs_path), "expectations": summary.evaluated}


# --- train --------------------------------------------------------------------------------------

def train_inputs(ctx: PipelineContext) -> dict:
    settings = ctx.settings
    return {
        "train": settings.train.model_dump(),
        "gan": settings.gan.model_dump(),
        "diffusion": settings.diffusion.model_dump(),
        "split": settings.split.model_dump(),
    }


def run_train(ctx: PipelineContext) -> dict:
    from equisynth.training import train

    run_id = train(ctx.warehouse, settings=ctx.settings)
    return {"run_id": run_id}


# --- generate (plan, sample rows, decode into MIMIC-III tables, dbt build) ---------------------

def generate_inputs(ctx: PipelineContext) -> dict:
    return {"rebalance": ctx.settings.rebalance.model_dump(), "decode": ctx.settings.decode.model_dump()}


def run_generate(ctx: PipelineContext) -> dict:
    from equisynth.synthesis import generate_rebalanced

    result = generate_rebalanced(ctx.warehouse, ctx.output("train", "run_id"), settings=ctx.settings)
    return {"generation_id": result.generation_id, "rows": result.rows}


# --- validate synthetic -------------------------------------------------------------------------

def run_validate_synthetic(ctx: PipelineContext) -> dict:
    """Validate the generation and record failures without stopping the run.

    The export step rejects a generation whose validation failed, unless waived, and the
    evaluation is still worth reading.
    """
    from equisynth.validation import validate

    generation_id = ctx.output("generate", "generation_id")
    summary = validate(ctx.warehouse, generation=generation_id, settings=ctx.settings)
    if not summary.success:
        log.warning(
            "Generation %s failed %d of %d expectations; the export step will reject it unless waived. "
            "Details: %s or `equisynth validate --generation %s`.",
            generation_id, summary.failed, summary.evaluated, summary.data_docs_path, generation_id,
        )
    return {
        "data_docs": str(summary.data_docs_path),
        "expectations": summary.evaluated,
        "failed": summary.failed,
    }


# --- evaluate -----------------------------------------------------------------------------------

def evaluate_inputs(ctx: PipelineContext) -> dict:
    return {"evaluate": ctx.settings.evaluate.model_dump()}


def run_evaluate(ctx: PipelineContext) -> dict:
    from equisynth.evaluation import evaluate

    summary = evaluate(ctx.warehouse, ctx.output("generate", "generation_id"), settings=ctx.settings.evaluate)
    holdout = summary.rows.get("holdout", 0)
    minimum = ctx.settings.evaluate.min_subgroup_rows
    holdout_text = f"{holdout} admissions" + (
        f" (fewer than {minimum}: the intervals below are wide, and no number speaks for a subgroup)" if holdout < minimum else ""
    )
    return {"report": str(summary.report_path), "holdout": holdout_text, "headline": _headline_text(summary.headline())}


def _headline_text(headline) -> dict[str, str]:
    """Metric name -> "value [CI low, CI high]" for the final summary of the run."""
    texts = {}
    for row in headline.itertuples(index=False):
        if row.value is None or row.value != row.value:  # missing or NaN
            texts[row.metric] = "not estimated"
        else:
            texts[row.metric] = f"{row.value:.3f} [{row.ci_low:.3f}, {row.ci_high:.3f}]"
    return texts


# --- export -------------------------------------------------------------------------------------

def export_inputs(ctx: PipelineContext) -> dict:
    # The waiver does not change what is released, so adding one to a run whose export already
    # succeeded does not export the same version again.
    return {"export": ctx.settings.export.model_dump(exclude={"waiver"})}


def run_export(ctx: PipelineContext) -> dict:
    from equisynth.release import export

    waiver = ctx.settings.export.waiver
    report = export(
        ctx.warehouse,
        ctx.output("generate", "generation_id"),
        force=waiver is not None,
        waiver=waiver,
        settings=ctx.settings,
    )
    return {"release": str(report.path)}


STEPS: tuple[Step, ...] = (
    Step("sample", "Prepare input", sample_inputs, run_sample),
    Step("load", "Load raw CSVs into DuckDB", load_inputs, run_load),
    Step("build", "dbt build (real)", build_inputs, run_build),
    Step("validate-real", "Validate real tables", validate_inputs, run_validate_real),
    Step("train", "Train generator", train_inputs, run_train),
    Step("generate", "Generate, decode, dbt build (synthetic)", generate_inputs, run_generate),
    Step("validate-synthetic", "Validate synthetic tables", validate_inputs, run_validate_synthetic),
    Step("evaluate", "Evaluate", evaluate_inputs, run_evaluate),
    Step("export", "Export release", export_inputs, run_export),
)

STEP_NAMES: tuple[str, ...] = tuple(step.name for step in STEPS)
