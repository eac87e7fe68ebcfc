"""Great Expectations suites on the MIMIC-III demo, on a synthetic generation, and on broken tables."""

import json
import logging
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from equisynth.errors import EquisynthError
from equisynth.validation import latest_validation_passed, validate
from equisynth.validation.bounds import (
    bounds_rows, column_kinds, count_checks, derive_bounds, family_z, quantile_bounds, share_bound,
)
from equisynth.validation.reference import bounds_reference
from equisynth.validation.reweighting import weighted_quantiles

FIXTURES = Path(__file__).parent / "fixtures" / "validation"
GENERATION = "gen_validation_test"
SCHEMA = f"synthetic_{GENERATION}"
TRAIN_SUBJECTS = "(select subject_id from ml.splits where part = 'train')"
DAY_SHIFT = "interval 7 day"


def copy_warehouse(source: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "equisynth.duckdb"
    shutil.copy(source, target)
    return target


def add_training_split(con: duckdb.DuckDBPyConnection) -> None:
    """A patient-level split with one in five patients held out, and a model run and generation that use it."""
    con.execute("create schema if not exists ml")
    con.execute(
        """
        create or replace table ml.splits as
        select 'split_validation_test' as split_id, subject_id,
               case when subject_id % 5 = 0 then 'holdout' else 'train' end as part,
               0.2 as holdout_fraction, 0 as seed, timestamp '2026-01-01' as created_at
        from raw.patients
        """
    )
    con.execute(
        """
        create or replace table ml.model_runs as
        select 'run_validation_test' as run_id, 'diffusion' as model, '{}' as params_json, 0 as seed,
               'main.mm_admission_features' as source_table, '' as source_fingerprint,
               'split_validation_test' as split_id, 'cpu' as device, timestamp '2026-01-01' as started_at,
               0.0 as wall_seconds, '{}' as final_losses_json, '' as artefact_path, 'finished' as status
        """
    )
    con.execute(
        f"""
        create or replace table ml.generations as
        select '{GENERATION}' as generation_id, 'run_validation_test' as run_id, 0 as seed, 0 as n_rows,
               '{{}}' as request_json, null::varchar as rebalance_spec_json, 'rows' as mode,
               timestamp '2026-01-01' as created_at, null::integer as code_fallbacks, 'decoded' as status
        """
    )


def add_synthetic_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Decoded tables of a stand-in generation: the training patients' rows with synthetic ids and dates a week later.

    Ids move above MIMIC-III's ranges (subject_id + 1,000,000, hadm_id + 2,000,000, icustay_id +
    3,000,000) as the decoder's do.
    """
    con.execute(f"create schema if not exists {SCHEMA}")
    con.execute(
        f"""
        create or replace table {SCHEMA}.patients as
        select * replace (row_id + 1000000 as row_id, subject_id + 1000000 as subject_id,
                          dob + {DAY_SHIFT} as dob, dod + {DAY_SHIFT} as dod,
                          dod_hosp + {DAY_SHIFT} as dod_hosp, dod_ssn + {DAY_SHIFT} as dod_ssn)
        from raw.patients where subject_id in {TRAIN_SUBJECTS}
        """
    )
    con.execute(
        f"""
        create or replace table {SCHEMA}.admissions as
        select * replace (row_id + 1000000 as row_id, subject_id + 1000000 as subject_id, hadm_id + 2000000 as hadm_id,
                          admittime + {DAY_SHIFT} as admittime, dischtime + {DAY_SHIFT} as dischtime,
                          deathtime + {DAY_SHIFT} as deathtime, edregtime + {DAY_SHIFT} as edregtime,
                          edouttime + {DAY_SHIFT} as edouttime)
        from raw.admissions where subject_id in {TRAIN_SUBJECTS}
        """
    )
    con.execute(
        f"""
        create or replace table {SCHEMA}.diagnoses_icd as
        select * replace (row_id + 1000000 as row_id, subject_id + 1000000 as subject_id, hadm_id + 2000000 as hadm_id)
        from raw.diagnoses_icd where subject_id in {TRAIN_SUBJECTS}
        """
    )
    con.execute(
        f"""
        create or replace table {SCHEMA}.icustays as
        select * replace (row_id + 1000000 as row_id, subject_id + 1000000 as subject_id, hadm_id + 2000000 as hadm_id,
                          icustay_id + 3000000 as icustay_id, intime + {DAY_SHIFT} as intime,
                          outtime + {DAY_SHIFT} as outtime)
        from raw.icustays where subject_id in {TRAIN_SUBJECTS}
        """
    )
    con.execute(f"create or replace table {SCHEMA}.d_icd_diagnoses as select * from raw.d_icd_diagnoses")


@pytest.fixture(scope="module")
def real_warehouse(tmp_path_factory, built_demo_warehouse) -> Path:
    """The demo loaded and built with dbt, before any validation."""
    return copy_warehouse(built_demo_warehouse, tmp_path_factory.mktemp("validation_real"))


@pytest.fixture(scope="module")
def generation_warehouse(tmp_path_factory, real_warehouse) -> Path:
    """The built demo plus a split and a stand-in generation whose mart dbt built."""
    from equisynth.dbt_runner import build

    path = copy_warehouse(real_warehouse, tmp_path_factory.mktemp("validation_generation"))
    with duckdb.connect(str(path)) as con:
        add_training_split(con)
        add_synthetic_tables(con)
    build(path, generation=GENERATION)
    return path


def broken_copy(source: Path, folder: Path, *statements: str) -> Path:
    path = copy_warehouse(source, folder)
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)
    return path


def failed(summary) -> set[tuple[str, str, str | None]]:
    return {(f.table_name, f.expectation, f.column_name) for f in summary.failures}


@pytest.mark.slow
def test_real_demo_tables_pass(real_warehouse, tmp_path):
    path = copy_warehouse(real_warehouse, tmp_path)

    summary = validate(path, real=True, progress=False)

    assert summary.failures == []
    assert summary.success
    assert "raw.diagnoses_icd" in summary.tables
    assert "main.mm_admission_features" in summary.tables
    assert summary.data_docs_path == tmp_path / "reports" / "data_docs" / "index.html"
    assert summary.data_docs_path.exists()
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select count(*), count(distinct suite), bool_and(success), count(*) filter (where generation_id is not null) "
            "from quality.validation_results where validation_id = ?",
            [summary.validation_id],
        ).fetchone()
    assert rows[0] == summary.evaluated
    assert rows[1] == len(summary.tables)
    assert rows[2] is True
    assert rows[3] == 0


@pytest.mark.slow
def test_synthetic_generation_passes(generation_warehouse, tmp_path):
    path = copy_warehouse(generation_warehouse, tmp_path)

    summary = validate(path, generation=GENERATION, progress=False)

    assert summary.failures == []
    assert summary.tables == [f"{SCHEMA}.{table}" for table in ("patients", "admissions", "diagnoses_icd", "icustays", "mm_admission_features")]
    with duckdb.connect(str(path)) as con:
        assert latest_validation_passed(con, GENERATION)
        bounds = con.execute(
            "select statistic, count(*) from quality.distribution_bounds where validation_id = ? group by 1",
            [summary.validation_id],
        ).fetchall()
        split = con.execute("select distinct split_id from quality.distribution_bounds").fetchall()
        unexplained = con.execute(
            "select count(*) filter (where tolerance is null or n_eff is null or n_synthetic is null), "
            "count(*) filter (where weighting is not null) "
            "from quality.distribution_bounds where validation_id = ? and statistic <> 'domain'",
            [summary.validation_id],
        ).fetchone()
    statistics = dict(bounds)
    assert statistics["q50"] >= 3  # age, los_hospital_days, icu_days at least
    assert statistics["share"] > 50
    assert statistics["domain"] >= 5
    assert split == [("split_validation_test",)]
    assert unexplained == (0, 0)


def test_dotted_diagnosis_code_fails(real_warehouse, tmp_path):
    fixture = FIXTURES / "diagnoses_icd_dotted_code.csv"
    path = broken_copy(
        real_warehouse, tmp_path,
        f"create or replace table raw.diagnoses_icd as select * from read_csv('{fixture}', types = {{'icd9_code': 'VARCHAR'}})",
    )

    summary = validate(path, table="raw.diagnoses_icd", progress=False)

    assert failed(summary) == {("raw.diagnoses_icd", "expect_column_values_to_match_regex", "icd9_code")}
    assert "401.9" in summary.failures[0].observed_value
    assert not summary.success


def test_data_docs_name_failed_expectation(real_warehouse, tmp_path):
    fixture = FIXTURES / "diagnoses_icd_dotted_code.csv"
    path = broken_copy(
        real_warehouse, tmp_path,
        f"create or replace table raw.diagnoses_icd as select * from read_csv('{fixture}', types = {{'icd9_code': 'VARCHAR'}})",
    )

    summary = validate(path, table="raw.diagnoses_icd", progress=False)

    pages = list((tmp_path / "reports" / "data_docs" / "validations").rglob("*.html"))
    assert summary.data_docs_path.exists()
    assert len(pages) == 1
    html = pages[0].read_text(encoding="utf-8")
    assert "raw.diagnoses_icd" in html
    assert "icd9_code" in html
    assert "must match this regular expression" in html
    assert "401.9" in html


def test_negative_length_of_stay_fails(real_warehouse, tmp_path):
    path = broken_copy(
        real_warehouse, tmp_path,
        "update main.mm_admission_features set los_hospital_days = -0.5 "
        "where hadm_id = (select min(hadm_id) from main.mm_admission_features)",
    )

    summary = validate(path, table="main.mm_admission_features", progress=False)

    assert failed(summary) == {("main.mm_admission_features", "expect_column_values_to_be_between", "los_hospital_days")}
    assert "-0.5" in summary.failures[0].observed_value


def test_unmapped_ethnicity_fails(real_warehouse, tmp_path):
    path = broken_copy(
        real_warehouse, tmp_path,
        "update main.mm_admission_features set ethnicity_group = 'SOUTH AMERICAN' "
        "where hadm_id = (select min(hadm_id) from main.mm_admission_features)",
        "update main.mm_admission_features set ethnicity_group = null "
        "where hadm_id = (select max(hadm_id) from main.mm_admission_features)",
    )

    summary = validate(path, table="main.mm_admission_features", progress=False)

    assert failed(summary) == {
        ("main.mm_admission_features", "expect_column_values_to_be_in_set", "ethnicity_group"),
        ("main.mm_admission_features", "expect_column_values_to_not_be_null", "ethnicity_group"),
    }


def test_inconsistent_derived_column_fails(real_warehouse, tmp_path):
    path = broken_copy(
        real_warehouse, tmp_path,
        "update main.mm_admission_features set multimorbid = 1 - multimorbid "
        "where hadm_id = (select min(hadm_id) from main.mm_admission_features)",
    )

    summary = validate(path, table="main.mm_admission_features", progress=False)

    assert failed(summary) == {("main.mm_admission_features", "expect_column_pair_values_to_be_equal", "multimorbid,expected_multimorbid")}


def test_full_release_row_counts_expected(real_warehouse, tmp_path):
    path = broken_copy(real_warehouse, tmp_path, "update raw.load_manifest set source_form = 'full'")

    summary = validate(path, table="raw.patients", progress=False)

    assert failed(summary) == {("raw.patients", "expect_table_row_count_to_equal", None)}
    assert summary.failures[0].observed_value == "100"


def test_demo_has_no_row_count_expectation(real_warehouse, tmp_path):
    path = copy_warehouse(real_warehouse, tmp_path)

    summary = validate(path, table="raw.patients", progress=False)

    with duckdb.connect(str(path), read_only=True) as con:
        expectations = {row[0] for row in con.execute("select expectation from quality.validation_results").fetchall()}
    assert summary.success
    assert "expect_table_row_count_to_equal" not in expectations


def test_orphan_hadm_id_fails(generation_warehouse, tmp_path):
    path = broken_copy(
        generation_warehouse, tmp_path,
        f"insert into {SCHEMA}.diagnoses_icd select 1999999, min(subject_id), 2999999, 1, '4019' from {SCHEMA}.patients",
    )

    summary = validate(path, table=f"{SCHEMA}.diagnoses_icd", progress=False)

    failures = failed(summary)
    assert (f"{SCHEMA}.diagnoses_icd", "expect_column_pair_values_to_be_equal", "hadm_id,admission_hadm_id") in failures
    assert (f"{SCHEMA}.diagnoses_icd", "expect_column_pair_values_to_be_equal", "subject_id,admission_subject_id") in failures
    assert len(failures) == 2
    assert "2999999" in summary.failures[0].observed_value


def test_real_id_in_synthetic_table_fails(generation_warehouse, tmp_path):
    path = broken_copy(
        generation_warehouse, tmp_path,
        f"update {SCHEMA}.patients set subject_id = 42 where subject_id = (select min(subject_id) from {SCHEMA}.patients)",
    )

    summary = validate(path, table=f"{SCHEMA}.patients", progress=False)

    assert failed(summary) == {(f"{SCHEMA}.patients", "expect_column_values_to_be_between", "subject_id")}


def test_category_outside_real_domain_fails(generation_warehouse, tmp_path):
    with duckdb.connect(str(generation_warehouse), read_only=True) as con:
        real_insurance = {row[0] for row in con.execute("select distinct insurance from main.mm_admission_features").fetchall()}
    assert "Self Pay" not in real_insurance
    path = broken_copy(
        generation_warehouse, tmp_path,
        f"update {SCHEMA}.mm_admission_features set insurance = 'Self Pay' "
        f"where hadm_id = (select min(hadm_id) from {SCHEMA}.mm_admission_features)",
    )

    summary = validate(path, table=f"{SCHEMA}.mm_admission_features", progress=False)

    assert failed(summary) == {(f"{SCHEMA}.mm_admission_features", "expect_column_values_to_be_in_set", "insurance")}
    assert "Self Pay" in summary.failures[0].observed_value


def test_shifted_distribution_fails(generation_warehouse, tmp_path):
    path = broken_copy(
        generation_warehouse, tmp_path,
        f"update {SCHEMA}.mm_admission_features set los_hospital_days = los_hospital_days + 30",
    )

    summary = validate(path, table=f"{SCHEMA}.mm_admission_features", progress=False)

    assert failed(summary) == {(f"{SCHEMA}.mm_admission_features", "expect_column_quantiles_near_reference", "los_hospital_days")}
    assert "(bound: allowed [" in summary.failures[0].observed_value


@pytest.mark.slow
def test_rebalanced_attribute_left_out_of_shares(generation_warehouse, tmp_path):
    path = broken_copy(
        generation_warehouse, tmp_path,
        f"update {SCHEMA}.mm_admission_features set ethnicity_group = 'BLACK' where hadm_id % 2 = 0",
    )
    unplanned = validate(path, table=f"{SCHEMA}.mm_admission_features", progress=False)
    with duckdb.connect(str(path)) as con:
        con.execute(
            """
            create table ml.rebalance_plans as
            select ? as generation_id, 'BLACK' as group_label, '{"ethnicity_group": "BLACK"}' as attributes_json,
                   5 as real_count, 0.05 as real_share, 0.5 as target_share, 40 as synthetic_rows,
                   0.5 as achieved_share, null::varchar as warning
            """,
            [GENERATION],
        )

    planned = validate(path, table=f"{SCHEMA}.mm_admission_features", progress=False)

    assert (f"{SCHEMA}.mm_admission_features", "expect_column_mean_to_be_between", "ethnicity_group=BLACK") in failed(unplanned)
    assert planned.failures == []
    with duckdb.connect(str(path), read_only=True) as con:
        excluded = con.execute(
            "select column_name from quality.distribution_bounds where validation_id = ? and statistic = 'excluded'",
            [planned.validation_id],
        ).fetchall()
        weighting = con.execute(
            "select distinct weighting from quality.distribution_bounds where validation_id = ? and statistic = 'share'",
            [planned.validation_id],
        ).fetchall()
        strata = con.execute(
            "select count(*) from quality.distribution_bounds where validation_id = ? and statistic = 'stratum'",
            [planned.validation_id],
        ).fetchone()[0]
    assert excluded == [("ethnicity_group",)]
    assert weighting == [("post-stratified to the synthetic mix of ethnicity_group",)]
    assert strata >= 2


def test_latest_validation_needs_full_generation_run(generation_warehouse, tmp_path):
    path = copy_warehouse(generation_warehouse, tmp_path)
    with duckdb.connect(str(path)) as con:
        assert not latest_validation_passed(con, GENERATION)

    summary = validate(path, table=f"{SCHEMA}.patients", progress=False)

    assert summary.success
    with duckdb.connect(str(path)) as con:
        assert not latest_validation_passed(con, GENERATION)


@pytest.fixture
def restored_logging():
    """Put back the root log handlers that the CLI's `logging.basicConfig(force=True)` replaces with CliRunner's stream."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_cli_exits_1_and_prints_failures(real_warehouse, tmp_path, restored_logging):
    from equisynth.cli import app

    fixture = FIXTURES / "diagnoses_icd_dotted_code.csv"
    path = broken_copy(
        real_warehouse, tmp_path,
        f"create or replace table raw.diagnoses_icd as select * from read_csv('{fixture}', types = {{'icd9_code': 'VARCHAR'}})",
    )

    result = CliRunner().invoke(
        app, ["validate", "--table", "raw.diagnoses_icd", "--warehouse", str(path)], env={"COLUMNS": "250"}
    )

    assert result.exit_code == 1, result.output
    assert "expect_column_values_to_match_regex" in result.output
    assert "401.9" in result.output


