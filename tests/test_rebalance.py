"""Rebalancing: spec parsing and validation, target shares, the planner, and the plan on the demo."""

import json

import duckdb
import numpy as np
import pandas as pd
import pytest

from equisynth.errors import ConfigError
from equisynth.rebalance import load_spec, plan_rebalance
from equisynth.rebalance.planner import largest_remainder
from equisynth.rebalance.spec import parse_spec_text, parse_within

ATTRIBUTES = ["ethnicity_group", "insurance", "gender", "multimorbid"]


def invented_rows() -> pd.DataFrame:
    """Invented training rows: 10 admissions per listed combination count unit, unequal groups."""
    layout = [
        ("WHITE", "Medicare", "F", 1, 40),
        ("WHITE", "Medicare", "M", 0, 30),
        ("WHITE", "Private", "M", 1, 12),
        ("BLACK", "Medicaid", "F", 1, 5),
        ("BLACK", "Medicare", "M", 0, 9),
        ("ASIAN", "Private", "F", 1, 3),
        ("ASIAN", "Private", "M", 0, 1),
    ]
    records = [
        {"ethnicity_group": e, "insurance": i, "gender": g, "multimorbid": m, "age": 50 + n % 30}
        for e, i, g, m, count in layout
        for n in range(count)
    ]
    return pd.DataFrame(records)


def plan(spec_text: str, rows: pd.DataFrame | None = None):
    return plan_rebalance(invented_rows() if rows is None else rows, load_spec(spec_text), allowed_attributes=ATTRIBUTES)


def group_counts(rows: pd.DataFrame, by: list[str]) -> dict:
    return {key if isinstance(key, tuple) else (key,): int(n) for key, n in rows.groupby(by).size().items()}


# -- spec ------------------------------------------------------------------------------------

def test_spec_inline_with_commas():
    values = parse_spec_text('by = ["ethnicity_group", "insurance"], target = "parity", within = "multimorbid = 1"')
    assert values == {"by": ["ethnicity_group", "insurance"], "target": "parity", "within": "multimorbid = 1"}


def test_spec_inline_with_semicolons():
    values = parse_spec_text('by = ["gender"]; target = "explicit"; shares = {F = 0.6, M = 0.4}')
    assert values["shares"] == {"F": 0.6, "M": 0.4}
    assert values["target"] == "explicit"


def test_spec_file_with_rebalance_table(tmp_path):
    path = tmp_path / "spec.toml"
    path.write_text('[rebalance]\nby = ["insurance"]\nmode = "replace"\nsize = 40\n', encoding="utf-8")
    spec = load_spec(str(path))
    assert spec.by == ["insurance"]
    assert spec.mode == "replace"
    assert spec.size == 40


def test_spec_keys_default_to_settings():
    spec = load_spec('by = ["gender"]')
    assert spec.within == "multimorbid = 1"
    assert spec.min_group_rows == 30
    assert spec.target == "parity"


def test_spec_file_not_found(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_spec(str(tmp_path / "missing.toml"))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('by = ["ethnicity_group"], target = "explicit", shares = {WHITE = 0.5, BLACK = 0.3}', "shares sum to 0.8000, not 1"),
        ('by = ["gender"], mode = "replace", size = -5', "size = -5"),
        ('by = ["gender"], target = "census"', "target = 'census'"),
        ('by = ["gender"], colour = "red"', "colour: unknown key"),
        ('by = ["gender"], within = "multimorbid is 1"', "within"),
        ('by = ["gender"], target = "reference"', "reference_csv"),
        ('by = []', "by"),
    ],
)
def test_spec_invalid_names_key(text, message):
    with pytest.raises(ConfigError) as caught:
        load_spec(text)
    assert message in str(caught.value)


def test_spec_invalid_literal_lists_allowed_values():
    with pytest.raises(ConfigError) as caught:
        load_spec('mode = "grow"')
    assert "'augment' or 'replace'" in str(caught.value)


def test_within_parses_conjunction():
    terms = parse_within("multimorbid = 1 and gender != 'F'")
    assert [(t.column, t.value, t.negated) for t in terms] == [("multimorbid", 1, False), ("gender", "F", True)]


# -- planner: augment ------------------------------------------------------------------------

