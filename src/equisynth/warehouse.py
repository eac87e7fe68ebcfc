"""Connections to the DuckDB warehouse and small helpers for its tables."""

import logging
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import duckdb

from equisynth.errors import EquisynthError, NotFoundError
from equisynth.paths import warehouse_path

log = logging.getLogger(__name__)


@contextmanager
def connect(path: Path | str | None = None, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse, creating its folder when writing, and close it on exit."""
    resolved = warehouse_path(path)
    if read_only and not resolved.exists():
        raise NotFoundError(
            f"Warehouse {resolved} does not exist. Run `equisynth load --raw DIR` first."
        )
    resolved.parent.mkdir(parents=True, exist_ok=True)
    try:
        con = duckdb.connect(str(resolved), read_only=read_only)
    except duckdb.IOException as exc:
        raise EquisynthError(
            f"Cannot open warehouse {resolved}: {exc}. Close other programs that hold it "
            "(a notebook, the DuckDB CLI, a running dbt) and try again."
        ) from exc
    try:
        yield con
    finally:
        con.close()


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    # fetchall() closes the result; with DuckDB 2.0 an open one from fetchone() makes a
    # later con.register() on the same connection fail.
    rows = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchall()
    return bool(rows and rows[0][0])


def require_table(con: duckdb.DuckDBPyConnection, schema: str, table: str, hint: str) -> None:
    """Raise a NotFoundError naming the table and the command that creates it."""
    if not table_exists(con, schema, table):
        raise NotFoundError(f"Table {schema}.{table} is not in the warehouse. {hint}")