def test_cli_needs_exactly_one_target(tmp_path, restored_logging):
    from equisynth.cli import app

    result = CliRunner().invoke(app, ["validate", "--real", "--generation", "gen_x", "--warehouse", str(tmp_path / "w.duckdb")])

    assert result.exit_code == 2
    assert "exactly one of --real, --generation ID or --table NAME" in result.output


def test_missing_generation_names_step(real_warehouse, tmp_path):
    path = copy_warehouse(real_warehouse, tmp_path)

    with pytest.raises(EquisynthError, match="equisynth decode --generation gen_missing"):
        validate(path, generation="gen_missing", progress=False)


def test_quantile_bounds_scale_without_spread():
    values = pd.Series([2.0] * 9 + [4.0])

    bounds = quantile_bounds("icu_days", values, tolerance=0.5)

    assert [b.statistic for b in bounds] == ["q25", "q50", "q75"]
    assert bounds[1].real_value == 2.0
    assert bounds[1].lower_bound == pytest.approx(2.0 - 0.5 * values.std(ddof=0), abs=1e-6)
    assert bounds[1].upper_bound == pytest.approx(2.0 + 0.5 * values.std(ddof=0), abs=1e-6)


def test_suite_files_are_valid_gx_suites():
    from equisynth.paths import EXPECTATIONS_DIR
    from equisynth.validation.suites import read_suite_file

    names = [f"{path.parent.name}.{path.stem}" for path in EXPECTATIONS_DIR.glob("*/*.json") if path.stem != "full_release_row_counts"]

    assert len(names) >= 14
    for name in names:
        document = read_suite_file(name)
        assert document["expectations"], name
        assert json.dumps(document)


