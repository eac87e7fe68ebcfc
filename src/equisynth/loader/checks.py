"""Input checks that run before anything is written, and the messages for files that fail them.

Every message names the file, the column and an example value where there is one, and ends with
what to do. DuckDB's own errors from the full read are translated into the same form.
"""

import csv
import gzip
import logging
import re
import zlib

import duckdb

from equisynth.errors import InputDataError
from equisynth.loader.discovery import RawFile
from equisynth.loader.reader import FileLayout, read_csv_sql
from equisynth.loader.tables import TableSpec

log = logging.getLogger(__name__)

HEAD_BYTES = 64 * 1024
SAMPLE_ROWS = 2000
GZIP_MAGIC = b"\x1f\x8b"
ISO_HINT = "MIMIC-III timestamps are ISO 8601, like 2164-10-23 21:09:00"
ORIGINAL_FILE_HINT = "Use the unmodified file from PhysioNet (https://physionet.org/content/mimiciii/1.4/)"

# Dates as spreadsheet programs write them: 10/23/64 21:09, 23.10.2164, 10-23-64.
_SPREADSHEET_DATE = re.compile(r"^\s*\d{1,2}[/.\-]\d{1,2}[/.\-](?P<year>\d{2}|\d{4})\b")


def inspect_file(raw_file: RawFile, spec: TableSpec) -> FileLayout:
    """Check that the file is CSV text with every documented column, and describe its layout."""
    name = raw_file.path.name
    with raw_file.path.open("rb") as handle:
        start = handle.read(HEAD_BYTES)
    is_gzip = start.startswith(GZIP_MAGIC)

    if raw_file.gzip_named and not is_gzip:
        kind = describe_content(start) or "plain text or another format"
        raise InputDataError(
            f"{name} is named .gz but is not gzip-compressed: it is {kind}. "
            f"Download the file again, or rename it to {name[:-3]} if it is plain CSV."
        )
    if is_gzip and not raw_file.gzip_named:
        raise InputDataError(
            f"{name} is gzip-compressed but its name does not end in .gz. Rename it to {name}.gz."
        )

    head = _read_gzip_head(raw_file) if is_gzip else start
    header = _parse_header(name, head)
    read_names, extra = _match_columns(name, spec, header)
    upper_case = all(column == column.upper() for column in header)

    return FileLayout(
        raw_file=raw_file,
        spec=spec,
        gzip=is_gzip,
        header=tuple(header),
        read_names=tuple(read_names),
        extra_columns=tuple(extra),
        source_form="full" if is_gzip or upper_case else "demo",
    )


