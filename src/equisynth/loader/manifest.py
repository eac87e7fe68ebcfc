"""The load manifest: which file went into which table, with its SHA-256, size and row count."""

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from equisynth.errors import InputDataError

log = logging.getLogger(__name__)

MANIFEST_TABLE = "load_manifest"
MANIFEST_COLUMNS = """
    file VARCHAR,
    table_name VARCHAR NOT NULL,
    sha256 VARCHAR,
    bytes BIGINT,
    rows BIGINT NOT NULL,
    loaded_at TIMESTAMP NOT NULL,
    source_form VARCHAR
"""
# Checksum lists that PhysioNet publishes beside the files (the demo has SHA256SUMS,
# the full release SHA256SUMS.txt), in `sha256sum` output format.
CHECKSUM_FILES = ("SHA256SUMS", "SHA256SUMS.txt")
_CHECKSUM_LINE = re.compile(r"^(?P<digest>[0-9a-fA-F]{64}) [ *](?P<name>.+)$")


@dataclass(frozen=True)
class ManifestRow:
    file: str | None  # absolute path; None for a table created empty
    table_name: str
    sha256: str | None
    bytes: int | None
    rows: int
    loaded_at: datetime
    source_form: str | None  # 'full' or 'demo'; None for a table created empty


def sha256_of(path: Path, chunk_bytes: int = 1024 * 1024) -> str:
    """Return the hex SHA-256 of a file, read in chunks so large files never sit in memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class PublishedChecksums:
    list_name: str  # file name of the checksum list
    digests: dict[str, str]  # file name -> hex SHA-256


def published_checksums(raw_dir: Path) -> PublishedChecksums | None:
    """Read the SHA256SUMS file in `raw_dir`, when there is one."""
    for name in CHECKSUM_FILES:
        path = raw_dir / name
        if not path.is_file():
            continue
        checksums = {}
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = _CHECKSUM_LINE.match(line.strip())
            if match:
                file_name = match.group("name").strip().removeprefix("./")
                checksums[file_name] = match.group("digest").lower()
        log.info("Checking files against %s (%d entries)", path.name, len(checksums))
        return PublishedChecksums(list_name=path.name, digests=checksums)
    return None


def verify_checksum(path: Path, digest: str, published: PublishedChecksums | None) -> None:
    """Reject a file whose SHA-256 differs from the one its folder's checksum list gives."""
    if published is None:
        return
    expected = published.digests.get(path.name)
    if expected is None or expected == digest:
        return
    list_name = published.list_name
    raise InputDataError(
        f"{path.name} has SHA-256 {digest}, but {list_name} in its folder lists {expected}: the file "
        "differs from the published one (a truncated download or an edited file). Download it again, "
        f"or delete its line from {list_name} if you changed it on purpose."
    )


def insert_manifest_sql(schema: str, table: str) -> str:
    return f'insert into "{schema}"."{table}" values (?, ?, ?, ?, ?, ?, ?)'


def manifest_values(row: ManifestRow) -> list:
    return [row.file, row.table_name, row.sha256, row.bytes, row.rows, row.loaded_at, row.source_form]