def test_augment_parity_counts():
    result = plan('by = ["ethnicity_group", "insurance"], target = "parity", within = "multimorbid = 1"')
    groups = result.groups.set_index("group_label")

    # Inside multimorbid = 1: WHITE x Medicare 40, WHITE x Private 12, BLACK x Medicaid 5, ASIAN x Private 3.
    assert groups.loc["WHITE x Medicare", "real_count"] == 40
    assert groups.loc["WHITE x Medicare", "synthetic_rows"] == 0
    assert groups.loc["WHITE x Private", "synthetic_rows"] == 28
    assert groups.loc["BLACK x Medicaid", "synthetic_rows"] == 35
    assert groups.loc["ASIAN x Private", "synthetic_rows"] == 37
    assert result.synthetic_rows == 100


def test_augment_meets_targets_within_rounding():
    result = plan('by = ["ethnicity_group"], target = "explicit", shares = {WHITE = 0.5, BLACK = 0.3, ASIAN = 0.2}, within = "multimorbid = 1"')
    combined = result.groups["real_count"] + result.groups["synthetic_rows"]
    achieved = combined / combined.sum()
    assert np.allclose(achieved, result.groups["target_share"], atol=0.5 / combined.sum() + 1e-9)
    assert np.allclose(achieved, result.groups["achieved_share"])


def test_augment_never_removes_real_rows():
    rows = invented_rows()
    result = plan('by = ["ethnicity_group", "insurance"], within = "multimorbid = 1"', rows)
    assert (result.groups["synthetic_rows"] >= 0).all()
    inside = rows.loc[rows["multimorbid"] == 1]
    real = group_counts(inside, ["ethnicity_group", "insurance"])
    planned_real = {tuple(json.loads(a).values()): n for a, n in zip(result.groups["attributes_json"], result.groups["real_count"])}
    assert planned_real == real


def test_augment_generates_nothing_outside_within():
    result = plan('by = ["ethnicity_group"], within = "multimorbid = 1"')
    assert set(result.counts["multimorbid"]) == {1}
    assert list(result.counts.columns) == ["ethnicity_group", "multimorbid", "count"]


def test_augment_rejects_zero_share_for_real_group():
    with pytest.raises(ConfigError, match="never removes real rows"):
        plan('by = ["ethnicity_group"], target = "explicit", shares = {WHITE = 0.6, BLACK = 0.4}, within = "multimorbid = 1"')


def test_augment_small_group_warning():
    result = plan('by = ["ethnicity_group"], within = "multimorbid = 1", min_group_rows = 10')
    warnings = result.groups.set_index("group_label")["warning"]
    assert "only 5 real rows" in warnings["BLACK"]
    assert "only 3 real rows" in warnings["ASIAN"]
    assert pd.isna(warnings["WHITE"])


def test_empty_groups_only_when_allowed():
    spec = 'by = ["ethnicity_group", "insurance"], within = "multimorbid = 1"'
    default = plan(spec)
    assert "BLACK x Private" not in set(default.groups["group_label"])

    allowed = plan(spec + ", allow_empty_groups = true")
    groups = allowed.groups.set_index("group_label")
    assert groups.loc["BLACK x Private", "real_count"] == 0
    assert groups.loc["BLACK x Private", "synthetic_rows"] > 0
    assert "no real rows" in groups.loc["BLACK x Private", "warning"]


def test_explicit_share_on_empty_group_rejected():
    with pytest.raises(ConfigError, match="allow_empty_groups"):
        plan('by = ["gender", "insurance"], target = "explicit", shares = {"F x Medicare" = 0.4, "M x Private" = 0.2, "F x Medicaid" = 0.2, "F x Private" = 0.1, "M x Medicaid" = 0.1}, within = "multimorbid = 1"')


def test_explicit_unknown_group_lists_allowed():
    with pytest.raises(ConfigError) as caught:
        plan('by = ["ethnicity_group"], target = "explicit", shares = {WHITE = 0.5, MARTIAN = 0.5}')
    assert "MARTIAN" in str(caught.value)
    assert "Allowed groups: ASIAN, BLACK, WHITE" in str(caught.value)


def test_unknown_attribute_lists_allowed():
    with pytest.raises(ConfigError) as caught:
        plan('by = ["religion"]')
    assert "unknown attribute 'religion'" in str(caught.value)
    assert "Allowed values: ethnicity_group, gender, insurance, multimorbid" in str(caught.value)


