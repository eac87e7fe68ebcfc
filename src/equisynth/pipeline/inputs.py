"""Checksums of the raw input folder, which decide whether the load step must run again."""

import hashlib
from pathlib import Path

CHUNK_BYTES = 1 << 20


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def raw_file_checksums(folder: Path) -> dict[str, str]:
    """SHA-256 of every CSV (plain or gzipped) in the folder, keyed by file name.

    NOTE: on the full release this reads every file once per run (about 6 GB gzipped with
    CHARTEVENTS), which costs tens of seconds before the load step can be skipped.
    """
    files = sorted(
        path for path in folder.iterdir()
        if path.is_file() and path.name.lower().endswith((".csv", ".csv.gz"))
    )
    return {path.name: file_sha256(path) for path in files}