BOUND_EXPECTATIONS = {"expect_column_quantiles_near_reference", "expect_column_mean_to_be_between"}


@pytest.mark.slow
def test_decoded_generation_meets_structure(rebalanced_demo, tmp_path):
    path = copy_warehouse(rebalanced_demo.warehouse, tmp_path)
    generation_id = rebalanced_demo.result.generation_id

    summary = validate(path, generation=generation_id, progress=False)

    structural = [f for f in summary.failures if f.expectation not in BOUND_EXPECTATIONS]
    assert structural == []
    assert len(summary.tables) == 5


# Post-stratified bounds of a rebalanced generation, on small hand-made tables.

REBALANCED = "gen_reweight_test"


def make_admissions(group: str, rows: int, deaths: int, los_start: float, first_id: int, part_id: int = 0) -> pd.DataFrame:
    """`rows` admissions of one ethnicity group inside multimorbid = 1, `deaths` of them with hospital_expire_flag = 1."""
    ids = range(first_id, first_id + rows)
    return pd.DataFrame(
        {
            "subject_id": list(ids),
            "hadm_id": [100000 + i for i in ids],
            "ethnicity_group": group,
            "multimorbid": 1,
            "hospital_expire_flag": [1 if i < deaths else 0 for i in range(rows)],
            # Spread over [los_start, los_start + 4) in a fixed order.
            "los_hospital_days": [los_start + (i * 37 % rows) * 4.0 / rows for i in range(rows)],
        }
    )


