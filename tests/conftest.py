"""Shared fixtures: the MIMIC-III demo folder and warehouses built from it once per session."""

import os
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_ENV_VAR = "EQUISYNTH_DEMO_DIR"
DEFAULT_DEMO_DIR = REPO_ROOT.parent / "shared" / "mimic-iii-demo"

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")


def demo_dir_or_skip() -> Path:
    demo = Path(os.environ.get(DEMO_ENV_VAR, DEFAULT_DEMO_DIR))
    if not (demo / "ADMISSIONS.csv").exists() and not (demo / "ADMISSIONS.csv.gz").exists():
        pytest.skip(
            f"MIMIC-III demo not found at {demo}: set {DEMO_ENV_VAR} to the folder of the "
            "MIMIC-III Clinical Database Demo v1.4 (https://physionet.org/content/mimiciii-demo/1.4/)."
        )
    return demo


@pytest.fixture(scope="session")
def demo_dir() -> Path:
    """Folder of the MIMIC-III Clinical Database Demo v1.4; skips the test where it is missing."""
    return demo_dir_or_skip()


# ---------------------------------------------------------------------------
# Loader fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def loaded_demo_warehouse(tmp_path_factory, demo_dir) -> Path:
    """DuckDB file with the MIMIC-III demo loaded into schema raw, loaded once per session.

    Tests that write to the warehouse should copy the file first, so that others see it as loaded.
    """
    from equisynth.loader import load_raw

    path = tmp_path_factory.mktemp("loaded_demo") / "equisynth.duckdb"
    load_raw(demo_dir, path, progress=False)
    return path


# ---------------------------------------------------------------------------
# dbt fixtures
# ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def built_demo_warehouse(tmp_path_factory, loaded_demo_warehouse) -> Path:
    """Copy of the loaded demo warehouse with every dbt model built (real data), built once per session.

    Tests that write to the warehouse should copy the file first.
    """
    from equisynth import dbt_runner

    path = tmp_path_factory.mktemp("built_demo") / "equisynth.duckdb"
    shutil.copyfile(loaded_demo_warehouse, path)
    dbt_runner.build(path)
    return path
