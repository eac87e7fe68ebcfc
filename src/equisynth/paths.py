"""Locations of the project folders and of what equisynth writes."""

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
EXPECTATIONS_DIR = PROJECT_ROOT / "expectations"

WAREHOUSE_ENV_VAR = "EQUISYNTH_WAREHOUSE"
DEFAULT_WAREHOUSE = Path("warehouse") / "equisynth.duckdb"


def warehouse_path(path: Path | str | None = None) -> Path:
    """Resolve the DuckDB file: the argument, else $EQUISYNTH_WAREHOUSE, else ./warehouse/equisynth.duckdb."""
    if path is None:
        path = os.environ.get(WAREHOUSE_ENV_VAR) or DEFAULT_WAREHOUSE
    return Path(path).expanduser().resolve()


def warehouse_dir(path: Path | str | None = None) -> Path:
    """Return the folder that contains the DuckDB file and everything written beside it (models, reports)."""
    return warehouse_path(path).parent


def models_dir(path: Path | str | None = None) -> Path:
    return warehouse_dir(path) / "models"


def reports_dir(path: Path | str | None = None) -> Path:
    return warehouse_dir(path) / "reports"