@pytest.fixture
def rebalanced_warehouse(tmp_path) -> Path:
    """Training rows where the small group BLACK (40 rows) dies more often and stays longer than WHITE (160 rows),
    and a generation that adds 40 WHITE and 160 BLACK rows that follow the real group-wise distributions."""
    real = pd.concat(
        [
            make_admissions("WHITE", 160, deaths=16, los_start=2.0, first_id=1),
            make_admissions("BLACK", 40, deaths=24, los_start=10.0, first_id=1001),
            # Outside `within`, and held out: neither may shape the bounds.
            make_admissions("WHITE", 50, deaths=50, los_start=60.0, first_id=2001).assign(multimorbid=0),
            make_admissions("WHITE", 20, deaths=20, los_start=80.0, first_id=3001),
        ],
        ignore_index=True,
    )
    synthetic = pd.concat(
        [
            make_admissions("WHITE", 40, deaths=4, los_start=2.0, first_id=5001),
            make_admissions("BLACK", 160, deaths=96, los_start=10.0, first_id=6001),
        ],
        ignore_index=True,
    )
    splits = pd.DataFrame({"subject_id": real["subject_id"]})
    splits["part"] = ["holdout" if subject > 3000 else "train" for subject in splits["subject_id"]]

    path = tmp_path / "equisynth.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema ml")
        con.execute(f"create schema synthetic_{REBALANCED}")
        con.execute("create table main.mm_admission_features as select * from real")
        con.execute(f"create table synthetic_{REBALANCED}.mm_admission_features as select * from synthetic")
        con.execute(
            "create table ml.splits as select 'split_reweight' as split_id, subject_id, part, "
            "timestamp '2026-01-01' as created_at from splits"
        )
        con.execute(
            "create table ml.generations as select ? as generation_id, 'run_reweight' as run_id, 'augment' as mode, "
            "'{\"by\": [\"ethnicity_group\"], \"within\": \"multimorbid = 1\"}' as rebalance_spec_json",
            [REBALANCED],
        )
        con.execute(
            "create table ml.rebalance_plans as select ? as generation_id, unnest(['WHITE', 'BLACK']) as group_label, "
            "unnest(['{\"ethnicity_group\": \"WHITE\"}', '{\"ethnicity_group\": \"BLACK\"}']) as attributes_json",
            [REBALANCED],
        )
    return path


