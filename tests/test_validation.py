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
from equisynth.validation.bounds import quantile_bounds

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
    statistics = dict(bounds)
    assert statistics["q50"] >= 3  # age, los_hospital_days, icu_days at least
    assert statistics["share"] > 50
    assert statistics["domain"] >= 5
    assert split == [("split_validation_test",)]


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
    assert excluded == [("ethnicity_group",)]


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