def describe_content(start: bytes) -> str | None:
    """Name the kind of a file from its first bytes when it is clearly not CSV text."""
    stripped = start.lstrip().lower()
    if start.startswith(b"PK\x03\x04"):
        return "a ZIP archive (an Excel .xlsx workbook is one)"
    if start.startswith(b"\xd0\xcf\x11\xe0"):
        return "an Excel .xls workbook"
    if start.startswith(b"%PDF"):
        return "a PDF document"
    if stripped.startswith((b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")):
        return "an HTML or XML page (a saved login or error page?)"
    if b"\x00" in start:
        return "binary data (it contains NUL bytes)"
    return None


def _read_gzip_head(raw_file: RawFile) -> bytes:
    try:
        with gzip.open(raw_file.path, "rb") as handle:
            return handle.read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        raise InputDataError(
            f"{raw_file.path.name} is not a readable gzip file ({exc}). "
            "The download may be truncated or corrupted: download it again."
        ) from exc


def _parse_header(name: str, head: bytes) -> list[str]:
    if not head.strip():
        raise InputDataError(f"{name} is empty: it has no header row. {ORIGINAL_FILE_HINT}.")

    kind = describe_content(head)
    if kind:
        raise InputDataError(f"{name} is not a CSV file: it is {kind}. {ORIGINAL_FILE_HINT}.")

    first_line, newline, _ = head.partition(b"\n")
    if not newline and len(head) >= HEAD_BYTES:
        raise InputDataError(
            f"{name} has no line break in its first {HEAD_BYTES // 1024} KiB, so it has no CSV "
            f"header row. {ORIGINAL_FILE_HINT}."
        )
    try:
        line = first_line.decode("utf-8").lstrip("\ufeff").rstrip("\r")
    except UnicodeDecodeError as exc:
        raise InputDataError(
            f"{name} is not UTF-8 text: its header row has byte {first_line[exc.start]:#04x} at "
            f"position {exc.start}. {ORIGINAL_FILE_HINT}."
        ) from exc

    fields = [field.strip() for field in next(csv.reader([line]))]
    if len(fields) == 1:
        for delimiter, label in ((";", "';'"), ("\t", "a tab"), ("|", "'|'")):
            if delimiter in line:
                raise InputDataError(
                    f"{name} is not comma-separated: its header row {line[:80]!r} uses {label} "
                    "between columns. MIMIC-III files use commas; export the file again as "
                    f"comma-separated CSV, or {ORIGINAL_FILE_HINT[0].lower() + ORIGINAL_FILE_HINT[1:]}."
                )
    return fields


def _match_columns(name: str, spec: TableSpec, header: list[str]) -> tuple[list[str], list[str]]:
    """Return the read name of each file column and the header names that are not documented."""
    expected = set(spec.column_names)
    seen: set[str] = set()
    read_names: list[str] = []
    extra: list[str] = []

    for position, column in enumerate(header, start=1):
        lowered = column.lower()
        if lowered in seen:
            raise InputDataError(
                f"{name} has column {column} twice in its header. Remove the duplicate column."
            )
        seen.add(lowered)
        if lowered in expected:
            read_names.append(lowered)
        else:
            read_names.append(f"extra_{position}")
            extra.append(column)

    missing = [column for column in spec.column_names if column not in seen]
    if missing:
        shown_header = ", ".join(header[:12]) + (", ..." if len(header) > 12 else "")
        raise InputDataError(
            f"{name} has no column {missing[0]}"
            + (f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else "")
            + f". Its header row is: {shown_header}. MIMIC-III v1.4 {spec.name} has the columns "
            f"{', '.join(spec.column_names)} (in any letter case). {ORIGINAL_FILE_HINT}."
        )
    if extra:
        log.warning("%s: ignoring columns that MIMIC-III v1.4 %s does not have: %s", name, spec.name, ", ".join(extra))
    return read_names, extra


def check_sample_values(con: duckdb.DuckDBPyConnection, layout: FileLayout, rows: int = SAMPLE_ROWS) -> None:
    """Check that the first `rows` rows cast to the documented types (before any write).

    Values further down the file are checked by the typed read itself, whose errors
    `read_error` translates.
    """
    typed = [column for column in layout.spec.columns if column.type != "VARCHAR"]
    sample = f"select row_number() over () as data_row, * from (select * from {read_csv_sql(layout, all_varchar=True)} limit {rows})"
    try:
        con.execute(f"create or replace temp table loader_sample as {sample}")
    except duckdb.Error as exc:
        raise read_error(layout, exc) from exc

    for column in typed:
        found = con.execute(
            f'select data_row, "{column.name}" from loader_sample '
            f'where "{column.name}" is not null and try_cast("{column.name}" as {column.type}) is null '
            "order by data_row limit 1"
        ).fetchone()
        if found:
            data_row, value = found
            raise bad_value_error(layout.raw_file.path.name, column.name, column.type, value, f"data row {data_row}")
    con.execute("drop table loader_sample")


def bad_value_error(file_name: str, column: str, column_type: str, value: str, where: str) -> InputDataError:
    """Build the message for a value that does not cast to its documented type."""
    excerpt = value if len(value) <= 60 else value[:57] + "..."
    place = f"{file_name}, column {column}, {where}"

    if column_type == "TIMESTAMP":
        spreadsheet = _SPREADSHEET_DATE.match(value)
        if spreadsheet and len(spreadsheet.group("year")) == 2:
            return InputDataError(
                f"{place}: timestamp {excerpt!r} is not ISO 8601 and has a two-digit year. A spreadsheet "
                "program re-saved this file and rewrote its dates, which loses the century of "
                "MIMIC-III's shifted years (2164-10-23 21:09:00 becomes 10/23/64 21:09), so they "
                f"cannot be recovered. {ORIGINAL_FILE_HINT}; do not open and save it in a spreadsheet."
            )
        if spreadsheet:
            return InputDataError(
                f"{place}: timestamp {excerpt!r} is not ISO 8601 ({ISO_HINT}). A spreadsheet program "
                f"probably re-saved this file. {ORIGINAL_FILE_HINT}, or convert every timestamp to ISO."
            )
        return InputDataError(f"{place}: {excerpt!r} is not a valid timestamp ({ISO_HINT}). {ORIGINAL_FILE_HINT}, or correct the value.")

    return InputDataError(
        f"{place}: {excerpt!r} is not a valid {column_type}, the type MIMIC-III documents for "
        f"{column}. Check that the values are not shifted into the wrong column. "
        f"{ORIGINAL_FILE_HINT}, or correct the value."
    )


_CONVERSION = re.compile(
    r'Error when converting column "(?P<column>[^"]+)"\. Could not convert string "(?P<value>.*?)" to \'(?P<type>\w+)\'',
    re.DOTALL,
)
_LINE = re.compile(r"CSV Error on Line: (?P<line>\d+)")
_FIELD_COUNTS = re.compile(r"Expected Number of Columns: (?P<expected>\d+) Found: (?P<found>\d+)")


def read_error(layout: FileLayout, exc: duckdb.Error) -> InputDataError:
    """Translate a DuckDB error from reading a file into an InputDataError that names the row and the fix."""
    name = layout.raw_file.path.name
    text = str(exc)
    line_match = _LINE.search(text)
    where = f"line {line_match.group('line')}" if line_match else "the file"

    conversion = _CONVERSION.search(text)
    if conversion:
        return bad_value_error(name, conversion.group("column"), conversion.group("type"), conversion.group("value"), where)

    field_counts = _FIELD_COUNTS.search(text)
    if field_counts:
        reason = (
            f"the row has {field_counts.group('found')} fields where the header has "
            f"{field_counts.group('expected')} (a value with an unquoted comma, or a cut-off row)"
        )
    else:
        reason = "DuckDB failed to read it: " + (text.strip().splitlines()[0] if text.strip() else type(exc).__name__)
    original = re.search(r"Original Line: (?P<line>.*)", text)
    example = f" The row is: {original.group('line')[:120]!r}." if original else ""
    return InputDataError(
        f"{name}, {where}: {reason}.{example} The file may be truncated, corrupted or edited: "
        "download it again from PhysioNet."
    )
