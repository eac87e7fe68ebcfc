"""Find the file of each MIMIC-III table in a folder, in either published form.

The full release names files `ADMISSIONS.csv.gz`, the open demo `ADMISSIONS.csv`; names are
matched case-insensitively, so `admissions.csv` and `Admissions.CSV.GZ` are found too.
"""

import logging
import re
from dataclasses import dataclass
from pathlib import Path

from equisynth.errors import InputDataError, NotFoundError
from equisynth.loader.tables import TABLES

log = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^(?P<table>[A-Za-z_]+)\.csv(?P<gz>\.gz)?$", re.IGNORECASE)


# Written by `equisynth sample` beside its tables: the folder holds simulated data in the full
# release's form, which the loader records as source_form 'sample' instead of 'full'.
SAMPLE_MARKER = "EQUISYNTH_SAMPLE.json"


@dataclass(frozen=True)
class RawFile:
    table: str  # upper-case release name
    path: Path
    gzip_named: bool  # the name ends in .gz

    @property
    def bytes(self) -> int:
        return self.path.stat().st_size


def find_table_files(raw_dir: Path) -> dict[str, RawFile]:
    """Map each MIMIC-III table found in `raw_dir` to its file; other files are ignored."""
    if not raw_dir.exists():
        raise NotFoundError(
            f"Folder {raw_dir} not found. Pass --raw the folder that contains the MIMIC-III "
            "CSV files (ADMISSIONS.csv.gz, PATIENTS.csv.gz, ... or the demo's ADMISSIONS.csv, ...)."
        )
    if not raw_dir.is_dir():
        raise InputDataError(
            f"{raw_dir} is a file, not a folder. Pass --raw the folder that contains the MIMIC-III CSV files."
        )

    found: dict[str, RawFile] = {}
    for path in sorted(raw_dir.iterdir()):
        match = _FILE_NAME.match(path.name)
        if not match or not path.is_file():
            continue
        table = match.group("table").upper()
        if table not in TABLES:
            log.info("Ignoring %s: not a MIMIC-III v1.4 table", path.name)
            continue
        if table in found:
            raise InputDataError(
                f"Table {table} has two files in {raw_dir}: {found[table].path.name} and {path.name}. "
                "Keep one of them (they may differ) and run the load again."
            )
        found[table] = RawFile(table=table, path=path, gzip_named=match.group("gz") is not None)
    return found
