"""Release export: gates, MIMIC-III layout files, manifest, data card, DataCite, checksums, index.

The warehouse here is built by hand with invented rows that follow the shared table contracts
(raw.*, main.mm_admission_features, ml.*, quality.*, synthetic_<g>.*); no row comes from MIMIC.
"""

import csv
import importlib
import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from equisynth.config import Settings
from equisynth.errors import ConfigError, EquisynthError, NotFoundError
from equisynth.release import ReleaseRejectedError, export, verify
from equisynth.release.naming import rebalancing_tokens, release_name

GOOD = "gen_good"
COPY = "gen_copy"
SPLIT = "split_a"
RUN = "run_a"

# Twelve invented real patients: 101-109 train, 110-112 holdout.
REAL_SUBJECTS = list(range(101, 113))
TRAIN_SUBJECTS = REAL_SUBJECTS[:9]

# Codes and the real patients that have them: 4280 and 25000 are common, 0389 is rare (2 < k),
# V1582 is in the dictionary only.
K = 3
REAL_CODES = {"4280": REAL_SUBJECTS, "25000": REAL_SUBJECTS[:8], "0389": REAL_SUBJECTS[:2]}
DICTIONARY = {
    "4280": ("CHF NOS", "Congestive heart failure, unspecified"),
    "25000": ("DMII wo cmp nt st uncntr", "Diabetes mellitus without mention of complication"),
    "0389": ("Septicemia NOS", "Unspecified septicemia"),
    "V1582": ("History of tobacco use", "Personal history of tobacco use"),
}

# ADMISSIONS.ETHNICITY values of MIMIC-III v1.4 for the mart's ethnicity groups.
ETHNICITY = {"WHITE": "WHITE", "BLACK": "BLACK/AFRICAN AMERICAN"}

PRIVACY_OK = {
    "exact_match_rate_synthetic": 0.0,
    "exact_match_rate_holdout": 0.0,
    "dcr_p5_synthetic": 0.40,
    "dcr_p5_holdout": 0.42,
    "dcr_median_synthetic": 1.1,
    "dcr_median_holdout": 1.0,
    "mia_auc": 0.52,
}


def real_admission(subject: int) -> dict:
    i = subject - 100
    return {
        "subject_id": subject,
        "hadm_id": 5000 + i,
        "admittime": f"2130-0{1 + i % 9}-1{i % 10} 0{i % 10}:1{i % 10}:00",
        "dischtime": f"2130-0{1 + i % 9}-2{i % 10} 1{i % 10}:4{i % 10}:00",
        "dob": f"20{60 + i}-03-0{1 + i % 9} 00:00:00",
        "age": 60 + i,
        "gender": "F" if i % 2 else "M",
        "ethnicity_group": "WHITE" if i % 3 else "BLACK",
        "insurance": "Medicare" if i % 2 else "Private",
        "los": 9.0 + i / 7,
    }


def synthetic_admission(index: int) -> dict:
    return {
        "subject_id": 1_000_001 + index,
        "hadm_id": 2_000_001 + index,
        "admittime": f"2171-1{index % 3}-0{1 + index % 9} 1{index % 10}:0{index % 10}:00",
        "dischtime": f"2171-1{index % 3}-1{1 + index % 9} 1{index % 10}:3{index % 10}:00",
        "dob": f"2099-07-1{index % 10} 00:00:00",
        "age": 70 + index,
        "gender": "M" if index % 2 else "F",
        "ethnicity_group": "BLACK" if index % 2 else "WHITE",
        "insurance": "Medicaid",
        "los": 3.25 + index / 11,
    }


