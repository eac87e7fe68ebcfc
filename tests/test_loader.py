"""Loading MIMIC-III into the warehouse: the demo, the full-release form, every rejected input."""

import gzip
import hashlib
import shutil
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from equisynth.errors import InputDataError, NotFoundError
from equisynth.loader import REQUIRED_TABLES, STANDARD_TABLES, TABLES, load_raw
from equisynth.loader.load import STAGING_PREFIX

FIXTURES = Path(__file__).parent / "fixtures" / "loader"
FULL_FIXTURES = FIXTURES / "full"
ERROR_FIXTURES = FIXTURES / "errors"


# ---------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def full_release_dir(tmp_path: Path) -> Path:
    """Write the full-release fixtures as the release ships them: NAME.csv.gz."""
    raw = tmp_path / "raw"
    raw.mkdir()
    for source in sorted(FULL_FIXTURES.glob("*.csv")):
        (raw / f"{source.name}.gz").write_bytes(gzip_bytes(source.read_bytes()))
    return raw


def remove_table_files(raw: Path, table: str) -> None:
    for path in raw.iterdir():
        if path.name.upper() in (f"{table}.CSV", f"{table}.CSV.GZ"):
            path.unlink()


def put_file(raw: Path, name: str, data: bytes) -> None:
    """Replace the table's file (in any form) by `name` with `data`."""
    remove_table_files(raw, name.split(".")[0].upper())
    (raw / name).write_bytes(data)


