"""The self-contained HTML report of one evaluation (inline SVG plots, no script, no external file)."""

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from equisynth.evaluation import multimorbidity, plots
from equisynth.evaluation.formatting import format_value
from equisynth.evaluation.guide import GUIDE_HTML_NAME, anchor_for, write_guide
from equisynth.evaluation.privacy import nndr

log = logging.getLogger(__name__)

MARGINAL_COLUMNS = ("age", "los_hospital_days", "elixhauser_count", "admission_type")
MAX_MARGINAL_SUBGROUPS = 12
SUBGROUP_FIDELITY = ("ks_mean", "tvd_mean", "detection_auc", "cooccurrence_phi_difference")
SUBGROUP_PRIVACY = ("dcr_p5_synthetic", "dcr_p5_holdout", "dcr_closer_to_train_share", "mia_auc",
                    "exact_match_rate_synthetic")


def environment() -> Environment:
    env = Environment(loader=PackageLoader("equisynth.evaluation", "templates"), autoescape=select_autoescape(["html", "j2"]))
    env.filters["metric_value"] = format_value
    env.filters["guide_link"] = lambda metric: f"{GUIDE_HTML_NAME}#{anchor_for(metric)}"
    return env


def metric_rows(metrics: pd.DataFrame, area: str, names: tuple[str, ...] | list[str] | None = None,
                subgroup: str | None = "overall") -> list[dict]:
    rows = metrics[metrics["area"] == area]
    if subgroup is not None:
        rows = rows[rows["subgroup"] == subgroup]
    if names is not None:
        order = {name: index for index, name in enumerate(names)}
        rows = rows[rows["metric"].isin(order)].assign(_order=lambda f: f["metric"].map(order)).sort_values(["_order", "subgroup"])
    return rows.to_dict("records")


def subgroup_matrix(metrics: pd.DataFrame, area: str, names: tuple[str, ...]) -> tuple[list[str], list[dict]]:
    """Arrange metrics for the per-subgroup tables: one row per subgroup, one cell per metric."""
    rows = metrics[(metrics["area"] == area) & metrics["metric"].isin(names)]
    table = []
    for label, group in rows.groupby("subgroup", sort=False):
        cells = {row["metric"]: row for row in group.to_dict("records")}
        table.append({"subgroup": label, "cells": [cells.get(name) for name in names]})
    table.sort(key=lambda row: (row["subgroup"] != "overall", row["subgroup"]))
    estimable = [row for row in table if any(cell is not None and not cell["too_small"] for cell in row["cells"])]
    too_small = [row for row in table if row not in estimable]
    return {"names": list(names), "rows": estimable, "too_small": too_small}


def fidelity_plots(context) -> dict:
    columns = [c for c in MARGINAL_COLUMNS if c in context.train.columns]
    figures = [plots.marginal_figure(context.train, context.synthetic, columns, "overall")]
    estimable = [g for g in context.subgroups if len(g.conditions) == 1 and not context.below_minimum(g)
                 and g.mask(context.synthetic).sum() >= context.min_rows]
    for group in estimable[:MAX_MARGINAL_SUBGROUPS]:
        figures.append(plots.marginal_figure(context.train[group.mask(context.train)],
                                             context.synthetic[group.mask(context.synthetic)], columns, group.label))

    flags = [c.name for c in context.schema.columns if c.condition_flag == "elixhauser" and c.name in context.train.columns]
    heatmap, combinations = None, []
    if len(flags) >= 2:
        ones_real, ones_syn = np.ones((1, len(context.train))), np.ones((1, len(context.synthetic)))
        real_phi = multimorbidity.phi_matrix(context.train, flags, ones_real)[0]
        syn_phi = multimorbidity.phi_matrix(context.synthetic, flags, ones_syn)[0]
        heatmap = plots.heatmap_figure({"real (phi)": real_phi, "synthetic (phi)": syn_phi,
                                        "synthetic - real": syn_phi - real_phi}, flags)
        combinations = multimorbidity.top_combinations(context.train, context.synthetic, flags).to_dict("records")
    return {"marginals": figures, "heatmap": heatmap, "combinations": combinations,
            "omitted_marginals": max(0, len(estimable) - MAX_MARGINAL_SUBGROUPS)}