def reweighted_bounds(path: Path, weighted: bool = True, update: str | None = None):
    """Bounds of the rebalanced generation, the synthetic rows they apply to, and the column kinds."""
    with duckdb.connect(str(path)) as con:
        if update:
            con.execute(update)
        reference, info = bounds_reference(con, REBALANCED)
        synthetic = con.execute(f"select * from synthetic_{REBALANCED}.mm_admission_features").df()
    if not weighted:
        info.weights = None
    kinds, _ = column_kinds(reference)
    return derive_bounds(reference, kinds, info, quantile_tolerance=0.15, share_tolerance=0.10, z=3.0), synthetic, kinds


def violated(bounds, synthetic: pd.DataFrame, kinds: dict[str, str]) -> set[tuple[str, str]]:
    """(column, statistic or category) of each share or quartile bound that the synthetic rows break."""
    broken = set()
    for bound in bounds:
        values = synthetic[bound.column_name]
        if bound.statistic == "share":
            matches = values == 1 if kinds[bound.column_name] == "binary" else values.astype(str) == bound.category
            observed = float(matches.mean())
            label = bound.category
        elif bound.statistic.startswith("q"):
            observed = float(values.quantile(int(bound.statistic[1:]) / 100))
            label = bound.statistic
        else:
            continue
        if not bound.lower_bound <= observed <= bound.upper_bound:
            broken.add((bound.column_name, label))
    return broken


