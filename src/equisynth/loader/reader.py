"""SQL that reads one MIMIC-III file with DuckDB's CSV reader, with explicit names and types."""

from dataclasses import dataclass

from equisynth.loader.discovery import RawFile
from equisynth.loader.tables import TableSpec


@dataclass(frozen=True)
class FileLayout:
    """Layout of a file as its first bytes show it: compression, header and published form."""

    raw_file: RawFile
    spec: TableSpec
    gzip: bool  # the content is gzip-compressed
    header: tuple[str, ...]  # column names as written in the file
    read_names: tuple[str, ...]  # name given to each file column: lower-case, or extra_<n> for unknown ones
    extra_columns: tuple[str, ...]  # header names that are not MIMIC-III columns; not loaded
    source_form: str  # 'full' (gzip or upper-case header) or 'demo'


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def read_csv_sql(layout: FileLayout, all_varchar: bool = False) -> str:
    """Return a `read_csv(...)` call that yields the file's columns under their warehouse names.

    With `all_varchar`, every column is read as text, so that checks can find values that do
    not cast without DuckDB stopping at the first one.
    """
    types = {column.name: column.type for column in layout.spec.columns}
    column_types = []
    for name in layout.read_names:
        column_type = "VARCHAR" if all_varchar else types.get(name, "VARCHAR")
        column_types.append(f"{_sql_string(name)}: {_sql_string(column_type)}")

    # MIMIC-III files follow PostgreSQL's CSV export: comma, '"' quotes doubled inside values,
    # a header row, and an empty unquoted field for NULL. DuckDB detects LF or CRLF line ends.
    options = [
        "header = true",
        "auto_detect = false",
        "delim = ','",
        "quote = '\"'",
        "escape = '\"'",
        "strict_mode = true",
        "null_padding = false",
        f"compression = {_sql_string('gzip' if layout.gzip else 'none')}",
        "columns = {" + ", ".join(column_types) + "}",
    ]
    return f"read_csv({_sql_string(str(layout.raw_file.path))}, {', '.join(options)})"


def select_table_sql(layout: FileLayout, all_varchar: bool = False) -> str:
    """Return a SELECT of the documented columns, in documented order, from the file."""
    columns = ", ".join(f'"{name}"' for name in layout.spec.column_names)
    return f"select {columns} from {read_csv_sql(layout, all_varchar=all_varchar)}"
