"""Metric records and the `quality.evaluation_metrics` table that stores them."""

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb
import numpy as np
import pandas as pd

from equisynth.evaluation.bootstrap import percentile_interval

log = logging.getLogger(__name__)

AREAS = ("fidelity", "utility", "fairness", "privacy", "representation")
OVERALL = "overall"

CREATE_TABLE_SQL = """
create table if not exists quality.evaluation_metrics (
    generation_id varchar not null,
    area varchar not null,
    metric varchar not null,
    subgroup varchar not null,
    value double,
    ci_low double,
    ci_high double,
    n integer,
    too_small boolean not null,
    evaluated_at timestamp not null
)
"""


@dataclass
class Metric:
    """One number of the evaluation: a value with its 95% bootstrap interval, or a too-small mark."""

    area: str
    metric: str
    subgroup: str
    value: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    too_small: bool = False


def _finite_or_none(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def make_metric(area: str, metric: str, subgroup: str, value, resampled: np.ndarray | None, n: int) -> Metric:
    """Build a Metric from a point value and its bootstrap replicates (None: no interval)."""
    low, high = percentile_interval(resampled) if resampled is not None else (None, None)
    value = _finite_or_none(value)
    if value is None:
        low = high = None
    elif low is not None and high is not None:
        # Resampling inflates distances such as KS or TVD (a resample of identical data is no
        # longer identical), so their percentile interval can lie above the point value. The
        # interval is widened to include the point value rather than shown beside it.
        low, high = min(low, value), max(high, value)
    return Metric(area, metric, subgroup, value, low, high, int(n), False)


def too_small_metric(area: str, metric: str, subgroup: str, n: int) -> Metric:
    """Build the row of a subgroup below the minimum size: no value and no interval, only the mark."""
    return Metric(area, metric, subgroup, None, None, None, int(n), True)


def metrics_frame(metrics: list[Metric]) -> pd.DataFrame:
    columns = ["area", "metric", "subgroup", "value", "ci_low", "ci_high", "n", "too_small"]
    rows = [(m.area, m.metric, m.subgroup, m.value, m.ci_low, m.ci_high, m.n, m.too_small) for m in metrics]
    return pd.DataFrame(rows, columns=columns)


def write_metrics(con: duckdb.DuckDBPyConnection, generation_id: str, metrics: list[Metric]) -> int:
    """Replace the generation's rows in quality.evaluation_metrics in one transaction."""
    frame = metrics_frame(metrics)
    frame.insert(0, "generation_id", generation_id)
    frame["evaluated_at"] = datetime.now(timezone.utc).replace(tzinfo=None)
    frame = frame[
        ["generation_id", "area", "metric", "subgroup", "value", "ci_low", "ci_high", "n", "too_small", "evaluated_at"]
    ]

    duplicated = frame.duplicated(["area", "metric", "subgroup"])
    if duplicated.any():
        first = frame[duplicated].iloc[0]
        raise ValueError(f"duplicate evaluation metric {first['metric']} for subgroup {first['subgroup']}")

    con.execute("create schema if not exists quality")
    con.execute(CREATE_TABLE_SQL)
    con.register("evaluation_metrics_staging", frame)
    try:
        con.execute("begin transaction")
        con.execute("delete from quality.evaluation_metrics where generation_id = ?", [generation_id])
        con.execute("insert into quality.evaluation_metrics select * from evaluation_metrics_staging")
        con.execute("commit")
    except duckdb.Error:
        con.execute("rollback")
        raise
    finally:
        con.unregister("evaluation_metrics_staging")
    log.info("Wrote %d rows to quality.evaluation_metrics for generation %s", len(frame), generation_id)
    return len(frame)


def read_metrics(con: duckdb.DuckDBPyConnection, generation_ids: list[str]) -> pd.DataFrame:
    """Rows of quality.evaluation_metrics for the given generations."""
    placeholders = ", ".join("?" for _ in generation_ids)
    return con.execute(
        f"select * from quality.evaluation_metrics where generation_id in ({placeholders}) "
        "order by generation_id, area, metric, subgroup",
        generation_ids,
    ).df()