def test_unweighted_bounds_fail_rebalanced_mix(rebalanced_warehouse):
    bounds, synthetic, kinds = reweighted_bounds(rebalanced_warehouse, weighted=False)

    broken = violated(bounds, synthetic, kinds)

    assert ("hospital_expire_flag", "1") in broken
    assert ("los_hospital_days", "q50") in broken


def test_reweighted_bounds_pass_rebalanced_mix(rebalanced_warehouse):
    bounds, synthetic, kinds = reweighted_bounds(rebalanced_warehouse)

    death = next(b for b in bounds if b.column_name == "hospital_expire_flag")

    assert violated(bounds, synthetic, kinds) == set()
    assert death.real_value == pytest.approx(0.2 * 0.1 + 0.8 * 0.6)
    assert death.unweighted_value == pytest.approx(40 / 200)
    # Kish: weights 0.2/160 (WHITE) and 0.8/40 (BLACK) give 1 / (0.2^2/160 + 0.8^2/40).
    assert death.n_eff == pytest.approx(1 / (0.2**2 / 160 + 0.8**2 / 40), abs=0.01)
    assert death.n_synthetic == 200
    assert death.tolerance_source == "sampling error (z = 3)"
    assert not any(b.column_name == "ethnicity_group" and b.statistic == "share" for b in bounds)


