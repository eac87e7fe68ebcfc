"""Expectation suites read from the JSON files under `expectations/`, one folder per table family.

Each file is a Great Expectations 1.x suite (`name`, `expectations` with `type`, `kwargs`,
`notes`) whose `meta` adds what GX cannot express on a single dataframe:
- `table`: the table the suite validates;
- `extends`: a suite whose expectations come first (synthetic suites extend the real ones);
- `computed_columns`: SQL expressions that DuckDB evaluates while reading the table, so that
  expectations can compare a column with the value derived from its inputs or with a row of
  another table. In them, `{schema}` is the schema being validated and `t` is the table.
"""

import copy
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

from equisynth.errors import EquisynthError
from equisynth.paths import EXPECTATIONS_DIR

log = logging.getLogger(__name__)

FAMILIES = ("raw", "mart", "synthetic")

# Raw tables that every warehouse must have; the other raw suites run where their table exists.
REQUIRED_RAW_TABLES = ("patients", "admissions", "diagnoses_icd", "d_icd_diagnoses", "icustays")

# Decoded tables that every synthetic generation has, in the order they are validated.
SYNTHETIC_TABLES = ("patients", "admissions", "diagnoses_icd", "icustays", "mm_admission_features")

MART_TABLE = "mm_admission_features"


@dataclass
class SuiteSpec:
    """One suite bound to one warehouse table, ready to run."""

    suite: str  # family suite name, e.g. "raw.admissions" or "synthetic.admissions"
    schema: str  # warehouse schema of the table, e.g. "raw", "main", "synthetic_g1"
    table: str
    expectations: list[dict]
    computed_columns: dict[str, str] = field(default_factory=dict)
    generation_id: str | None = None
    meta: dict = field(default_factory=dict)

    @property
    def table_name(self) -> str:
        return f"{self.schema}.{self.table}"


def suite_path(suite: str, root: Path = EXPECTATIONS_DIR) -> Path:
    family, _, table = suite.partition(".")
    return root / family / f"{table}.json"


def read_suite_file(suite: str, root: Path = EXPECTATIONS_DIR) -> dict:
    """Read one suite file and check its shape; raise EquisynthError naming the file otherwise."""
    path = suite_path(suite, root)
    if not path.exists():
        raise EquisynthError(f"Expectation suite {suite} not found at {path}. Restore it from the repository.")

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise EquisynthError(f"Expectation suite {path} is not valid JSON: {exc}. Fix the file.") from exc

    for key in ("name", "meta", "expectations"):
        if key not in document:
            raise EquisynthError(f"Expectation suite {path} has no `{key}` key. Add it, as in the other suite files.")
    if document["name"] != suite:
        raise EquisynthError(f"Expectation suite {path} is named {document['name']!r}, but its path expects {suite!r}. Rename one of them.")
    for position, expectation in enumerate(document["expectations"]):
        if "type" not in expectation or "kwargs" not in expectation:
            raise EquisynthError(f"Expectation {position} of {path} needs `type` and `kwargs`.")
    return document


def load_suite(suite: str, schema: str, generation_id: str | None = None, root: Path = EXPECTATIONS_DIR) -> SuiteSpec:
    """Build the spec of `suite` for the table in `schema`, with the expectations of the suite it extends first."""
    document = read_suite_file(suite, root)
    meta = document["meta"]
    expectations: list[dict] = []
    computed: dict[str, str] = {}

    parent = meta.get("extends")
    if parent:
        base = load_suite(parent, schema, generation_id, root)
        expectations.extend(base.expectations)
        computed.update(base.computed_columns)

    expectations.extend(copy.deepcopy(document["expectations"]))
    computed.update(meta.get("computed_columns", {}))
    return SuiteSpec(
        suite=suite,
        schema=schema,
        table=meta["table"],
        expectations=expectations,
        computed_columns=computed,
        generation_id=generation_id,
        meta=meta,
    )


def raw_suite_names(root: Path = EXPECTATIONS_DIR) -> list[str]:
    """Names of the raw-table suites, the required tables first."""
    available = sorted(path.stem for path in (root / "raw").glob("*.json") if path.stem != "full_release_row_counts")
    ordered = [table for table in REQUIRED_RAW_TABLES if table in available]
    ordered += [table for table in available if table not in ordered]
    return [f"raw.{table}" for table in ordered]


def full_release_row_counts(root: Path = EXPECTATIONS_DIR) -> dict[str, int]:
    """Row counts of MIMIC-III v1.4 per raw table, expected only of a full-release load."""
    document = json.loads((root / "raw" / "full_release_row_counts.json").read_text(encoding="utf-8"))
    return {table: int(rows) for table, rows in document["row_counts"].items()}
