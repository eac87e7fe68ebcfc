"""Load the MIMIC-III CSV files of one folder into a schema of the DuckDB warehouse, all or nothing."""

import logging
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from equisynth.errors import ConfigError, InputDataError
from equisynth.loader.checks import check_sample_values, inspect_file, read_error
from equisynth.loader.discovery import SAMPLE_MARKER, RawFile, find_table_files
from equisynth.loader.manifest import (
    MANIFEST_COLUMNS,
    MANIFEST_TABLE,
    ManifestRow,
    PublishedChecksums,
    insert_manifest_sql,
    manifest_values,
    published_checksums,
    sha256_of,
    verify_checksum,
)
from equisynth.loader.progress import NoProgress, RichProgress, TableProgress, execute_with_progress
from equisynth.loader.reader import FileLayout, select_table_sql
from equisynth.loader.tables import REQUIRED_TABLES, STANDARD_TABLES, TABLES, TableSpec
from equisynth.paths import warehouse_path
from equisynth.warehouse import connect

log = logging.getLogger(__name__)

# DuckDB 2.0 can neither move a table to another schema nor rename a schema. So the staging
# tables live in the target schema under this prefix, and the final swap renames them. A rename
# only changes the catalog, so even the 330-million-row CHARTEVENTS is never copied twice.
STAGING_PREFIX = "_loading_"
_SCHEMA_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass
class LoadReport:
    warehouse: Path
    schema: str
    tables: dict[str, int]  # warehouse table name -> rows, for every table written
    source_form: str  # 'demo', 'full', or 'mixed' when the files come in both forms
    files: dict[str, Path | None] = field(default_factory=dict)  # table -> file; None when created empty
    empty_tables: list[str] = field(default_factory=list)  # standard tables created empty: no file
    manifest: list[ManifestRow] = field(default_factory=list)


def load_raw(
    raw_dir: Path | str,
    warehouse: Path | str | None = None,
    progress: bool = True,
    schema: str = "raw",
) -> LoadReport:
    """Load every MIMIC-III v1.4 table found in `raw_dir` into `<schema>` of the warehouse.

    Files are checked first (format, header, sample values), then read by DuckDB into staging
    tables, then swapped into `<schema>` in one transaction with `<schema>.load_manifest`. On
    any error the staging tables are dropped and `<schema>` keeps its previous tables.
    """
    if not _SCHEMA_NAME.match(schema):
        raise ConfigError(
            f"Schema name {schema!r} is invalid: use lower-case letters, digits and underscores, starting with a letter."
        )
    raw_dir = Path(raw_dir).expanduser().resolve()
    files = find_table_files(raw_dir)
    _require_tables(raw_dir, files)

    layouts = _check_files(files)
    if (raw_dir / SAMPLE_MARKER).is_file():
        layouts = {table: replace(layout, source_form="sample") for table, layout in layouts.items()}
    checksums = published_checksums(raw_dir)
    resolved_warehouse = warehouse_path(warehouse)
    log.info("Loading %d MIMIC-III tables from %s into %s of %s", len(layouts), raw_dir, schema, resolved_warehouse)

    # Hash the files in the background while DuckDB reads them.
    hashing = ThreadPoolExecutor(max_workers=2, thread_name_prefix="equisynth-sha256")
    try:
        digests = {table: hashing.submit(sha256_of, layout.raw_file.path) for table, layout in layouts.items()}
        with connect(resolved_warehouse) as con:
            display = RichProgress() if progress else NoProgress()
            with display:
                report = _load_all(con, resolved_warehouse, schema, layouts, digests, checksums, display)
    finally:
        hashing.shutdown(wait=False, cancel_futures=True)
    return report


