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
