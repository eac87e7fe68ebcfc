"""The release index: `<out>/index.csv` beside the release folders, and the table ml.releases."""

import csv
import datetime as dt
import io
import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from equisynth.warehouse import table_exists

INDEX_FILE = "index.csv"
INDEX_COLUMNS = ("release_name", "generation_id", "version", "created_at", "manifest_sha256", "path")


@dataclass(frozen=True)
class IndexEntry:
    release_name: str
    generation_id: str
    version: str
    created_at: str
    manifest_sha256: str
    path: str


def read_index(out_dir: Path) -> list[dict[str, str]]:
    path = out_dir / INDEX_FILE
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def recorded_release(con: duckdb.DuckDBPyConnection, out_dir: Path, name: str) -> str | None:
    """Return where a release of this name is already recorded (index.csv or ml.releases), else None."""
    if any(row.get("release_name") == name for row in read_index(out_dir)):
        return str(out_dir / INDEX_FILE)
    if table_exists(con, "ml", "releases"):
        found = con.execute("select path from ml.releases where release_name = ?", [name]).fetchone()
        if found:
            return f"ml.releases (path {found[0]})"
    return None


def render_index(out_dir: Path, entry: IndexEntry) -> str:
    """Return index.csv with the entry appended; the path column is relative to the index."""
    rows = read_index(out_dir)
    rows.append({**entry.__dict__, "path": entry.release_name})
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=INDEX_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def replace_index(out_dir: Path, text: str) -> None:
    """Write index.csv through a staging file and an atomic rename."""
    staging = out_dir / f".{INDEX_FILE}.partial"
    staging.write_text(text, encoding="utf-8")
    os.replace(staging, out_dir / INDEX_FILE)


def insert_release(con: duckdb.DuckDBPyConnection, entry: IndexEntry) -> None:
    """Insert into ml.releases (created_at in UTC), creating it on first use; the caller owns the transaction."""
    con.execute("create schema if not exists ml")
    con.execute(
        """
        create table if not exists ml.releases (
            release_name varchar primary key,
            generation_id varchar not null,
            version varchar not null,
            created_at timestamp not null,
            manifest_sha256 varchar not null,
            path varchar not null
        )
        """
    )
    created_at = dt.datetime.fromisoformat(entry.created_at.replace("Z", "+00:00")).replace(tzinfo=None)
    con.execute(
        "insert into ml.releases values (?, ?, ?, ?, ?, ?)",
        [entry.release_name, entry.generation_id, entry.version, created_at, entry.manifest_sha256, entry.path],
    )
