"""Several evaluated generations side by side, from quality.evaluation_metrics."""

import logging
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from equisynth.errors import NotFoundError
from equisynth.evaluation.formatting import format_value
from equisynth.evaluation.guide import GUIDE_HTML_NAME, anchor_for, write_guide
from equisynth.evaluation.metrics_table import read_metrics
from equisynth.evaluation.run import HEADLINE_METRICS
from equisynth.warehouse import connect, table_exists

log = logging.getLogger(__name__)


def compare_table(metrics: pd.DataFrame, generation_ids: list[str], subgroup: str = "overall") -> pd.DataFrame:
    """Tabulate the headline metrics: one row per metric, one formatted column per generation."""
    rows = metrics[metrics["subgroup"] == subgroup]
    records = []
    for area, metric in HEADLINE_METRICS:
        record = {"area": area, "metric": metric}
        for generation_id in generation_ids:
            match = rows[(rows["generation_id"] == generation_id) & (rows["metric"] == metric)]
            record[generation_id] = format_value(match.iloc[0]) if len(match) else "not computed"
        records.append(record)
    return pd.DataFrame(records)


def load_comparison(warehouse: Path | str | None, generation_ids: list[str]) -> pd.DataFrame:
    """Read the stored metrics of the generations, raising NotFoundError that names any never evaluated."""
    with connect(warehouse, read_only=True) as con:
        if not table_exists(con, "quality", "evaluation_metrics"):
            raise NotFoundError("Table quality.evaluation_metrics does not exist. Run `equisynth evaluate --generation ID` first.")
        metrics = read_metrics(con, generation_ids)
    missing = [g for g in generation_ids if g not in set(metrics["generation_id"])]
    if missing:
        raise NotFoundError(
            f"Generation(s) {', '.join(missing)} have no rows in quality.evaluation_metrics. "
            f"Run `equisynth evaluate --generation {missing[0]}` first."
        )
    return metrics


def write_comparison(folder: Path, table: pd.DataFrame, generation_ids: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_guide(folder)
    env = Environment(loader=PackageLoader("equisynth.evaluation", "templates"), autoescape=select_autoescape(["html", "j2"]))
    env.filters["guide_link"] = lambda metric: f"{GUIDE_HTML_NAME}#{anchor_for(metric)}"
    page = env.get_template("compare.html.j2").render(table=table.to_dict("records"), generation_ids=generation_ids)
    target = folder / f"compare_{'_vs_'.join(generation_ids)}.html"
    staging = target.with_suffix(".html.partial")
    staging.write_text(page, encoding="utf-8")
    staging.replace(target)
    return target