def test_non_condition_attribute_rejected():
    with pytest.raises(ConfigError, match="not a condition column"):
        plan_rebalance(invented_rows(), load_spec('by = ["age"], within = ""'), allowed_attributes=ATTRIBUTES)


def test_within_matching_nothing_rejected():
    with pytest.raises(ConfigError, match="matches none"):
        plan('by = ["gender"], within = "insurance = \'Self Pay\'"')


# -- planner: replace and reference ------------------------------------------------------------

def test_replace_sizes_and_outside_shares():
    rows = invented_rows()
    result = plan('by = ["ethnicity_group"], mode = "replace", size = 200, within = "multimorbid = 1"', rows)
    assert result.synthetic_rows == 200

    inside_share = (rows["multimorbid"] == 1).mean()
    inside = result.counts.loc[result.counts["multimorbid"] == 1]
    outside = result.counts.loc[result.counts["multimorbid"] == 0]
    assert inside["count"].sum() == round(200 * inside_share)
    assert sorted(inside["count"]) == [40, 40, 40]

    real_outside = rows.loc[rows["multimorbid"] == 0, "ethnicity_group"].value_counts(normalize=True)
    generated_outside = outside.set_index("ethnicity_group")["count"] / outside["count"].sum()
    for group, share in real_outside.items():
        assert abs(generated_outside[group] - share) <= 1 / outside["count"].sum()


def test_replace_without_within_uses_all_rows():
    result = plan('by = ["gender"], mode = "replace", size = 11, within = ""')
    assert result.synthetic_rows == 11
    assert sorted(result.counts["count"]) == [5, 6]