def fairness_plots(context, metrics: pd.DataFrame) -> list[str]:
    """Per-group AUROC with intervals for TRTR, augment and TSTR, one figure per attribute and outcome."""
    figures = []
    utility = metrics[metrics["area"] == "utility"]
    for attribute in context.conditions:
        for target in ("hospital_expire_flag", "readmit_30d"):
            names = {f"trtr_auroc_logreg_{target}": "real only", f"augment_auroc_logreg_{target}": "real + synthetic",
                     f"tstr_auroc_logreg_{target}": "synthetic only"}
            rows = utility[utility["metric"].isin(names) & utility["subgroup"].str.match(rf"^{attribute}=[^&]*$")]
            rows = rows[~rows["too_small"] & rows["value"].notna()]
            if rows.empty:
                continue
            table = rows.assign(series=rows["metric"].map(names))[["subgroup", "series", "value", "ci_low", "ci_high"]]
            figures.append(plots.interval_figure(table, f"AUROC of {target} by {attribute} (logistic regression)"))
    return figures


def privacy_plots(extras: dict) -> list[str]:
    distances = extras["distances"]
    figures = [plots.histogram_figure(
        {"synthetic to training": distances.dcr_synthetic, "holdout to training": distances.dcr_holdout},
        "Distance to closest training record", "Euclidean distance (range-scaled base columns)")]
    figures.append(plots.histogram_figure(
        {"synthetic": nndr(distances.dcr_synthetic, distances.second_synthetic),
         "holdout": nndr(distances.dcr_holdout, distances.second_holdout)},
        "Nearest-neighbour distance ratio to training rows", "d1 / d2"))
    return figures


def representation_plot(metrics: pd.DataFrame, attribute: str) -> str | None:
    rows = metrics[(metrics["area"] == "representation") & metrics["subgroup"].str.match(rf"^{attribute}=[^&]*$")
                   & metrics["metric"].isin(["real_share", "synthetic_share"])]
    if rows.empty:
        return None
    table = rows.pivot(index="subgroup", columns="metric", values="value")
    return plots.bar_figure(table, f"Share of rows by {attribute}")


def write_report(folder: Path, summary, context, extras: dict) -> Path:
    """Write reports/evaluation_<generation>.html (via a staging file) and the guide beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    write_guide(folder)
    metrics = summary.metrics
    page = environment().get_template("report.html.j2").render(
        summary=summary,
        headline=summary.headline().to_dict("records"),
        fidelity_overall=metric_rows(metrics, "fidelity"),
        fidelity_subgroups=subgroup_matrix(metrics, "fidelity", SUBGROUP_FIDELITY),
        fidelity_plots=fidelity_plots(context),
        utility_overall=metric_rows(metrics, "utility"),
        fairness_overall=metric_rows(metrics, "fairness"),
        fairness_figures=fairness_plots(context, metrics),
        privacy_overall=metric_rows(metrics, "privacy"),
        privacy_subgroups=subgroup_matrix(metrics, "privacy", SUBGROUP_PRIVACY),
        privacy_figures=privacy_plots(extras),
        representation=metric_rows(metrics, "representation", subgroup=None),
        representation_figures=[f for f in (representation_plot(metrics, a) for a in context.conditions) if f],
        min_rows=context.min_rows,
    )
    target = folder / f"evaluation_{summary.generation_id}.html"
    staging = target.with_suffix(".html.partial")
    staging.write_text(page, encoding="utf-8")
    staging.replace(target)
    log.info("Wrote report %s", target)
    return target
