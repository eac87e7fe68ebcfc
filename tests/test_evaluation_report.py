"""The HTML report renders in headless Chromium with no script errors and with its plots."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from equisynth.config import EvaluateSettings
from equisynth.evaluation import evaluate
from evaluation_helpers import SCHEMA, build_warehouse

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium not installed at /usr/bin/chromium (Debian package `chromium`)"),
]


def render(page: Path, profile: Path) -> tuple[str, list[str]]:
    """The DOM after loading `page`, and every console message Chromium logged."""
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
        "--enable-logging=stderr", "--v=0", "--dump-dom", page.resolve().as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return result.stdout, console


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    warehouse = tmp_path_factory.mktemp("report") / "wh.duckdb"
    build_warehouse(warehouse)
    settings = EvaluateSettings(bootstrap=20, quasi_identifiers=["age", "gender", "ethnicity_group", "insurance"])
    return evaluate(warehouse, "gen_test", settings=settings, schema=SCHEMA).report_path


def test_console_errors_detected(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>missingFunction();</script></body></html>", encoding="utf-8")
    _, console = render(page, tmp_path / "profile")
    assert any("Uncaught" in line for line in console)


def test_report_renders_without_errors(report, tmp_path):
    dom, console = render(report, tmp_path / "profile")
    assert console == []
    assert "Evaluation of generation" in dom
    for section in ("summary", "fidelity", "utility", "fairness", "privacy", "representation"):
        assert f'id="{section}"' in dom


def test_report_plots_present(report, tmp_path):
    dom, _ = render(report, tmp_path / "profile")
    figures = re.findall(r'<figure class="plot">\s*<svg', dom)
    assert len(figures) >= 6
    assert "Distance to closest training record" in dom
    assert "AUROC of hospital_expire_flag by ethnicity_group" in dom


def test_guide_renders(report, tmp_path):
    dom, console = render(report.parent / "evaluation_guide.html", tmp_path / "profile")
    assert console == []
    assert 'id="detection-auc"' in dom
    assert 'id="membership-inference-auc"' in dom