def warehouse_state(path: Path) -> dict:
    """Every table in the warehouse with its rows, so a failed load can be shown to change nothing."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables order by all"
        ).fetchall()
        state = {}
        for schema, table in tables:
            state[f"{schema}.{table}"] = con.execute(f'select * from "{schema}"."{table}" order by all').fetchall()
        return state
    finally:
        con.close()


def query(path: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def big_diagnoses_csv(rows: int, bad_row: int | None = None) -> bytes:
    """Invented DIAGNOSES_ICD rows; row `bad_row` (1-based) gets a non-numeric hadm_id."""
    lines = ["row_id,subject_id,hadm_id,seq_num,icd9_code"]
    for number in range(1, rows + 1):
        hadm_id = "not-a-number" if number == bad_row else str(180000 + number % 4)
        lines.append(f"{number},{90001 + number % 3},{hadm_id},{number % 9 + 1},{4280 + number % 50:04d}")
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture()
def full_raw(tmp_path) -> Path:
    return full_release_dir(tmp_path)


@pytest.fixture()
def loaded_full(tmp_path, full_raw) -> Path:
    """A warehouse with the full-release fixtures loaded, to check that failed loads leave it unchanged."""
    warehouse = tmp_path / "wh.duckdb"
    load_raw(full_raw, warehouse, progress=False)
    return warehouse


# ---------------------------------------------------------------------------
# The MIMIC-III demo
# ---------------------------------------------------------------------------


def test_demo_row_counts(loaded_demo_warehouse):
    expected = {"admissions": 129, "patients": 100, "diagnoses_icd": 1761, "d_icd_diagnoses": 14567, "icustays": 136}
    for table, rows in expected.items():
        assert query(loaded_demo_warehouse, f"select count(*) from raw.{table}")[0][0] == rows, table


def test_demo_icd9_codes_stay_text(loaded_demo_warehouse):
    types = dict(query(
        loaded_demo_warehouse,
        "select table_name, data_type from information_schema.columns "
        "where table_schema = 'raw' and column_name = 'icd9_code'",
    ))
    assert types == {"diagnoses_icd": "VARCHAR", "d_icd_diagnoses": "VARCHAR", "procedures_icd": "VARCHAR", "d_icd_procedures": "VARCHAR"}
    assert query(loaded_demo_warehouse, "select count(*) from raw.d_icd_diagnoses where icd9_code = '0389'")[0][0] == 1
    assert query(loaded_demo_warehouse, "select count(*) from raw.diagnoses_icd where icd9_code like '0%'")[0][0] > 0


def test_demo_column_types(loaded_demo_warehouse):
    types = dict(query(
        loaded_demo_warehouse,
        "select table_name || '.' || column_name, data_type from information_schema.columns where table_schema = 'raw'",
    ))
    assert types["admissions.hadm_id"] == "INTEGER"
    assert types["admissions.admittime"] == "TIMESTAMP"
    assert types["admissions.hospital_expire_flag"] == "INTEGER"
    assert types["icustays.los"] == "DOUBLE"
    assert types["patients.dob"] == "TIMESTAMP"


def test_demo_manifest_matches_files(loaded_demo_warehouse, demo_dir):
    published = {}
    for line in (demo_dir / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        published[name.strip()] = digest

    manifest = query(loaded_demo_warehouse, "select file, table_name, sha256, bytes, rows, source_form from raw.load_manifest")
    assert len(manifest) == len(list(demo_dir.glob("*.csv")))
    for file, table_name, sha256, size, rows, source_form in manifest:
        path = Path(file)
        assert path.parent == demo_dir.resolve()
        assert sha256 == published[path.name]
        assert size == path.stat().st_size
        assert rows == query(loaded_demo_warehouse, f"select count(*) from raw.{table_name}")[0][0]
        assert source_form == "demo"


def test_demo_lacks_labevents_and_chartevents(loaded_demo_warehouse):
    tables = {row[0] for row in query(loaded_demo_warehouse, "select table_name from information_schema.tables where table_schema = 'raw'")}
    assert "labevents" not in tables
    assert "chartevents" not in tables
    assert {TABLES[name].table_name for name in REQUIRED_TABLES + STANDARD_TABLES} <= tables


# ---------------------------------------------------------------------------
# The full-release form: upper-case headers, gzip, quoted strings, CRLF
# ---------------------------------------------------------------------------


def test_full_fixtures_have_crlf_and_upper_case():
    for path in FULL_FIXTURES.glob("*.csv"):
        data = path.read_bytes()
        assert b"\r\n" in data, path.name
        assert data.split(b"\r\n")[0] == data.split(b"\r\n")[0].upper(), path.name


def test_full_form_loads(tmp_path, full_raw):
    warehouse = tmp_path / "wh.duckdb"
    report = load_raw(full_raw, warehouse, progress=False)

    assert report.source_form == "full"
    assert report.tables["patients"] == 3
    assert report.tables["admissions"] == 4
    assert report.tables["diagnoses_icd"] == 8
    assert report.tables["d_icd_diagnoses"] == 6
    assert report.tables["icustays"] == 3
    assert report.tables["procedures_icd"] == 2
    assert report.tables["labevents"] == 3


def test_full_form_keeps_values(loaded_full):
    diagnoses = dict(query(loaded_full, "select row_id, icd9_code from raw.diagnoses_icd"))
    assert diagnoses[103] == "0389"
    assert diagnoses[104] == "V4581"
    assert diagnoses[106] == "E8790"
    assert diagnoses[108] is None
    assert query(loaded_full, "select icd9_code from raw.procedures_icd where row_id = 402")[0][0] == "0040"

    diagnosis_text = dict(query(loaded_full, "select hadm_id, diagnosis from raw.admissions"))
    assert diagnosis_text[180001] == "CHEST PAIN, RULE OUT MYOCARDIAL INFARCTION"
    assert diagnosis_text[180004] == '"AORTIC STENOSIS" / VALVE REPLACEMENT'

    # The last column of a CRLF file must not keep the carriage return.
    titles = [row[0] for row in query(loaded_full, "select long_title from raw.d_icd_diagnoses")]
    assert all("\r" not in title for title in titles)
    assert '"Aortocoronary bypass" status' in titles

    los = dict(query(loaded_full, "select icustay_id, los from raw.icustays"))
    assert los[270003] == pytest.approx(13.7576)
    admittime = query(loaded_full, "select admittime from raw.admissions where hadm_id = 180001")[0][0]
    assert admittime.isoformat() == "2150-03-01T08:15:00"


def test_missing_standard_tables_created_empty(tmp_path, full_raw):
    warehouse = tmp_path / "wh.duckdb"
    report = load_raw(full_raw, warehouse, progress=False)

    assert sorted(report.empty_tables) == ["d_icd_procedures", "prescriptions", "services", "transfers"]
    for table in report.empty_tables:
        assert query(warehouse, f"select count(*) from raw.{table}")[0][0] == 0
        columns = [row[0] for row in query(
            warehouse,
            "select column_name from information_schema.columns where table_schema = 'raw' and table_name = ? order by ordinal_position",
            [table],
        )]
        assert columns == TABLES[table.upper()].column_names

    empty_rows = query(warehouse, "select table_name, file, sha256, bytes, rows from raw.load_manifest where file is null order by table_name")
    assert empty_rows == [(table, None, None, None, 0) for table in sorted(report.empty_tables)]


def test_manifest_of_full_form(loaded_full, full_raw):
    manifest = query(loaded_full, "select file, table_name, sha256, bytes, rows, source_form from raw.load_manifest where file is not null")
    assert len(manifest) == 7
    for file, table_name, sha256, size, rows, source_form in manifest:
        path = Path(file)
        assert path.parent == full_raw.resolve()
        assert path.name == f"{table_name.upper()}.csv.gz"
        assert sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
        assert size == path.stat().st_size
        assert rows == query(loaded_full, f"select count(*) from raw.{table_name}")[0][0]
        assert source_form == "full"
    assert len({row[0] for row in query(loaded_full, "select loaded_at from raw.load_manifest")}) == 1


def test_lower_case_file_names_load(tmp_path, full_raw):
    for path in list(full_raw.iterdir()):
        path.rename(path.with_name(path.name.lower()))
    report = load_raw(full_raw, tmp_path / "wh.duckdb", progress=False)
    assert report.tables["admissions"] == 4


def test_progress_display_loads_same_rows(tmp_path, full_raw):
    report = load_raw(full_raw, tmp_path / "wh.duckdb", progress=True)
    assert report.tables["admissions"] == 4
    assert report.tables["diagnoses_icd"] == 8


def test_plain_upper_case_csv_is_full_form(tmp_path):
    raw = tmp_path / "raw"
    shutil.copytree(FULL_FIXTURES, raw)
    report = load_raw(raw, tmp_path / "wh.duckdb", progress=False)
    assert report.source_form == "full"
    assert report.tables["diagnoses_icd"] == 8


# ---------------------------------------------------------------------------
# Reloading and target schema
# ---------------------------------------------------------------------------


def test_reload_is_idempotent(loaded_full, full_raw):
    before = warehouse_state(loaded_full)
    load_raw(full_raw, loaded_full, progress=False)
    after = warehouse_state(loaded_full)

    assert before.keys() == after.keys()
    for table in before:
        if table == "raw.load_manifest":
            # Same files, same hashes and rows; only loaded_at moves on.
            assert [row[:5] + row[6:] for row in before[table]] == [row[:5] + row[6:] for row in after[table]]
        else:
            assert before[table] == after[table], table


def test_reload_drops_table_whose_file_is_gone(loaded_full, full_raw):
    (full_raw / "LABEVENTS.csv.gz").unlink()
    report = load_raw(full_raw, loaded_full, progress=False)
    assert "labevents" not in report.tables
    assert "raw.labevents" not in warehouse_state(loaded_full)


def test_schema_keyword_loads_elsewhere(loaded_full, full_raw):
    before_raw = {k: v for k, v in warehouse_state(loaded_full).items() if k.startswith("raw.")}
    report = load_raw(full_raw, loaded_full, progress=False, schema="synthetic_g001")

    state = warehouse_state(loaded_full)
    assert report.schema == "synthetic_g001"
    assert len(state["synthetic_g001.admissions"]) == 4
    assert {k: v for k, v in state.items() if k.startswith("raw.")} == before_raw


# ---------------------------------------------------------------------------
# Rejected input: the message names file, column and value; the warehouse is unchanged
# ---------------------------------------------------------------------------


def _gzip_named_csv(raw: Path) -> None:
    put_file(raw, "ADMISSIONS.csv", gzip_bytes((FULL_FIXTURES / "ADMISSIONS.csv").read_bytes()))


def _binary_file(raw: Path) -> None:
    put_file(raw, "PATIENTS.csv", b"ROW_ID,SUBJECT_ID\r\n\x00\x01\x02\x03\xff\xfe" * 20)


def _excel_workbook(raw: Path) -> None:
    put_file(raw, "ADMISSIONS.csv", b"PK\x03\x04\x14\x00\x06\x00" + b"[Content_Types].xml" * 10)


def _bad_value_after_sample(raw: Path) -> None:
    put_file(raw, "DIAGNOSES_ICD.csv", big_diagnoses_csv(2600, bad_row=2500))


def _truncated_gzip(raw: Path) -> None:
    data = gzip_bytes(big_diagnoses_csv(60000))
    put_file(raw, "DIAGNOSES_ICD.csv.gz", data[: len(data) // 2])


def _checksum_mismatch(raw: Path) -> None:
    (raw / "SHA256SUMS").write_text(f"{'0' * 64}  PATIENTS.csv.gz\n")


def _two_files_for_one_table(raw: Path) -> None:
    shutil.copy(FULL_FIXTURES / "ADMISSIONS.csv", raw / "ADMISSIONS.csv")


def _missing_required_table(raw: Path) -> None:
    remove_table_files(raw, "ICUSTAYS")


def _error_fixture(case: str):
    def apply(raw: Path) -> None:
        for source in (ERROR_FIXTURES / case).iterdir():
            put_file(raw, source.name, source.read_bytes())
    return apply


REJECTED = {
    "missing_required_table": (_missing_required_table, ["Required table ICUSTAYS is missing", "ICUSTAYS.csv.gz", "--raw"]),
    "missing_column": (_error_fixture("missing_column"), ["PATIENTS.csv has no column dob", "Its header row is: row_id, subject_id, gender, dod"]),
    "spreadsheet_dates": (_error_fixture("spreadsheet_dates"), ["ADMISSIONS.csv, column admittime, data row 1", "'3/1/50 8:15'", "century", "PhysioNet"]),
    "semicolon": (_error_fixture("semicolon"), ["DIAGNOSES_ICD.csv is not comma-separated", "';'", "export the file again"]),
    "html_as_gzip": (_error_fixture("html_as_gzip"), ["ICUSTAYS.csv.gz is named .gz but is not gzip-compressed", "HTML", "Download the file again"]),
    "unquoted_comma": (_error_fixture("unquoted_comma"), ["D_ICD_DIAGNOSES.csv, line 3", "5 fields where the header has 4", "'202,4280,CHF NOS,Congestive heart failure, unspecified'"]),
    "bad_integer": (_error_fixture("bad_integer"), ["DIAGNOSES_ICD.csv, column hadm_id, data row 2", "'18O001' is not a valid INTEGER"]),
    "gzip_named_csv": (_gzip_named_csv, ["ADMISSIONS.csv is gzip-compressed", "Rename it to ADMISSIONS.csv.gz"]),
    "excel_workbook": (_excel_workbook, ["ADMISSIONS.csv is not a CSV file", "Excel .xlsx workbook"]),
    "binary": (_binary_file, ["PATIENTS.csv is not a CSV file", "binary data"]),
    "bad_value_after_sample": (_bad_value_after_sample, ["DIAGNOSES_ICD.csv, column hadm_id, line 2501", "'not-a-number' is not a valid INTEGER"]),
    "truncated_gzip": (_truncated_gzip, ["DIAGNOSES_ICD.csv.gz", "truncated", "download it again"]),
    "checksum_mismatch": (_checksum_mismatch, ["PATIENTS.csv.gz has SHA-256", "SHA256SUMS", "Download it again"]),
    "two_files": (_two_files_for_one_table, ["Table ADMISSIONS has two files", "ADMISSIONS.csv", "ADMISSIONS.csv.gz", "Keep one"]),
}


@pytest.mark.parametrize("case", sorted(REJECTED))
def test_rejected_input_changes_nothing(case, loaded_full, full_raw):
    break_input, expected_parts = REJECTED[case]
    before = warehouse_state(loaded_full)
    break_input(full_raw)

    with pytest.raises(InputDataError) as caught:
        load_raw(full_raw, loaded_full, progress=False)

    message = str(caught.value)
    for part in expected_parts:
        assert part in message, f"{part!r} not in {message!r}"
    after = warehouse_state(loaded_full)
    assert after == before
    assert not any(STAGING_PREFIX in table for table in after)


def test_failed_first_load_leaves_no_schema(tmp_path, full_raw):
    _bad_value_after_sample(full_raw)
    warehouse = tmp_path / "wh.duckdb"
    with pytest.raises(InputDataError):
        load_raw(full_raw, warehouse, progress=False)
    assert query(warehouse, "select count(*) from information_schema.schemata where schema_name = 'raw'")[0][0] == 0


def test_nested_release_folder_is_named(tmp_path, full_raw):
    with pytest.raises(InputDataError, match="its subfolder raw contains them. Pass --raw"):
        load_raw(tmp_path, tmp_path / "wh.duckdb", progress=False)


def test_missing_folder_is_not_found(tmp_path):
    with pytest.raises(NotFoundError, match="not found"):
        load_raw(tmp_path / "nowhere", tmp_path / "wh.duckdb", progress=False)


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def test_cli_load_prints_summary(tmp_path, full_raw):
    from equisynth.cli import app

    result = CliRunner().invoke(app, ["load", "--raw", str(full_raw), "--warehouse", str(tmp_path / "wh.duckdb"), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "admissions" in result.output
    assert "ADMISSIONS.csv.gz" in result.output
    assert "missing: created empty" in result.output


def test_cli_load_error_exits_2(tmp_path, full_raw):
    from equisynth.cli import app

    _missing_required_table(full_raw)
    result = CliRunner().invoke(app, ["load", "--raw", str(full_raw), "--warehouse", str(tmp_path / "wh.duckdb"), "--no-progress"])
    assert result.exit_code == 2
    assert "Required table ICUSTAYS is missing" in result.output
    assert "Traceback" not in result.output
