"""`evaluate` end to end on a warehouse built from invented rows: metrics table, report, errors, CLI."""

import re

import duckdb
import pytest
from typer.testing import CliRunner

from equisynth.config import EvaluateSettings
from equisynth.errors import NotFoundError
from equisynth.evaluation import evaluate
from equisynth.evaluation.guide import anchor_for
from evaluation_helpers import SCHEMA, build_warehouse

GATE_METRICS = ("exact_match_rate_synthetic", "exact_match_rate_holdout", "dcr_p5_synthetic", "dcr_p5_holdout",
                "dcr_median_synthetic", "dcr_median_holdout", "dcr_closer_to_train_share", "nndr_median_synthetic",
                "mia_auc", "attribute_inference_accuracy")
SETTINGS = EvaluateSettings(bootstrap=20, quasi_identifiers=["age", "gender", "ethnicity_group", "insurance"])


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    warehouse = tmp_path_factory.mktemp("evaluation") / "wh.duckdb"
    build_warehouse(warehouse)
    summary = evaluate(warehouse, "gen_test", settings=SETTINGS, schema=SCHEMA)
    return warehouse, summary


def stored(warehouse):
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute("select * from quality.evaluation_metrics").df()
    finally:
        con.close()


def test_metrics_table_written(evaluated):
    warehouse, summary = evaluated
    rows = stored(warehouse)
    assert len(rows) == len(summary.metrics)
    assert set(rows["generation_id"]) == {"gen_test"}
    assert set(rows["area"]) == {"fidelity", "utility", "fairness", "privacy", "representation"}
    assert not rows.duplicated(["area", "metric", "subgroup"]).any()


def test_gate_metrics_have_values(evaluated):
    warehouse, _ = evaluated
    rows = stored(warehouse)
    overall = rows[(rows["subgroup"] == "overall") & (rows["area"] == "privacy")].set_index("metric")
    for name in GATE_METRICS:
        assert overall.loc[name, "value"] == overall.loc[name, "value"], name
        assert not overall.loc[name, "too_small"]


def test_every_number_has_interval_or_mark(evaluated):
    warehouse, _ = evaluated
    rows = stored(warehouse)
    too_small = rows[rows["too_small"]]
    assert too_small["value"].isna().all()
    numbers = rows[rows["value"].notna() & (rows["metric"] != "target_share")]
    assert numbers["ci_low"].notna().all()
    assert (numbers["ci_low"] <= numbers["value"] + 1e-12).all()
    assert (numbers["value"] <= numbers["ci_high"] + 1e-12).all()


def test_small_subgroups_marked(evaluated):
    warehouse, summary = evaluated
    rows = stored(warehouse)
    hispanic = rows[(rows["subgroup"] == "ethnicity_group=HISPANIC") & (rows["area"] == "utility")]
    assert len(hispanic) > 0
    assert hispanic["too_small"].all()
    assert "ethnicity_group=HISPANIC" in summary.too_small_subgroups
    white = rows[(rows["subgroup"] == "ethnicity_group=WHITE") & (rows["metric"] == "detection_auc")]
    assert not white["too_small"].iloc[0]


def test_every_metric_has_guide_section(evaluated):
    _, summary = evaluated
    for name in summary.metrics["metric"].unique():
        assert anchor_for(name)


def test_report_written(evaluated):
    warehouse, summary = evaluated
    assert summary.report_path == warehouse.parent / "reports" / "evaluation_gen_test.html"
    html = summary.report_path.read_text(encoding="utf-8")
    assert html.count("<svg") >= 4
    assert "<script" not in html
    assert not re.search(r'(src|href)="(https?:)?//', html), "the report must not load anything from a network"
    assert 'href="evaluation_guide.html#detection-auc"' in html
    assert (summary.report_path.parent / "evaluation_guide.html").exists()


def test_reevaluation_replaces_rows(evaluated, tmp_path):
    warehouse, summary = evaluated
    before = len(stored(warehouse))
    evaluate(warehouse, "gen_test", settings=SETTINGS, schema=SCHEMA, report=False)
    assert len(stored(warehouse)) == before


def test_unknown_generation_error(evaluated):
    warehouse, _ = evaluated
    with pytest.raises(NotFoundError, match="gen_missing.*known: gen_test"):
        evaluate(warehouse, "gen_missing", settings=SETTINGS, schema=SCHEMA)


def test_missing_synthetic_mart_error(tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    build_warehouse(warehouse, generation_id="gen_nomart")
    con = duckdb.connect(str(warehouse))
    con.execute("drop table synthetic_gen_nomart.mm_admission_features")
    con.close()
    with pytest.raises(NotFoundError, match="equisynth build --generation gen_nomart"):
        evaluate(warehouse, "gen_nomart", settings=SETTINGS, schema=SCHEMA)


def test_compare_command(evaluated):
    from equisynth.cli import app

    warehouse, _ = evaluated
    result = CliRunner().invoke(app, ["evaluate", "--warehouse", str(warehouse), "--compare", "gen_test"])
    assert result.exit_code == 0, result.output
    assert "mia_auc" in result.output
    assert (warehouse.parent / "reports" / "compare_gen_test.html").exists()


def test_compare_unevaluated_generation(evaluated):
    from equisynth.cli import app

    warehouse, _ = evaluated
    result = CliRunner().invoke(app, ["evaluate", "--warehouse", str(warehouse), "--compare", "gen_test", "gen_other"])
    assert result.exit_code == 2
    assert "gen_other" in result.output