def _require_tables(raw_dir: Path, files: dict[str, RawFile]) -> None:
    missing = [table for table in REQUIRED_TABLES if table not in files]
    if not missing:
        return
    expected = ", ".join(f"{table}.csv.gz" for table in missing)
    found = ", ".join(sorted(raw_file.path.name for raw_file in files.values())) or "no MIMIC-III CSV files"
    nested = _nested_release_folder(raw_dir) if not files else None
    if nested is not None:
        raise InputDataError(
            f"{raw_dir} has no MIMIC-III CSV files, but its subfolder {nested.name} contains them. "
            f"Pass --raw {nested} instead."
        )
    raise InputDataError(
        f"Required table {missing[0]} is missing from {raw_dir}"
        + (f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else "")
        + f". Expected {expected} or the demo's plain .csv (any letter case); the folder has {found}. "
        "Pass --raw the folder of the MIMIC-III v1.4 release or the MIMIC-III demo."
    )


def _nested_release_folder(raw_dir: Path) -> Path | None:
    """Return a direct subfolder with the MIMIC-III files (a download unpacked one level down)."""
    for child in sorted(raw_dir.iterdir()):
        if child.is_dir() and any(
            path.name.upper() in ("ADMISSIONS.CSV", "ADMISSIONS.CSV.GZ") for path in child.iterdir()
        ):
            return child
    return None


def _check_files(files: dict[str, RawFile]) -> dict[str, FileLayout]:
    """Inspect every file and check a sample of its values, before the warehouse is opened."""
    layouts = {table: inspect_file(files[table], TABLES[table]) for table in TABLES if table in files}
    scratch = duckdb.connect()
    try:
        scratch.execute("set enable_progress_bar_print = false")
        for layout in layouts.values():
            check_sample_values(scratch, layout)
    finally:
        scratch.close()
    return layouts


def _load_all(
    con: duckdb.DuckDBPyConnection,
    warehouse: Path,
    schema: str,
    layouts: dict[str, FileLayout],
    digests: dict[str, Future],
    checksums: PublishedChecksums | None,
    display: TableProgress,
) -> LoadReport:
    con.execute("set enable_progress_bar_print = false")
    staging = _Staging(con, schema)
    staging.prepare()
    try:
        report = LoadReport(warehouse=warehouse, schema=schema, tables={}, source_form=_overall_form(layouts))

        for table, layout in layouts.items():
            report.tables[layout.spec.table_name] = staging.load_file(layout, display)
            report.files[layout.spec.table_name] = layout.raw_file.path

        for table in STANDARD_TABLES:
            if table not in layouts:
                spec = TABLES[table]
                log.warning(
                    "%s not found (%s.csv.gz or %s.csv): creating %s.%s empty so that the dbt "
                    "staging models still build", table, table, table, schema, spec.table_name,
                )
                staging.create_empty(spec)
                report.tables[spec.table_name] = 0
                report.files[spec.table_name] = None
                report.empty_tables.append(spec.table_name)

        loaded_at = datetime.now(timezone.utc).replace(tzinfo=None)
        for table, layout in layouts.items():
            digest = digests[table].result()
            verify_checksum(layout.raw_file.path, digest, checksums)
            report.manifest.append(ManifestRow(
                file=str(layout.raw_file.path),
                table_name=layout.spec.table_name,
                sha256=digest,
                bytes=layout.raw_file.bytes,
                rows=report.tables[layout.spec.table_name],
                loaded_at=loaded_at,
                source_form=layout.source_form,
            ))
        for table_name in report.empty_tables:
            report.manifest.append(ManifestRow(None, table_name, None, None, 0, loaded_at, None))

        staging.write_manifest(report.manifest)
        staging.swap()
    except BaseException:
        staging.discard()
        raise

    log.info("Loaded %d tables into %s (%d rows in total)", len(report.tables), schema, sum(report.tables.values()))
    return report


def _size_label(size: int) -> str:
    for unit, factor in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= factor:
            return f"{size / factor:.1f} {unit}"
    return f"{size} B"


def _overall_form(layouts: dict[str, FileLayout]) -> str:
    forms = {layout.source_form for layout in layouts.values()}
    return forms.pop() if len(forms) == 1 else "mixed"


