"""`evaluate`: every metric of one generation, written to quality.evaluation_metrics and an HTML report."""

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pandas as pd

from equisynth.config import EvaluateSettings
from equisynth.errors import InputDataError
from equisynth.evaluation.context import EvaluationContext
from equisynth.evaluation.fairness import fairness_metrics
from equisynth.evaluation.fidelity import fidelity_metrics
from equisynth.evaluation.inputs import MART, read_inputs
from equisynth.evaluation.metrics_table import Metric, metrics_frame, write_metrics
from equisynth.evaluation.privacy import privacy_metrics
from equisynth.evaluation.representation import representation_metrics
from equisynth.evaluation.utility import fit_predictions, utility_metrics
from equisynth.paths import reports_dir
from equisynth.warehouse import connect
from models_ml.table_schema import TableSchema

log = logging.getLogger(__name__)

HEADLINE_METRICS = (
    ("fidelity", "ks_mean"), ("fidelity", "tvd_mean"), ("fidelity", "detection_auc"),
    ("fidelity", "cooccurrence_phi_difference"),
    ("utility", "trtr_auroc_logreg_hospital_expire_flag"), ("utility", "tstr_auroc_logreg_hospital_expire_flag"),
    ("utility", "trtr_auroc_logreg_readmit_30d"), ("utility", "tstr_auroc_logreg_readmit_30d"),
    ("privacy", "dcr_p5_synthetic"), ("privacy", "dcr_p5_holdout"), ("privacy", "dcr_closer_to_train_share"),
    ("privacy", "exact_match_rate_synthetic"), ("privacy", "mia_auc"), ("privacy", "attribute_inference_accuracy"),
)


@dataclass
class EvaluationSummary:
    """Result of one evaluation: every metric row, the report path and the row counts used."""

    generation_id: str
    mode: str
    metrics: pd.DataFrame
    report_path: Path | None
    rows: dict[str, int] = field(default_factory=dict)
    too_small_subgroups: list[str] = field(default_factory=list)

    def headline(self) -> pd.DataFrame:
        overall = self.metrics[self.metrics["subgroup"] == "overall"]
        keys = pd.DataFrame(HEADLINE_METRICS, columns=["area", "metric"])
        return keys.merge(overall, on=["area", "metric"], how="left")


def _check_columns(schema: TableSchema, inputs, conditions: list[str]) -> None:
    wanted = [c.name for c in schema.columns if c.name in inputs.train.columns]
    missing = [name for name in wanted if name not in inputs.synthetic.columns]
    if missing:
        raise InputDataError(
            f"Table synthetic_{inputs.generation_id}.{MART} lacks column(s) {', '.join(missing)} of main.{MART}. "
            f"Rebuild it with `equisynth build --generation {inputs.generation_id}`."
        )
    unknown = [name for name in conditions if name not in inputs.train.columns]
    if unknown:
        raise InputDataError(
            f"Evaluation condition column(s) {', '.join(unknown)} are not in main.{MART}. "
            "Fix `[evaluate] conditions` in equisynth.toml."
        )


def compute_metrics(context: EvaluationContext, on_step: Callable[[str], None] | None = None) -> tuple[list[Metric], dict]:
    """Every area's metrics; also returns what the report plots beyond the metric rows.

    BLAS and OpenMP run single-threaded here: the models are small, and with several threads on
    a shared 2-core machine thread contention made the classifiers many times slower.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _compute_metrics(context, on_step or (lambda step: None))


def _compute_metrics(context: EvaluationContext, on_step: Callable[[str], None]) -> tuple[list[Metric], dict]:
    steps = [
        f"fidelity of {len(context.subgroups)} subgroups", "utility classifiers", "fairness",
        "privacy distances and attacks", "representation",
    ]

    def start(index: int) -> None:
        text = f"step {index + 1}/{len(steps)}: {steps[index]}"
        log.info("Evaluation %s", text)
        on_step(text)

    start(0)
    metrics = fidelity_metrics(context)
    start(1)
    predictions = fit_predictions(context.train, context.synthetic, context.holdout, context.schema, context.seed)
    metrics += utility_metrics(context, predictions)
    start(2)
    fairness, group_auroc = fairness_metrics(context, predictions)
    metrics += fairness
    start(3)
    privacy, distances = privacy_metrics(context)
    metrics += privacy
    start(4)
    metrics += representation_metrics(context)
    return metrics, {"group_auroc": group_auroc, "distances": distances}


def evaluate(warehouse: Path | str | None, generation_id: str, settings: EvaluateSettings | None = None,
             schema: TableSchema | None = None, report: bool = True,
             on_step: Callable[[str], None] | None = None) -> EvaluationSummary:
    """Evaluate a generation against the real holdout of its split, store the metrics and write the report.

    `on_step` receives a short text as each step starts, for a progress display.
    """
    settings = settings or EvaluateSettings()
    if schema is None:
        from equisynth.schema import load_table_schema

        schema = load_table_schema(MART)

    with connect(warehouse, read_only=True) as con:
        inputs = read_inputs(con, generation_id)
    _check_columns(schema, inputs, settings.conditions)

    context = EvaluationContext(
        generation_id=generation_id, mode=inputs.mode, schema=schema, train=inputs.train,
        holdout=inputs.holdout, synthetic=inputs.synthetic, conditions=list(settings.conditions),
        max_intersection=settings.max_intersection, min_rows=settings.min_subgroup_rows,
        bootstrap=settings.bootstrap, seed=settings.seed, sensitive_column=settings.sensitive_column,
        quasi_identifiers=list(settings.quasi_identifiers), plan=inputs.plan, within=inputs.within,
    )
    if len(context.holdout) < settings.min_subgroup_rows:
        log.warning("The holdout has only %d rows (minimum %d): every subgroup is too small to estimate, "
                    "and overall numbers have wide intervals", len(context.holdout), settings.min_subgroup_rows)
    metrics, extras = compute_metrics(context, on_step)
    summary = EvaluationSummary(
        generation_id, inputs.mode, metrics_frame(metrics), None,
        rows={"train": len(context.train), "holdout": len(context.holdout), "synthetic": len(context.synthetic)},
        too_small_subgroups=[g.label for g in context.subgroups if context.below_minimum(g)],
    )

    # The report is written first, so that a failing plot leaves no metric rows without a report.
    # It is removed again when the metrics cannot be stored.
    if report:
        from equisynth.evaluation.report import write_report

        summary.report_path = write_report(reports_dir(warehouse), summary, context, extras)
    try:
        with connect(warehouse) as con:
            write_metrics(con, generation_id, metrics)
    except BaseException:
        if summary.report_path is not None:
            summary.report_path.unlink(missing_ok=True)
        raise
    return summary
