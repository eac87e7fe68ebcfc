"""The whole evaluation of a generation on the MIMIC-III demo, with its report."""

import shutil

import duckdb
import pytest

from equisynth.config import EvaluateSettings
from equisynth.evaluation import evaluate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_evaluation(tmp_path_factory, rebalanced_demo):
    warehouse = tmp_path_factory.mktemp("evaluated_demo") / "equisynth.duckdb"
    shutil.copyfile(rebalanced_demo.warehouse, warehouse)
    summary = evaluate(warehouse, rebalanced_demo.result.generation_id, settings=EvaluateSettings(bootstrap=30))
    return warehouse, summary


def test_demo_metrics_stored(demo_evaluation):
    warehouse, summary = demo_evaluation
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute(
            "select area, metric, value, ci_low, too_small from quality.evaluation_metrics "
            "where generation_id = ? and subgroup = 'overall'", [summary.generation_id]
        ).df()
    finally:
        con.close()
    privacy = rows[rows["area"] == "privacy"].set_index("metric")
    for name in ("dcr_p5_synthetic", "dcr_p5_holdout", "mia_auc", "exact_match_rate_synthetic"):
        assert privacy.loc[name, "value"] == privacy.loc[name, "value"], name
        assert privacy.loc[name, "ci_low"] == privacy.loc[name, "ci_low"], name
    assert set(rows["area"]) >= {"fidelity", "utility", "fairness", "privacy"}


def test_demo_small_subgroups_marked(demo_evaluation):
    _, summary = demo_evaluation
    # The demo holds out about 20 patients, so every subgroup has fewer than 30 holdout rows.
    assert summary.rows["holdout"] < 60
    subgroup_rows = summary.metrics[(summary.metrics["subgroup"] != "overall") & (summary.metrics["area"] == "utility")]
    assert subgroup_rows["too_small"].all()
    assert subgroup_rows["value"].isna().all()


def test_demo_report_written(demo_evaluation):
    _, summary = demo_evaluation
    html = summary.report_path.read_text(encoding="utf-8")
    assert summary.report_path.name == f"evaluation_{summary.generation_id}.html"
    assert html.count("<svg") >= 3
    assert "too small" in html