class _Staging:
    """Staging tables `<schema>._loading_<table>` and their swap into `<schema>`."""

    def __init__(self, con: duckdb.DuckDBPyConnection, schema: str) -> None:
        self.con = con
        self.schema = schema
        self.created_schema = False
        self.tables: list[str] = []  # final names of the staged tables

    def staged(self, table_name: str) -> str:
        return f'"{self.schema}"."{STAGING_PREFIX}{table_name}"'

    def prepare(self) -> None:
        """Create the schema when needed and drop staging tables that a killed load left behind."""
        exists = self.con.execute(
            "select count(*) from information_schema.schemata where schema_name = ?", [self.schema]
        ).fetchone()[0]
        if not exists:
            self.con.execute(f'create schema "{self.schema}"')
            self.created_schema = True
        for leftover in self._staging_tables():
            log.info("Dropping %s.%s left by an interrupted load", self.schema, leftover)
            self.con.execute(f'drop table "{self.schema}"."{leftover}"')

    def load_file(self, layout: FileLayout, display: TableProgress) -> int:
        table_name = layout.spec.table_name
        label = f"{layout.raw_file.path.name} ({_size_label(layout.raw_file.bytes)})"
        display.start(table_name, label)
        sql = f"create table {self.staged(table_name)} as {select_table_sql(layout)}"
        self.tables.append(table_name)
        try:
            execute_with_progress(self.con, sql, lambda percent: display.update(table_name, percent))
        except duckdb.Error as exc:
            raise read_error(layout, exc) from exc

        rows = self.con.execute(f"select count(*) from {self.staged(table_name)}").fetchone()[0]
        display.finish(table_name, rows)
        log.debug("Read %s: %d rows into %s.%s", layout.raw_file.path.name, rows, self.schema, table_name)
        return rows

    def create_empty(self, spec: TableSpec) -> None:
        columns = ", ".join(f'"{column.name}" {column.type}' for column in spec.columns)
        self.tables.append(spec.table_name)
        self.con.execute(f"create table {self.staged(spec.table_name)} ({columns})")

    def write_manifest(self, rows: list[ManifestRow]) -> None:
        self.tables.append(MANIFEST_TABLE)
        self.con.execute(f"create table {self.staged(MANIFEST_TABLE)} ({MANIFEST_COLUMNS})")
        self.con.executemany(
            insert_manifest_sql(self.schema, STAGING_PREFIX + MANIFEST_TABLE),
            [manifest_values(row) for row in rows],
        )

    def swap(self) -> None:
        """Replace every MIMIC-III table and the manifest of `<schema>` in one transaction.

        Tables of a previous load that this load lacks (an optional table whose file is gone)
        are dropped too, so `<schema>` always matches its manifest.
        """
        replaced = [spec.table_name for spec in TABLES.values()] + [MANIFEST_TABLE]
        self.con.execute("begin transaction")
        try:
            for table_name in replaced:
                self.con.execute(f'drop table if exists "{self.schema}"."{table_name}"')
            for table_name in self.tables:
                self.con.execute(f'alter table {self.staged(table_name)} rename to "{table_name}"')
            self.con.execute("commit")
        except BaseException:
            self.con.execute("rollback")
            raise
        self.tables = []

    def discard(self) -> None:
        """Drop the staging tables (and the schema when this load created it and it is empty)."""
        try:
            for leftover in self._staging_tables():
                self.con.execute(f'drop table "{self.schema}"."{leftover}"')
            if self.created_schema and not self._schema_tables():
                self.con.execute(f'drop schema "{self.schema}"')
        except duckdb.Error:
            log.exception("Could not drop the staging tables of %s; the next load drops them", self.schema)

    def _schema_tables(self) -> list[str]:
        rows = self.con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [self.schema]
        ).fetchall()
        return [row[0] for row in rows]

    def _staging_tables(self) -> list[str]:
        return [name for name in self._schema_tables() if name.startswith(STAGING_PREFIX)]