def test_reference_csv_shares(tmp_path):
    path = tmp_path / "census.csv"
    path.write_text("ethnicity_group,share\nWHITE,0.6\nBLACK,0.25\nASIAN,0.1\nHISPANIC,0.05\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="HISPANIC"):
        plan(f'by = ["ethnicity_group"], target = "reference", reference_csv = "{path}", within = "multimorbid = 1"')

    path.write_text("ethnicity_group,share\nWHITE,0.6\nBLACK,0.25\nASIAN,0.15\n", encoding="utf-8")
    result = plan(f'by = ["ethnicity_group"], target = "reference", reference_csv = "{path}", within = "multimorbid = 1"')
    targets = result.groups.set_index("group_label")["target_share"]
    assert targets["BLACK"] == pytest.approx(0.25)
    assert targets["ASIAN"] == pytest.approx(0.15)


def test_reference_csv_errors_name_file_and_column(tmp_path):
    path = tmp_path / "shares.csv"
    path.write_text("group,share\nWHITE,1.0\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        plan(f'by = ["ethnicity_group"], target = "reference", reference_csv = "{path}"')
    assert str(path) in str(caught.value)
    assert "ethnicity_group" in str(caught.value)

    path.write_text("ethnicity_group,share\nWHITE,0.5\nBLACK,0.2\nASIAN,0.1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="sums to 0.8000"):
        plan(f'by = ["ethnicity_group"], target = "reference", reference_csv = "{path}"')


def test_largest_remainder_sums_exactly():
    split = largest_remainder(10, {"a": 1, "b": 1, "c": 1})
    assert sum(split.values()) == 10
    assert sorted(split.values()) == [3, 3, 4]


# -- on the MIMIC-III demo ---------------------------------------------------------------------

@pytest.mark.slow
def test_demo_parity_plan_counts_exact(rebalanced_demo):
    result = rebalanced_demo.result
    generation = result.generation_id
    planned = {
        (row.ethnicity_group, row.insurance): int(row.count)
        for row in result.plan.counts.itertuples()
    }
    assert set(result.plan.counts["multimorbid"]) == {1}

    con = duckdb.connect(str(rebalanced_demo.warehouse), read_only=True)
    generated = con.execute(
        f"select ethnicity_group, insurance, count(*) from synthetic.gen_{generation} where multimorbid = 1 group by 1, 2"
    ).fetchall()
    decoded = con.execute(
        f"select ethnicity_group, insurance, multimorbid, count(*) from synthetic_{generation}.mm_admission_features group by 1, 2, 3"
    ).fetchall()
    con.close()

    assert {(e, i): n for e, i, n in generated} == planned
    assert {(e, i): n for e, i, m, n in decoded} == planned
    assert {m for _, _, m, _ in decoded} == {1}


@pytest.mark.slow
def test_demo_plan_stored(rebalanced_demo):
    result = rebalanced_demo.result
    con = duckdb.connect(str(rebalanced_demo.warehouse), read_only=True)
    stored = con.execute(
        "select group_label, real_count, synthetic_rows, target_share from ml.rebalance_plans where generation_id = ? order by group_label",
        [result.generation_id],
    ).fetchdf()
    spec_json = con.execute("select rebalance_spec_json, mode from ml.generations where generation_id = ?", [result.generation_id]).fetchall()[0]
    con.close()

    expected = result.plan.groups.sort_values("group_label")
    assert list(stored["group_label"]) == list(expected["group_label"])
    assert list(stored["synthetic_rows"]) == list(expected["synthetic_rows"])
    assert list(stored["real_count"]) == list(expected["real_count"])
    assert np.allclose(stored["target_share"], 1 / len(expected))
    assert json.loads(spec_json[0])["by"] == ["ethnicity_group", "insurance"]
    assert spec_json[1] == "augment"


@pytest.mark.slow
def test_demo_augment_leaves_real_rows(rebalanced_demo):
    after = rebalanced_demo.digests(rebalanced_demo.warehouse)
    assert after == rebalanced_demo.digests_before


@pytest.mark.slow
def test_demo_bad_spec_writes_nothing(rebalanced_demo):
    from equisynth.synthesis import generate_rebalanced

    def state():
        con = duckdb.connect(str(rebalanced_demo.warehouse), read_only=True)
        generations = con.execute("select count(*) from ml.generations").fetchall()[0][0]
        schemas = con.execute("select count(*) from information_schema.schemata where schema_name like 'synthetic%'").fetchall()[0][0]
        plans = con.execute("select count(*) from ml.rebalance_plans").fetchall()[0][0]
        con.close()
        return generations, schemas, plans

    before = state()
    bad_specs = [
        'by = ["favourite_colour"]',
        'by = ["ethnicity_group"], target = "explicit", shares = {WHITE = 0.9}',
        'by = ["gender"], mode = "replace", size = -1',
    ]
    for spec in bad_specs:
        with pytest.raises(ConfigError):
            generate_rebalanced(rebalanced_demo.warehouse, rebalanced_demo.run_id, spec)
    assert state() == before


@pytest.mark.slow
def test_demo_example_queries(rebalanced_demo):
    from equisynth.paths import PROJECT_ROOT

    text = (PROJECT_ROOT / "docs" / "example_queries.sql").read_text(encoding="utf-8")
    # The fixture's plan is by ethnicity group and insurance, so the query is edited as its comment describes.
    assert text.count("ethnicity_group as group_label  -- group") == 2
    text = text.replace("ethnicity_group as group_label  -- group", "ethnicity_group || ' x ' || insurance as group_label")
    queries = [part for part in text.split(";") if "select" in part]
    assert len(queries) == 3

    con = duckdb.connect(str(rebalanced_demo.warehouse), read_only=True)
    results = [con.execute(query).fetchdf() for query in queries]
    con.close()

    shares, prevalence, distribution = results
    plan = rebalanced_demo.result.plan.groups.set_index("group_label")
    shares = shares.set_index("group_label")
    assert set(shares.index) == set(plan.index)
    for label, row in shares.iterrows():
        assert row["real_admissions"] == plan.loc[label, "real_count"], label
        assert row["share_after"] == pytest.approx(plan.loc[label, "achieved_share"], abs=0.0005), label
        assert row["target_share"] == pytest.approx(plan.loc[label, "target_share"], abs=0.0005), label
    assert set(prevalence["source"]) == {"real", rebalanced_demo.result.generation_id}
    assert distribution["real_share"].sum() == pytest.approx(1.0, abs=0.01)
    assert distribution["synthetic_share"].sum() == pytest.approx(1.0, abs=0.01)


@pytest.mark.slow
def test_cli_bad_spec_exits_with_message(rebalanced_demo):
    from typer.testing import CliRunner

    from equisynth.cli import app

    result = CliRunner().invoke(app, [
        "generate", "--warehouse", str(rebalanced_demo.warehouse), "--run", rebalanced_demo.run_id,
        "--rebalance", 'by = ["ethnicity_group"], target = "explicit", shares = {WHITE = 0.2}',
    ])
    assert result.exit_code == 2
    assert "shares sum to 0.2000, not 1" in result.output