def test_reweighted_bounds_catch_shifted_columns(rebalanced_warehouse):
    bounds, synthetic, kinds = reweighted_bounds(
        rebalanced_warehouse,
        update=f"update synthetic_{REBALANCED}.mm_admission_features "
        "set los_hospital_days = los_hospital_days + 30, hospital_expire_flag = 1",
    )

    broken = violated(bounds, synthetic, kinds)

    assert ("hospital_expire_flag", "1") in broken
    assert {("los_hospital_days", "q25"), ("los_hospital_days", "q50"), ("los_hospital_days", "q75")} <= broken


def test_stratum_without_real_rows_uses_unweighted_reference(rebalanced_warehouse):
    bounds, _, _ = reweighted_bounds(
        rebalanced_warehouse,
        update=f"update synthetic_{REBALANCED}.mm_admission_features set ethnicity_group = 'ASIAN' where subject_id < 5011",
    )
    with duckdb.connect(str(rebalanced_warehouse)) as con:
        _, info = bounds_reference(con, REBALANCED)

    strata = {stratum.label: stratum for stratum in info.weights.strata}
    asian = [row for row in bounds_rows(bounds, info) if row["statistic"] == "stratum" and row["category"] == "ethnicity_group=ASIAN"]

    assert not strata["ethnicity_group=ASIAN"].reweighted
    assert info.weights.unmatched_share == pytest.approx(10 / 200)
    assert info.weights.weights.sum() == pytest.approx(1.0)
    assert "compared with the unweighted real rows" in asian[0]["note"]
    assert asian[0]["n_synthetic"] == 10


def test_weighted_quantiles_match_pandas_for_equal_weights():
    values = pd.Series([5.0, 1.0, 3.0, 3.0, 10.0, 2.5, 7.0])
    probabilities = [0.0, 0.1, 0.25, 0.5, 0.75, 1.0]

    result = weighted_quantiles(values.to_numpy(), [0.2] * len(values), probabilities)

    assert result == pytest.approx(values.quantile(probabilities).to_numpy())


def test_share_tolerance_widens_with_sampling_error():
    indicator = pd.Series([1] * 5 + [0] * 15).astype(bool).to_numpy()

    small = share_bound("hospital_expire_flag", "1", indicator, [1 / 20] * 20, 0.10, 3.0, n_synthetic=20)
    fixed = share_bound("hospital_expire_flag", "1", indicator, [1 / 20] * 20, 0.10, 0.01, n_synthetic=20)

    assert small.tolerance == pytest.approx(3 * (0.25 * 0.75 * (1 / 20 + 1 / 20)) ** 0.5, abs=1e-6)
    assert small.tolerance_source == "sampling error (z = 3)"
    assert fixed.tolerance == pytest.approx(0.10)
    assert fixed.tolerance_source == "share_tolerance"


def test_family_z_follows_bonferroni():
    assert family_z(1, 0.05) == pytest.approx(1.95996, abs=1e-4)
    assert family_z(350, 0.05) == pytest.approx(3.8, abs=0.01)


def test_false_alarm_rate_raises_z_over_many_checks(rebalanced_warehouse):
    with duckdb.connect(str(rebalanced_warehouse)) as con:
        reference, info = bounds_reference(con, REBALANCED)
    kinds, _ = column_kinds(reference)
    checks = count_checks(reference, kinds, info)

    plain = derive_bounds(reference, kinds, info, quantile_tolerance=0.0, share_tolerance=0.0, z=3.0)
    family = derive_bounds(reference, kinds, info, quantile_tolerance=0.0, share_tolerance=0.0, z=3.0, false_alarm_rate=0.001)
    death = {bound.tolerance_source: bound for bound in plain + family if bound.column_name == "hospital_expire_flag"}

    assert checks == len([b for b in plain if b.statistic == "share" or b.statistic.startswith("q")])
    expected = family_z(checks, 0.001)
    assert expected > 3.0
    assert death[f"sampling error (z = {expected:.3g})"].tolerance == pytest.approx(death["sampling error (z = 3)"].tolerance * expected / 3.0, rel=1e-3)