def _create_raw(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema raw")
    con.execute(
        "create table raw.patients (row_id integer, subject_id integer, gender varchar, dob timestamp, dod timestamp, "
        "dod_hosp timestamp, dod_ssn timestamp, expire_flag integer)"
    )
    con.execute(
        "create table raw.admissions (row_id integer, subject_id integer, hadm_id integer, admittime timestamp, "
        "dischtime timestamp, deathtime timestamp, admission_type varchar, admission_location varchar, "
        "discharge_location varchar, insurance varchar, language varchar, religion varchar, marital_status varchar, "
        "ethnicity varchar, edregtime timestamp, edouttime timestamp, diagnosis varchar, hospital_expire_flag integer, "
        "has_chartevents_data integer)"
    )
    con.execute(
        "create table raw.icustays (row_id integer, subject_id integer, hadm_id integer, icustay_id integer, "
        "dbsource varchar, first_careunit varchar, last_careunit varchar, first_wardid integer, last_wardid integer, "
        "intime timestamp, outtime timestamp, los double)"
    )
    con.execute("create table raw.diagnoses_icd (row_id integer, subject_id integer, hadm_id integer, seq_num integer, icd9_code varchar)")
    con.execute("create table raw.d_icd_diagnoses (row_id integer, icd9_code varchar, short_title varchar, long_title varchar)")
    con.execute(
        "create table raw.load_manifest (file varchar, table_name varchar, sha256 varchar, bytes bigint, rows bigint, "
        "loaded_at timestamp, source_form varchar)"
    )

    diagnosis_row = 1
    for subject in REAL_SUBJECTS:
        a = real_admission(subject)
        con.execute("insert into raw.patients values (?, ?, ?, ?, null, null, null, 0)", [subject, subject, a["gender"], a["dob"]])
        con.execute(
            "insert into raw.admissions values (?, ?, ?, ?, ?, null, 'EMERGENCY', 'EMERGENCY ROOM ADMIT', 'HOME', ?, "
            "'ENGL', 'CATHOLIC', 'MARRIED', ?, null, null, 'CHEST PAIN', 0, 1)",
            [subject, subject, a["hadm_id"], a["admittime"], a["dischtime"], a["insurance"], ETHNICITY[a["ethnicity_group"]]],
        )
        con.execute(
            "insert into raw.icustays values (?, ?, ?, ?, 'carevue', 'MICU', 'MICU', 12, 12, ?, ?, 1.5)",
            [subject, subject, a["hadm_id"], 7000 + subject, a["admittime"], a["dischtime"]],
        )
        seq = 1
        for code, subjects in REAL_CODES.items():
            if subject in subjects:
                con.execute(
                    "insert into raw.diagnoses_icd values (?, ?, ?, ?, ?)", [diagnosis_row, subject, a["hadm_id"], seq, code]
                )
                diagnosis_row += 1
                seq += 1

    for row_id, (code, (short, long)) in enumerate(DICTIONARY.items(), start=1):
        con.execute("insert into raw.d_icd_diagnoses values (?, ?, ?, ?)", [row_id, code, short, long])

    for table in ("patients", "admissions", "icustays", "diagnoses_icd", "d_icd_diagnoses"):
        con.execute(
            "insert into raw.load_manifest values (?, ?, ?, 100, 12, timestamp '2126-01-01 00:00:00', 'demo')",
            [f"/home/someone/mimic/{table.upper()}.csv", table, f"{table:0<64}"[:64]],
        )


def _create_mart(con: duckdb.DuckDBPyConnection, schema: str, admissions: list[dict]) -> None:
    con.execute(f"create schema if not exists {schema}")
    con.execute(
        f"create table {schema}.mm_admission_features (subject_id integer, hadm_id integer, age integer, gender varchar, "
        "ethnicity_group varchar, insurance varchar, los_hospital_days double, elix_chf integer, multimorbid integer)"
    )
    for a in admissions:
        con.execute(
            f"insert into {schema}.mm_admission_features values (?, ?, ?, ?, ?, ?, ?, 1, 1)",
            [a["subject_id"], a["hadm_id"], a["age"], a["gender"], a["ethnicity_group"], a["insurance"], a["los"]],
        )


def _create_ml_and_quality(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema ml")
    con.execute(
        "create table ml.splits (split_id varchar, subject_id integer, part varchar, holdout_fraction double, seed integer, "
        "created_at timestamp)"
    )
    for subject in REAL_SUBJECTS:
        part = "train" if subject in TRAIN_SUBJECTS else "holdout"
        con.execute("insert into ml.splits values (?, ?, ?, 0.25, 0, now())", [SPLIT, subject, part])

    con.execute(
        "create table ml.model_runs (run_id varchar, model varchar, params_json varchar, seed integer, source_table varchar, "
        "source_fingerprint varchar, split_id varchar, device varchar, started_at timestamp, wall_seconds double, "
        "final_losses_json varchar, artefact_path varchar, status varchar)"
    )
    con.execute(
        "insert into ml.model_runs values (?, 'diffusion', '{\"epochs\": 2, \"timesteps\": 50}', 0, "
        "'main.mm_admission_features', 'abc123', ?, 'cpu', now(), 1.5, '{\"loss\": 0.3}', '/home/someone/models/run_a', 'finished')",
        [RUN, SPLIT],
    )
    con.execute(
        "create table ml.generations (generation_id varchar, run_id varchar, seed integer, n_rows integer, "
        "request_json varchar, rebalance_spec_json varchar, mode varchar, created_at timestamp, code_fallbacks integer, "
        "status varchar)"
    )
    con.execute(
        "create table ml.rebalance_plans (generation_id varchar, group_label varchar, attributes_json varchar, "
        "real_count integer, real_share double, target_share double, synthetic_rows integer, achieved_share double, "
        "warning varchar)"
    )

    con.execute("create schema quality")
    con.execute(
        "create table quality.validation_results (validation_id varchar, suite varchar, table_name varchar, "
        "generation_id varchar, expectation varchar, column_name varchar, success boolean, observed_value varchar, "
        "run_time timestamp)"
    )
    con.execute(
        "create table quality.evaluation_metrics (generation_id varchar, area varchar, metric varchar, subgroup varchar, "
        "value double, ci_low double, ci_high double, n integer, too_small boolean, evaluated_at timestamp)"
    )


def add_generation(con: duckdb.DuckDBPyConnection, generation_id: str, copy_real: bool) -> None:
    """Add a generation with passing validation and privacy metrics.

    With copy_real the synthetic tables are the real training rows with new ids: values, dates
    and codes copied. Its stored metrics still pass, so only the SQL checks can catch it.
    """
    spec = (
        '{"by": ["ethnicity_group"], "target": "parity", "within": "multimorbid = 1", '
        '"reference_csv": "/home/someone/shares.csv"}'
    )
    n_rows = len(TRAIN_SUBJECTS) if copy_real else 6
    con.execute(
        "insert into ml.generations values (?, ?, 7, ?, '{\"rows\": 6}', ?, 'augment', now(), 0, 'decoded')",
        [generation_id, RUN, n_rows, spec],
    )
    con.execute(
        "insert into ml.rebalance_plans values (?, 'WHITE', '{\"ethnicity_group\": \"WHITE\"}', 8, 0.67, 0.5, 0, 0.5, null), "
        "(?, 'BLACK', '{\"ethnicity_group\": \"BLACK\"}', 1, 0.33, 0.5, 6, 0.5, 'few real rows')",
        [generation_id, generation_id],
    )

    schema = f"synthetic_{generation_id}"
    con.execute(f"create schema {schema}")
    for table in ("patients", "admissions", "icustays", "diagnoses_icd", "d_icd_diagnoses"):
        con.execute(f"create table {schema}.{table} as select * from raw.{table} limit 0")

    if copy_real:
        offset = 1_000_000
        train = ", ".join(map(str, TRAIN_SUBJECTS))
        con.execute(
            f"insert into {schema}.patients select row_id, subject_id + {offset}, gender, dob, dod, dod_hosp, dod_ssn, "
            f"expire_flag from raw.patients where subject_id in ({train})"
        )
        con.execute(
            f"insert into {schema}.admissions select * replace (subject_id + {offset} as subject_id, "
            f"hadm_id + {offset} as hadm_id) from raw.admissions where subject_id in ({train})"
        )
        con.execute(
            f"insert into {schema}.icustays select * replace (subject_id + {offset} as subject_id, "
            f"hadm_id + {offset} as hadm_id, icustay_id + {offset} as icustay_id) from raw.icustays where subject_id in ({train})"
        )
        con.execute(
            f"insert into {schema}.diagnoses_icd select * replace (subject_id + {offset} as subject_id, "
            f"hadm_id + {offset} as hadm_id) from raw.diagnoses_icd where subject_id in ({train}) and icd9_code <> '0389'"
        )
        admissions = []
        for subject in TRAIN_SUBJECTS:
            a = real_admission(subject)
            admissions.append({**a, "subject_id": subject + offset, "hadm_id": a["hadm_id"] + offset})
    else:
        admissions = [synthetic_admission(i) for i in range(n_rows)]
        for i, a in enumerate(admissions):
            con.execute(
                f"insert into {schema}.patients values (?, ?, ?, ?, null, null, null, 0)",
                [10_000_001 + i, a["subject_id"], a["gender"], a["dob"]],
            )
            con.execute(
                f"insert into {schema}.admissions values (?, ?, ?, ?, ?, null, 'EMERGENCY', 'EMERGENCY ROOM ADMIT', "
                "'HOME', ?, 'ENGL', null, 'SINGLE', ?, null, null, null, 0, 1)",
                [10_000_001 + i, a["subject_id"], a["hadm_id"], a["admittime"], a["dischtime"], a["insurance"], ETHNICITY[a["ethnicity_group"]]],
            )
            con.execute(
                f"insert into {schema}.icustays values (?, ?, ?, ?, 'metavision', 'CCU', 'CCU', 7, 7, ?, ?, 2.25)",
                [10_000_001 + i, a["subject_id"], a["hadm_id"], 3_000_001 + i, a["admittime"], a["dischtime"]],
            )
            codes = ["4280", "25000"] + (["V1582"] if i == 0 else [])
            for seq, code in enumerate(codes, start=1):
                con.execute(
                    f"insert into {schema}.diagnoses_icd values (?, ?, ?, ?, ?)",
                    [10_000_001 + i * 10 + seq, a["subject_id"], a["hadm_id"], seq, code],
                )
    con.execute(f"insert into {schema}.d_icd_diagnoses select * from raw.d_icd_diagnoses")
    _create_mart(con, schema, admissions)

    validation_id = f"val_{generation_id}"
    for table in ("patients", "admissions", "diagnoses_icd", "icustays", "mm_admission_features"):
        con.execute(
            "insert into quality.validation_results values (?, ?, ?, ?, 'expect_column_values_to_not_be_null', "
            "'subject_id', true, '0 unexpected', now())",
            [validation_id, f"synthetic.{table}", f"{schema}.{table}", generation_id],
        )

    for metric, value in PRIVACY_OK.items():
        con.execute(
            "insert into quality.evaluation_metrics values (?, 'privacy', ?, 'overall', ?, ?, ?, 6, false, now())",
            [generation_id, metric, value, value * 0.9, value * 1.1],
        )
    con.execute(
        "insert into quality.evaluation_metrics values "
        "(?, 'fidelity', 'mean_tvd', 'overall', 0.081, 0.06, 0.1, 6, false, now()), "
        "(?, 'utility', 'tstr_auroc', 'overall', 0.71, 0.65, 0.77, 6, false, now()), "
        "(?, 'fairness', 'tstr_auroc', 'ethnicity_group=BLACK', 0.66, 0.5, 0.8, 2, false, now()), "
        "(?, 'fairness', 'tstr_auroc', 'ethnicity_group=ASIAN', null, null, null, 0, true, now())",
        [generation_id] * 4,
    )


def build_warehouse(path: Path) -> Path:
    with duckdb.connect(str(path)) as con:
        _create_raw(con)
        _create_mart(con, "main", [real_admission(subject) for subject in REAL_SUBJECTS])
        _create_ml_and_quality(con)
        add_generation(con, GOOD, copy_real=False)
        add_generation(con, COPY, copy_real=True)
    return path


@pytest.fixture(scope="module")
def base_warehouse(tmp_path_factory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("release_base") / "wh.duckdb")


@pytest.fixture
def warehouse(base_warehouse, tmp_path) -> Path:
    """A private copy of the hand-made warehouse, so a test may change it."""
    path = tmp_path / "wh.duckdb"
    shutil.copy(base_warehouse, path)
    return path


@pytest.fixture
def out(tmp_path) -> Path:
    return tmp_path / "releases"


def leftovers(folder: Path) -> list[str]:
    """Names under the release folder, which must stay empty after a rejected or failed export."""
    return sorted(path.name for path in folder.iterdir()) if folder.exists() else []


@pytest.fixture
def settings() -> Settings:
    result = Settings()
    result.decode.min_patients_per_code = K
    result.export.creators = ["Doe, Jane", "Example Hospital Data Team"]
    result.export.publisher = "Example University Research Data Repository"
    return result


def run_sql(path: Path, *statements: str) -> None:
    with duckdb.connect(str(path)) as con:
        for statement in statements:
            con.execute(statement)


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


# --- a passing generation --------------------------------------------------------------------------

def test_export_writes_release_folder(warehouse, out, settings):
    report = export(warehouse, GOOD, out=out, version="1.0.0", settings=settings)

    assert report.name == "mimic3demo-mm-diffusion-parity-ethnicity-v1.0.0"
    assert report.path == out / report.name
    assert report.failed_gates == []
    names = sorted(path.name for path in report.path.iterdir())
    assert names == sorted([
        "ADMISSIONS.csv", "DIAGNOSES_ICD.csv", "D_ICD_DIAGNOSES.csv", "ICUSTAYS.csv", "PATIENTS.csv",
        "README.md", "SHA256SUMS", "datacite.json", "manifest.json",
    ])
    assert [path.name for path in out.iterdir() if path.name.startswith(".")] == []
    assert report.path.stat().st_mode & 0o777 == 0o755


def test_export_tables_in_mimic_layout(warehouse, out, settings):
    report = export(warehouse, GOOD, out=out, settings=settings)

    admissions = read_csv(report.path / "ADMISSIONS.csv")
    assert list(admissions[0])[:4] == ["ROW_ID", "SUBJECT_ID", "HADM_ID", "ADMITTIME"]
    assert len(admissions) == 6
    assert admissions[0]["ADMITTIME"] == "2171-10-01 10:00:00"
    assert admissions[0]["DEATHTIME"] == ""

    patients = read_csv(report.path / "PATIENTS.csv")
    assert list(patients[0]) == ["ROW_ID", "SUBJECT_ID", "GENDER", "DOB", "DOD", "DOD_HOSP", "DOD_SSN", "EXPIRE_FLAG"]

    dictionary = read_csv(report.path / "D_ICD_DIAGNOSES.csv")
    assert sorted(row["ICD9_CODE"] for row in dictionary) == ["25000", "4280", "V1582"]

    assert report.row_counts == {
        "PATIENTS.csv": 6, "ADMISSIONS.csv": 6, "DIAGNOSES_ICD.csv": 13, "ICUSTAYS.csv": 6, "D_ICD_DIAGNOSES.csv": 3,
    }


def test_export_contains_no_real_ids(warehouse, out, settings):
    report = export(warehouse, GOOD, out=out, settings=settings)

    real_ids = {str(subject) for subject in REAL_SUBJECTS} | {str(5000 + s - 100) for s in REAL_SUBJECTS}
    for name in ("PATIENTS.csv", "ADMISSIONS.csv", "DIAGNOSES_ICD.csv", "ICUSTAYS.csv"):
        for row in read_csv(report.path / name):
            assert row["SUBJECT_ID"] not in real_ids, name
            assert row.get("HADM_ID") not in real_ids, name


def test_export_manifest_describes_generation(warehouse, out, settings):
    report = export(warehouse, GOOD, out=out, settings=settings)
    manifest = json.loads((report.path / "manifest.json").read_text())

    assert manifest["generator"] == "diffusion"
    assert manifest["model_run"]["params"] == {"epochs": 2, "timesteps": 50}
    assert "artefact_path" not in manifest["model_run"]
    assert manifest["generation"]["seed"] == 7
    assert manifest["generation"]["rebalance_spec"]["target"] == "parity"
    assert manifest["generation"]["rebalance_spec"]["reference_csv"] == "shares.csv"
    assert manifest["source_data"]["dataset"] == "mimic3demo"
    assert len(manifest["source_data"]["fingerprint"]) == 64
    assert "/home/someone" not in json.dumps(manifest)
    assert manifest["tables"]["ADMISSIONS.csv"] == 6
    assert manifest["validation"]["passed"] is True
    assert manifest["forced"] is False
    assert manifest["waiver"] is None
    assert all(gate["passed"] for gate in manifest["gates"])
    git_available = shutil.which("git") is not None
    assert manifest["software"]["git_commit"] != "unknown" or not git_available


def test_export_suppresses_small_real_counts(warehouse, out, settings):
    report = export(warehouse, GOOD, out=out, settings=settings)
    manifest = json.loads((report.path / "manifest.json").read_text())

    plan = {row["group_label"]: row for row in manifest["rebalance_plan"]}
    assert plan["WHITE"]["real_count"] == 8
    assert plan["BLACK"]["real_count"] is None
    assert plan["BLACK"]["suppressed"] is True

    metrics = {(row["metric"], row["subgroup"]): row for row in manifest["evaluation"]["metrics"]}
    assert metrics[("tstr_auroc", "ethnicity_group=BLACK")]["n"] is None
    assert ("tstr_auroc", "ethnicity_group=ASIAN") not in metrics
    assert manifest["evaluation"]["omitted_too_small"] == 1


def test_export_datacite_record(warehouse, out, settings):
    report = export(warehouse, GOOD, out=out, settings=settings)
    record = json.loads((report.path / "datacite.json").read_text())

    assert record["types"]["resourceTypeGeneral"] == "Dataset"
    assert record["version"] == "1.0.0"
    assert record["publisher"] == "Example University Research Data Repository"
    assert record["creators"][0] == {"name": "Doe, Jane", "nameType": "Personal", "givenName": "Jane", "familyName": "Doe"}
    assert record["creators"][1]["nameType"] == "Organizational"
    assert record["titles"][0]["title"].startswith("Synthetic multimorbidity admissions")
    assert record["rightsList"][0]["rights"] == "ODbL-1.0"
    assert len(record["publicationYear"]) == 4
    derived = [item for item in record["relatedIdentifiers"] if item["relationType"] == "IsDerivedFrom"]
    assert "10.13026/C2XW26" in [item["relatedIdentifier"] for item in derived]
    assert {item["descriptionType"] for item in record["descriptions"]} == {"Abstract", "Methods"}


def test_placeholder_creator_warns(warehouse, out, caplog):
    placeholder = Settings()
    placeholder.decode.min_patients_per_code = K

    with caplog.at_level("WARNING", logger="equisynth.release.export"):
        export(warehouse, GOOD, out=out, settings=placeholder)

    assert any("placeholder creator" in record.getMessage() for record in caplog.records)


def test_named_creators_do_not_warn(warehouse, out, settings, caplog):
    with caplog.at_level("WARNING", logger="equisynth.release.export"):
        export(warehouse, GOOD, out=out, settings=settings)

    assert not any("placeholder creator" in record.getMessage() for record in caplog.records)


def test_export_datacard_content(warehouse, out, settings):
    report = export(warehouse, GOOD, out=out, settings=settings)
    card = (report.path / "README.md").read_text()

    assert card.startswith("# Synthetic multimorbidity admissions")
    assert "## Intended uses" in card
    assert "## Unsuitable uses" in card
    assert "## Known limits" in card
    assert "doi:10.13026/C2XW26" in card
    assert "Johnson AEW, Pollard TJ, Mark RG" in card
    assert "| mia_auc | overall | 0.520 | [0.468, 0.572] |" in card
    assert "| mean_tvd | overall | 0.081 | [0.060, 0.100] |" in card
    assert "exported despite failed checks" not in card


def test_export_index_and_table(warehouse, out, settings):
    report = export(warehouse, GOOD, out=out, settings=settings)

    rows = read_csv(out / "index.csv")
    assert [row["release_name"] for row in rows] == [report.name]
    assert rows[0]["generation_id"] == GOOD
    assert rows[0]["manifest_sha256"] == report.manifest_sha256
    assert rows[0]["path"] == report.name

    with duckdb.connect(str(warehouse), read_only=True) as con:
        stored = con.execute("select release_name, generation_id, version, manifest_sha256, path from ml.releases").fetchall()
    assert stored == [(report.name, GOOD, "1.0.0", report.manifest_sha256, str(report.path))]


def test_export_gzip_copies(warehouse, out, settings):
    import gzip

    report = export(warehouse, GOOD, out=out, gzip=True, settings=settings)

    compressed = gzip.decompress((report.path / "ADMISSIONS.csv.gz").read_bytes())
    assert compressed == (report.path / "ADMISSIONS.csv").read_bytes()
    assert verify(report.path).ok


def test_export_tables_are_reproducible(warehouse, tmp_path, settings):
    first = export(warehouse, GOOD, out=tmp_path / "a", version="1.0.0", settings=settings)
    run_sql(warehouse, "delete from ml.releases")
    second = export(warehouse, GOOD, out=tmp_path / "b", version="1.0.0", settings=settings)

    for name in first.row_counts:
        assert first.files[name] == second.files[name], name


# --- verify --------------------------------------------------------------------------------------

def test_verify_passes_untouched_release(warehouse, out, settings):
    report = export(warehouse, GOOD, out=out, settings=settings)
    result = verify(report.path)

    assert result.ok
    assert sorted(result.checked) == sorted(report.files)


def test_verify_matches_sha256sum(warehouse, out, settings):
    if shutil.which("sha256sum") is None:
        pytest.skip("sha256sum is not installed")
    report = export(warehouse, GOOD, out=out, settings=settings)

    completed = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=report.path, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_verify_detects_tampered_file(warehouse, out, settings):
    report = export(warehouse, GOOD, out=out, settings=settings)
    with open(report.path / "ADMISSIONS.csv", "a", encoding="utf-8") as handle:
        handle.write("99,1,2,2171-01-01 00:00:00\n")

    result = verify(report.path)
    assert not result.ok
    assert result.mismatched == ["ADMISSIONS.csv"]


def test_verify_detects_missing_and_extra_files(warehouse, out, settings):
    report = export(warehouse, GOOD, out=out, settings=settings)
    (report.path / "ICUSTAYS.csv").unlink()
    (report.path / "notes.txt").write_text("added later\n")

    result = verify(report.path)
    assert result.missing == ["ICUSTAYS.csv"]
    assert result.extra == ["notes.txt"]


def test_verify_flags_paths_outside_folder(warehouse, out, settings):
    report = export(warehouse, GOOD, out=out, settings=settings)
    with open(report.path / "SHA256SUMS", "a", encoding="utf-8") as handle:
        handle.write(f"{'0' * 64}  ../index.csv\n")

    result = verify(report.path)
    assert not result.ok
    assert result.malformed_lines == [len(report.files) + 1]


def test_verify_rejects_folder_without_sums(tmp_path):
    with pytest.raises(NotFoundError, match="SHA256SUMS"):
        verify(tmp_path)


# --- versions -------------------------------------------------------------------------------------

def test_same_version_rejected(warehouse, out, settings):
    export(warehouse, GOOD, out=out, version="1.0.0", settings=settings)

    with pytest.raises(EquisynthError, match="already exists"):
        export(warehouse, GOOD, out=out, version="1.0.0", settings=settings)


def test_recorded_version_rejected_after_removal(warehouse, out, settings):
    report = export(warehouse, GOOD, out=out, version="1.0.0", settings=settings)
    shutil.rmtree(report.path)

    with pytest.raises(EquisynthError, match="already recorded"):
        export(warehouse, GOOD, out=out, version="1.0.0", settings=settings)


def test_new_version_exports(warehouse, out, settings):
    export(warehouse, GOOD, out=out, version="1.0.0", settings=settings)
    second = export(warehouse, GOOD, out=out, version="1.1.0", settings=settings)

    assert second.name.endswith("-v1.1.0")
    assert [row["version"] for row in read_csv(out / "index.csv")] == ["1.0.0", "1.1.0"]


def test_invalid_version_rejected(warehouse, out, settings):
    with pytest.raises(ConfigError, match="MAJOR.MINOR.PATCH"):
        export(warehouse, GOOD, out=out, version="v1", settings=settings)


# --- gates ----------------------------------------------------------------------------------------

def test_copied_rows_rejected_for_privacy(warehouse, out, settings):
    with pytest.raises(ReleaseRejectedError) as raised:
        export(warehouse, COPY, out=out, settings=settings)

    message = str(raised.value)
    assert "exact_match_sql: Privacy" in message
    assert "real_timestamps: Privacy" in message
    assert "exact_match_metric" not in message
    assert leftovers(out) == []


def test_forced_export_records_waiver(warehouse, out, settings):
    waiver = "Teaching copy for an internal course; not for deposit."
    report = export(warehouse, COPY, out=out, force=True, waiver=waiver, settings=settings)

    manifest = json.loads((report.path / "manifest.json").read_text())
    assert manifest["forced"] is True
    assert manifest["waiver"] == waiver
    failed = {gate["name"] for gate in manifest["gates"] if not gate["passed"]}
    assert {"exact_match_sql", "real_timestamps"} <= failed
    card = (report.path / "README.md").read_text()
    assert "exported despite failed checks" in card
    assert waiver in card
    assert "2130-0" not in json.dumps(manifest)


def test_force_without_waiver_rejected(warehouse, out, settings):
    with pytest.raises(ConfigError, match="--waiver"):
        export(warehouse, COPY, out=out, force=True, settings=settings)


COPY_COLUMNS = (
    "age = r.age, gender = r.gender, ethnicity_group = r.ethnicity_group, insurance = r.insurance, "
    "los_hospital_days = r.los_hospital_days"
)

def test_waiver_without_force_rejected(warehouse, out, settings):
    with pytest.raises(ConfigError, match="--force"):
        export(warehouse, GOOD, out=out, waiver="no force given", settings=settings)


def test_forced_passing_export_keeps_waiver(warehouse, out, settings):
    report = export(warehouse, GOOD, out=out, force=True, waiver="Release before the review.", settings=settings)

    manifest = json.loads((report.path / "manifest.json").read_text())
    assert manifest["waiver"] == "Release before the review."
    assert report.failed_gates == []


GATE_CASES = {
    "validation failed": (
        [f"update quality.validation_results set success = false where generation_id = '{GOOD}' and suite = 'synthetic.admissions'"],
        "validation:",
    ),
    "validation never run": ([f"delete from quality.validation_results where generation_id = '{GOOD}'"], "never validated"),
    "evaluation never run": ([f"delete from quality.evaluation_metrics where generation_id = '{GOOD}'"], "evaluation has not been run"),
    "membership inference": (
        [f"update quality.evaluation_metrics set value = 0.75 where generation_id = '{GOOD}' and metric = 'mia_auc'"],
        "membership_inference",
    ),
    "distance to closest record": (
        [f"update quality.evaluation_metrics set value = 0.2 where generation_id = '{GOOD}' and metric = 'dcr_p5_synthetic'"],
        "dcr:",
    ),
    "stored exact matches": (
        [f"update quality.evaluation_metrics set value = 0.05 where generation_id = '{GOOD}' and metric = 'exact_match_rate_synthetic'"],
        "exact_match_metric",
    ),
    "rare code": (
        [f"update synthetic_{GOOD}.diagnoses_icd set icd9_code = '0389' where seq_num = 2 and subject_id = 1000001"],
        "rare_codes",
    ),
    "real subject id": ([f"update synthetic_{GOOD}.patients set subject_id = 105 where subject_id = 1000002"], "real_ids"),
    "real icustay id": ([f"update synthetic_{GOOD}.icustays set icustay_id = 7103 where icustay_id = 3000001"], "real_ids"),
    "real date of birth": (
        [f"update synthetic_{GOOD}.patients set dob = (select dob from raw.patients where subject_id = 104) where subject_id = 1000003"],
        "real_timestamps",
    ),
    "one copied mart row": (
        [
            f"update synthetic_{GOOD}.mm_admission_features s set {COPY_COLUMNS} "
            "from main.mm_admission_features r where r.subject_id = 102 and s.subject_id = 1000001"
        ],
        "exact_match_sql",
    ),
}


@pytest.mark.parametrize("case", list(GATE_CASES))
def test_gate_rejects(case, warehouse, out, settings):
    statements, expected = GATE_CASES[case]
    run_sql(warehouse, *statements)

    with pytest.raises(ReleaseRejectedError, match=expected):
        export(warehouse, GOOD, out=out, settings=settings)
    assert leftovers(out) == []


def test_holdout_base_rate_allows_matches(warehouse, out, settings):
    # A holdout row identical to a training row raises the base rate above the synthetic rate.
    run_sql(
        warehouse,
        "create temp table first_row as select * from main.mm_admission_features where subject_id = 101",
        f"update main.mm_admission_features s set {COPY_COLUMNS} from first_row r where s.subject_id = 110",
        f"update synthetic_{GOOD}.mm_admission_features s set {COPY_COLUMNS} from first_row r where s.subject_id = 1000001",
    )

    report = export(warehouse, GOOD, out=out, settings=settings)
    gate = next(gate for gate in report.gates if gate.name == "exact_match_sql")
    assert gate.passed
    assert gate.details["holdout_rate"] == pytest.approx(1 / 3)


def test_dictionary_only_code_allowed(warehouse, out, settings):
    report = export(warehouse, GOOD, out=out, settings=settings)

    gate = next(gate for gate in report.gates if gate.name == "rare_codes")
    assert gate.passed
    assert gate.details["dictionary_only_codes"] == 1


def test_unknown_generation_not_found(warehouse, out, settings):
    with pytest.raises(NotFoundError, match="gen_missing"):
        export(warehouse, "gen_missing", out=out, settings=settings)


def test_missing_synthetic_table_reported(warehouse, out, settings):
    run_sql(warehouse, f"drop table synthetic_{GOOD}.icustays")

    with pytest.raises(EquisynthError, match=f"synthetic_{GOOD}.icustays"):
        export(warehouse, GOOD, out=out, settings=settings)


# --- atomic writing -------------------------------------------------------------------------------

def test_failure_halfway_leaves_nothing(warehouse, out, settings, monkeypatch):
    export_module = importlib.import_module("equisynth.release.export")

    def broken_datacard(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(export_module, "render_datacard", broken_datacard)
    with pytest.raises(OSError, match="disk full"):
        export(warehouse, GOOD, out=out, settings=settings)

    assert leftovers(out) == []
    with duckdb.connect(str(warehouse), read_only=True) as con:
        releases = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'ml' and table_name = 'releases'"
        ).fetchone()[0]
    assert releases == 0


def test_failure_at_rename_keeps_index(warehouse, out, settings, monkeypatch):
    export_module = importlib.import_module("equisynth.release.export")

    export(warehouse, GOOD, out=out, version="1.0.0", settings=settings)
    index_before = (out / "index.csv").read_text()

    def broken_rename(staging, target):
        raise OSError("rename failed")

    monkeypatch.setattr(export_module, "_rename_into_place", broken_rename)
    with pytest.raises(OSError, match="rename failed"):
        export(warehouse, GOOD, out=out, version="2.0.0", settings=settings)

    assert leftovers(out) == ["index.csv", "mimic3demo-mm-diffusion-parity-ethnicity-v1.0.0"]
    assert (out / "index.csv").read_text() == index_before
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select version from ml.releases").fetchall() == [("1.0.0",)]


# --- names ----------------------------------------------------------------------------------------

def test_release_name_parts():
    tokens = rebalancing_tokens("augment", '{"by": ["ethnicity_group", "insurance"], "target": "parity"}')
    assert release_name("mimic3", "gan", tokens, "2.1.0") == "mimic3-mm-gan-parity-ethnicity-insurance-v2.1.0"
    assert rebalancing_tokens("rows", None) == ["norebalance"]
    assert rebalancing_tokens("augment", '{"by": ["age_band"], "target": "reference"}') == ["reference", "age"]


# --- command line ---------------------------------------------------------------------------------

def test_command_exports_and_verifies(warehouse, tmp_path):
    from typer.testing import CliRunner

    from equisynth.cli import app

    config = tmp_path / "equisynth.toml"
    config.write_text(f"[decode]\nmin_patients_per_code = {K}\n")
    out = tmp_path / "releases"
    runner = CliRunner()

    exported = runner.invoke(app, ["export", "--generation", GOOD, "--warehouse", str(warehouse), "--out", str(out), "--config", str(config)])
    assert exported.exit_code == 0, exported.output
    folder = out / "mimic3demo-mm-diffusion-parity-ethnicity-v1.0.0"

    verified = runner.invoke(app, ["export", "--verify", str(folder)])
    assert verified.exit_code == 0, verified.output

    (folder / "PATIENTS.csv").write_text("tampered\n")
    failed = runner.invoke(app, ["export", "--verify", str(folder)])
    assert failed.exit_code == 2
    assert "PATIENTS.csv" in failed.output


def test_command_rejects_copied_generation(warehouse, tmp_path):
    from typer.testing import CliRunner

    from equisynth.cli import app

    config = tmp_path / "equisynth.toml"
    config.write_text(f"[decode]\nmin_patients_per_code = {K}\n")
    result = CliRunner().invoke(
        app, ["export", "--generation", COPY, "--warehouse", str(warehouse), "--out", str(tmp_path / "r"), "--config", str(config)]
    )

    assert result.exit_code == 2
    assert "Privacy" in result.output


# --- loading a release back -------------------------------------------------------------------------

def test_release_loads_back(warehouse, out, tmp_path, settings):
    from equisynth.loader import load_raw

    report = export(warehouse, GOOD, out=out, settings=settings)
    loaded = load_raw(report.path, tmp_path / "reloaded.duckdb", progress=False)

    for layout_file, rows in report.row_counts.items():
        table = layout_file.removesuffix(".csv").lower()
        assert loaded.tables[table] == rows, table
    with duckdb.connect(str(tmp_path / "reloaded.duckdb"), read_only=True) as con:
        admittime = con.execute("select min(admittime) from raw.admissions").fetchone()[0]
    assert admittime.year == 2171


@pytest.mark.slow
def test_release_builds_with_dbt(warehouse, out, tmp_path, settings):
    from equisynth.dbt_runner import build
    from equisynth.loader import load_raw

    report = export(warehouse, GOOD, out=out, settings=settings)
    reloaded = tmp_path / "reloaded.duckdb"
    load_raw(report.path, reloaded, progress=False)
    build(reloaded)

    with duckdb.connect(str(reloaded), read_only=True) as con:
        rows = con.execute("select count(*), count(distinct subject_id) from main.mm_admission_features").fetchone()
    assert rows == (6, 6)


# --- dataset names from the loaded data -------------------------------------------------------------

def test_dataset_label_of_builtin_sample(tmp_path):
    from equisynth.loader import load_raw
    from equisynth.release.naming import dataset_label
    from equisynth.sample import write_sample

    write_sample(20, tmp_path / "sample", seed=0)
    load_raw(tmp_path / "sample", tmp_path / "wh.duckdb", progress=False)

    with duckdb.connect(str(tmp_path / "wh.duckdb"), read_only=True) as con:
        assert dataset_label(con) == "sample"


def test_dataset_label_of_demo(loaded_demo_warehouse):
    from equisynth.release.naming import dataset_label

    with duckdb.connect(str(loaded_demo_warehouse), read_only=True) as con:
        assert dataset_label(con) == "mimic3demo"


def test_dataset_label_of_full_release(warehouse):
    from equisynth.release.naming import dataset_label

    run_sql(warehouse, "update raw.load_manifest set source_form = 'full'")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert dataset_label(con) == "mimic3"


# --- end to end on the MIMIC-III demo ---------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_generation(tmp_path_factory, built_demo_warehouse) -> tuple[Path, str]:
    """A demo warehouse with one generation trained, decoded, built, validated and evaluated for real."""
    from equisynth.decoder import decode
    from equisynth.dbt_runner import build
    from equisynth.evaluation import evaluate
    from equisynth.generation import generate_rows
    from equisynth.splits import ensure_split
    from equisynth.training import train
    from equisynth.validation import validate
    from equisynth.warehouse import connect

    path = tmp_path_factory.mktemp("release_demo") / "wh.duckdb"
    shutil.copy(built_demo_warehouse, path)
    settings = Settings()
    with connect(path) as con:
        ensure_split(con, settings.split.holdout_fraction, settings.split.seed)

    run_id = train(path, model="diffusion", epochs=2, settings=settings)
    generation_id = generate_rows(path, run_id, rows=60, seed=0)
    decode(path, generation_id, k=settings.decode.min_patients_per_code)
    build(path, generation=generation_id)
    validate(path, generation=generation_id, progress=False)
    evaluate(path, generation_id, report=False)
    return path, generation_id


@pytest.mark.slow
def test_demo_release_verifies_and_loads_back(demo_generation, tmp_path):
    from equisynth.dbt_runner import build
    from equisynth.loader import load_raw

    shared_warehouse, generation_id = demo_generation
    warehouse = tmp_path / "wh.duckdb"
    shutil.copy(shared_warehouse, warehouse)
    waiver = "Two-epoch model for a test; not for deposit."
    report = export(warehouse, generation_id, out=tmp_path / "releases", force=True, waiver=waiver, settings=Settings())

    passed = {gate.name for gate in report.gates if gate.passed}
    assert {"evaluation", "real_ids", "real_timestamps", "exact_match_sql"} <= passed
    assert report.name == "mimic3demo-mm-diffusion-norebalance-v1.0.0"
    assert verify(report.path).ok
    assert json.loads((report.path / "manifest.json").read_text())["waiver"] == waiver

    reloaded = tmp_path / "reloaded.duckdb"
    loaded = load_raw(report.path, reloaded, progress=False)
    for file_name, rows in report.row_counts.items():
        assert loaded.tables[file_name.removesuffix(".csv").lower()] == rows, file_name
    build(reloaded)
    with duckdb.connect(str(reloaded), read_only=True) as con:
        admissions = con.execute("select count(*) from main.mm_admission_features").fetchone()[0]
    assert admissions == report.row_counts["ADMISSIONS.csv"]


@pytest.mark.slow
def test_demo_copied_rows_rejected(demo_generation, tmp_path):
    warehouse, generation_id = demo_generation
    copy_path = tmp_path / "wh.duckdb"
    shutil.copy(warehouse, copy_path)
    copied = "gen_demo_copy"
    schema = f"synthetic_{copied}"
    offset = 10_000_000
    train = f"select subject_id from ml.splits s join ml.model_runs r using (split_id) join ml.generations g using (run_id) where g.generation_id = '{generation_id}' and s.part = 'train'"

    # Real training rows with ids moved out of the real range; values, dates and codes copied.
    run_sql(
        copy_path,
        f"create schema {schema}",
        f"create table {schema}.patients as select * replace (subject_id + {offset} as subject_id) from raw.patients where subject_id in ({train})",
        f"create table {schema}.admissions as select * replace (subject_id + {offset} as subject_id, hadm_id + {offset} as hadm_id) from raw.admissions where subject_id in ({train})",
        f"create table {schema}.icustays as select * replace (subject_id + {offset} as subject_id, hadm_id + {offset} as hadm_id, icustay_id + {offset} as icustay_id) from raw.icustays where subject_id in ({train})",
        f"create table {schema}.diagnoses_icd as select * replace (subject_id + {offset} as subject_id, hadm_id + {offset} as hadm_id) from raw.diagnoses_icd where subject_id in ({train})",
        f"create table {schema}.d_icd_diagnoses as select * from raw.d_icd_diagnoses",
        f"create table {schema}.mm_admission_features as select * replace (subject_id + {offset} as subject_id, hadm_id + {offset} as hadm_id) from main.mm_admission_features where subject_id in ({train})",
        f"insert into ml.generations select * replace ('{copied}' as generation_id) from ml.generations where generation_id = '{generation_id}'",
        f"insert into quality.validation_results select * replace ('{copied}' as generation_id) from quality.validation_results where generation_id = '{generation_id}'",
        f"update quality.validation_results set success = true where generation_id = '{copied}'",
        f"insert into quality.evaluation_metrics select * replace ('{copied}' as generation_id) from quality.evaluation_metrics where generation_id = '{generation_id}'",
    )

    with pytest.raises(ReleaseRejectedError) as raised:
        export(copy_path, copied, out=tmp_path / "releases", settings=Settings())
    message = str(raised.value)
    assert "exact_match_sql: Privacy" in message
    assert "real_timestamps: Privacy" in message
    assert "validation:" not in message
    assert leftovers(tmp_path / "releases") == []
