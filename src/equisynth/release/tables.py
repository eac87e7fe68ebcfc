"""The released tables: MIMIC-III v1.4 file names and column layout, written from the warehouse.

A release holds the decoded synthetic tables in the layout of the MIMIC-III Clinical Database
v1.4 (upper-case file names and headers, columns in the published order, timestamps as
`YYYY-MM-DD HH:MM:SS`), so that code written for MIMIC-III reads them unchanged.
"""

import gzip
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from equisynth.errors import InputDataError
from equisynth.warehouse import table_exists

log = logging.getLogger(__name__)

TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class TableLayout:
    """One MIMIC-III v1.4 table: the warehouse name, the CSV name and its columns in order."""

    table: str
    columns: tuple[str, ...]
    timestamp_columns: tuple[str, ...] = ()

    @property
    def file_name(self) -> str:
        return f"{self.table.upper()}.csv"


# Column order of the MIMIC-III v1.4 CSVs (https://mimic.mit.edu/docs/iii/tables/).
PATIENTS = TableLayout(
    "patients",
    ("row_id", "subject_id", "gender", "dob", "dod", "dod_hosp", "dod_ssn", "expire_flag"),
    ("dob", "dod", "dod_hosp", "dod_ssn"),
)
ADMISSIONS = TableLayout(
    "admissions",
    (
        "row_id", "subject_id", "hadm_id", "admittime", "dischtime", "deathtime", "admission_type",
        "admission_location", "discharge_location", "insurance", "language", "religion",
        "marital_status", "ethnicity", "edregtime", "edouttime", "diagnosis",
        "hospital_expire_flag", "has_chartevents_data",
    ),
    ("admittime", "dischtime", "deathtime", "edregtime", "edouttime"),
)
ICUSTAYS = TableLayout(
    "icustays",
    (
        "row_id", "subject_id", "hadm_id", "icustay_id", "dbsource", "first_careunit",
        "last_careunit", "first_wardid", "last_wardid", "intime", "outtime", "los",
    ),
    ("intime", "outtime"),
)
DIAGNOSES_ICD = TableLayout("diagnoses_icd", ("row_id", "subject_id", "hadm_id", "seq_num", "icd9_code"))
D_ICD_DIAGNOSES = TableLayout("d_icd_diagnoses", ("row_id", "icd9_code", "short_title", "long_title"))

# Tables that hold synthetic patients. D_ICD_DIAGNOSES is released too, limited to the codes
# that DIAGNOSES_ICD uses: it is the public ICD-9-CM dictionary, not patient data, and the
# loader and the dbt models need it to read the release like MIMIC-III.
PATIENT_TABLES = (PATIENTS, ADMISSIONS, DIAGNOSES_ICD, ICUSTAYS)
RELEASE_TABLES = (*PATIENT_TABLES, D_ICD_DIAGNOSES)

ID_COLUMNS = ("subject_id", "hadm_id", "icustay_id")


def synthetic_schema(generation_id: str) -> str:
    return f"synthetic_{generation_id}"


def check_synthetic_tables(con: duckdb.DuckDBPyConnection, generation_id: str) -> None:
    """Raise InputDataError unless every released table exists with every MIMIC-III column."""
    schema = synthetic_schema(generation_id)
    for layout in RELEASE_TABLES:
        if not table_exists(con, schema, layout.table):
            raise InputDataError(
                f"Table {schema}.{layout.table} is not in the warehouse. "
                f"Run `equisynth decode --generation {generation_id}` first."
            )
        present = {
            row[0]
            for row in con.execute(
                "select column_name from information_schema.columns where table_schema = ? and table_name = ?",
                [schema, layout.table],
            ).fetchall()
        }
        missing = [column for column in layout.columns if column not in present]
        if missing:
            raise InputDataError(
                f"Table {schema}.{layout.table} lacks the MIMIC-III column(s) {', '.join(missing)}. "
                f"Decode generation {generation_id} again with this version of equisynth."
            )


def _select_sql(layout: TableLayout, generation_id: str) -> str:
    """Return a query that reads one synthetic table in MIMIC-III column order and a total row order."""
    schema = synthetic_schema(generation_id)
    select_list = ", ".join(f'"{column}" as "{column.upper()}"' for column in layout.columns)
    order = ", ".join(f'"{column}"' for column in layout.columns)
    source = f'"{schema}"."{layout.table}"'

    if layout is D_ICD_DIAGNOSES:
        # Only the dictionary rows of codes that the synthetic diagnoses use.
        used = f'select distinct icd9_code from "{schema}"."{DIAGNOSES_ICD.table}"'
        return f"select {select_list} from {source} where icd9_code in ({used}) order by {order}"
    return f"select {select_list} from {source} order by {order}"


def write_table_csv(
    con: duckdb.DuckDBPyConnection, layout: TableLayout, generation_id: str, folder: Path, also_gzip: bool
) -> tuple[int, list[str]]:
    """Write one table as `<TABLE>.csv` (and `.csv.gz`); return its row count and the file names written."""
    target = folder / layout.file_name
    query = _select_sql(layout, generation_id)
    quoted_target = str(target).replace("'", "''")
    con.execute(
        f"copy ({query}) to '{quoted_target}' (format csv, header true, delimiter ',', "
        f"timestampformat '{TIMESTAMP_FORMAT}')"
    )
    rows = con.execute(f"select count(*) from ({query})").fetchone()[0]
    written = [target.name]

    if also_gzip:
        gz_target = target.with_name(target.name + ".gz")
        # mtime=0 and no stored name keep the archive byte-identical across runs.
        with open(target, "rb") as source, open(gz_target, "wb") as raw_out:
            with gzip.GzipFile(filename="", mode="wb", fileobj=raw_out, mtime=0) as gz_out:
                shutil.copyfileobj(source, gz_out)
        written.append(gz_target.name)

    log.info("Wrote %s (%d rows)", target.name, rows)
    return rows, written
