"""Column roles of a dbt model, read from the `meta` of each column in the model's yml.

The yml is the one source of truth for what the generators model: `kind` (id, categorical,
binary, continuous, count), `condition` (an input of the generators), `derived` (recomputed by
dbt, never generated) and, for comorbidity flags, `condition_flag` (elixhauser or charlson).
"""

from __future__ import annotations

import logging
from pathlib import Path

import yaml

from equisynth.errors import ConfigError, InputDataError
from equisynth.paths import DBT_PROJECT_DIR
from models_ml.table_schema import KINDS, ColumnSpec, TableSchema

log = logging.getLogger(__name__)

MARTS_DIR = DBT_PROJECT_DIR / "models" / "marts"


def load_table_schema(model: str = "mm_admission_features", path: Path | None = None) -> TableSchema:
    """Read the column roles of dbt model `model` from `path` (default: the mart's yml)."""
    path = Path(path) if path is not None else MARTS_DIR / f"{model}.yml"
    if not path.exists():
        raise ConfigError(f"Model yml {path} not found; the column roles of {model} are read from it.")
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"Model yml {path} is not valid YAML: {exc}") from exc

    entries = [m for m in document.get("models", []) if m.get("name") == model]
    if not entries:
        raise ConfigError(f"Model yml {path} has no model named {model}.")

    columns = []
    for column in entries[0].get("columns", []):
        columns.append(_column_spec(column, path))
    if not columns:
        raise ConfigError(f"Model {model} in {path} declares no columns.")
    return TableSchema(model, tuple(columns))


def _column_spec(column: dict, path: Path) -> ColumnSpec:
    name = column.get("name")
    meta = column.get("meta") or (column.get("config") or {}).get("meta") or {}
    kind = meta.get("kind")
    if kind not in KINDS:
        raise ConfigError(
            f"Column {name} in {path} has meta kind {kind!r}; set `meta: {{kind: ...}}` to one of {', '.join(KINDS)}."
        )
    for key in ("condition", "derived"):
        if not isinstance(meta.get(key, False), bool):
            raise ConfigError(f"Column {name} in {path} has meta {key} = {meta[key]!r}; use true or false.")
    return ColumnSpec(
        name=name,
        kind=kind,
        condition=bool(meta.get("condition", False)),
        derived=bool(meta.get("derived", False)),
        condition_flag=meta.get("condition_flag"),
    )


def check_columns(schema: TableSchema, columns: list[str], table: str) -> None:
    """Raise an InputDataError naming the first declared column missing from `columns`."""
    missing = [name for name in schema.names if name not in set(columns)]
    if missing:
        raise InputDataError(
            f"Table {table} has no column {', '.join(missing)}, declared in the yml of {schema.model}. "
            "Rebuild the mart with `equisynth build`, or remove the column from the yml."
        )
