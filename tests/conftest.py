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


# ---------------------------------------------------------------------------
# Rebalancing and decoder fixtures
# ---------------------------------------------------------------------------

REBALANCE_DEMO_SPEC = 'by = ["ethnicity_group", "insurance"], target = "parity", within = "multimorbid = 1"'


def _real_table_digests(path: Path) -> dict[str, str]:
    """An order-independent digest of every table in schemas raw and main (seeds and marts)."""
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('raw', 'main') and table_type = 'BASE TABLE' order by 1, 2"
        ).fetchall()
        return {
            f"{schema}.{table}": str(con.execute(f'select count(*), sum(hash(t)) from {schema}."{table}" as t').fetchall()[0])
            for schema, table in tables
        }
    finally:
        con.close()


@pytest.fixture(scope="session")
def rebalanced_demo(tmp_path_factory, built_demo_warehouse):
    """A GAN trained for one epoch on the demo mart and one parity generation decoded and built from it.

    Returns a namespace with the warehouse path, the SynthesisResult, the run id and digests of
    the real tables taken before generating.
    """
    from types import SimpleNamespace

    from equisynth.synthesis import generate_rebalanced
    from equisynth.training import train

    path = tmp_path_factory.mktemp("rebalanced_demo") / "equisynth.duckdb"
    shutil.copyfile(built_demo_warehouse, path)
    run_id = train(path, model="gan", epochs=1)
    before = _real_table_digests(path)
    result = generate_rebalanced(path, run_id, REBALANCE_DEMO_SPEC)
    return SimpleNamespace(warehouse=path, result=result, run_id=run_id, digests_before=before, digests=_real_table_digests)
