"""`equisynth run` end to end: on the demo, on the built-in sample, re-runs, and failures."""

import csv

import duckdb
import pytest
from typer.testing import CliRunner

from equisynth.cli import app

runner = CliRunner()

# A few epochs keep these tests fast, but such a model is too crude to pass the synthetic
# validation, so the runs export with a waiver. The release checks themselves are tested in
# test_release.py.
FAST_SETTINGS = """
[data]
sample_patients = 400

[train]
epochs = 3
batch_size = 200

[evaluate]
bootstrap = 20

[export]
version = "0.0.1"
waiver = "test run with a 3-epoch model"
"""


def invoke(*args):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory, demo_dir):
    """One end-to-end run on the demo, shared by the checks below."""
    folder = tmp_path_factory.mktemp("demo_run")
    config = folder / "equisynth.toml"
    config.write_text(FAST_SETTINGS)
    warehouse = folder / "warehouse" / "equisynth.duckdb"
    releases = folder / "releases"
    result = invoke(
        "run", "--raw", str(demo_dir), "--config", str(config),
        "--warehouse", str(warehouse), "--release-dir", str(releases),
    )
    return folder, warehouse, releases, config, result


@pytest.mark.slow
def test_demo_run_produces_verified_release(demo_run):
    folder, warehouse, releases, config, result = demo_run

    assert result.exit_code == 0, result.output
    release_folders = [path for path in releases.iterdir() if path.is_dir()]
    assert len(release_folders) == 1
    assert (release_folders[0] / "ADMISSIONS.csv").exists()
    verify = invoke("export", "--verify", str(release_folders[0]))
    assert verify.exit_code == 0, verify.output


@pytest.mark.slow
def test_demo_run_writes_report_and_data_docs(demo_run):
    folder, warehouse, releases, config, result = demo_run

    reports = warehouse.parent / "reports"
    assert list(reports.glob("evaluation_*.html"))
    assert (reports / "data_docs").is_dir()
    assert "Release" in result.output
    summary = " ".join(result.output.split())
    assert "Real holdout" in summary
    assert "21 admissions (fewer than 30" in summary


@pytest.mark.slow
def test_rerun_skips_finished_steps(demo_run, demo_dir):
    folder, warehouse, releases, config, first = demo_run
    assert first.exit_code == 0, first.output

    again = invoke(
        "run", "--raw", str(demo_dir), "--config", str(config),
        "--warehouse", str(warehouse), "--release-dir", str(releases),
    )

    assert again.exit_code == 0, again.output
    con = duckdb.connect(str(warehouse), read_only=True)
    steps = con.execute("select count(*) from ml.pipeline_steps").fetchone()[0]
    con.close()
    assert steps == 9
    assert again.output.count("skipped: inputs unchanged") == 9


@pytest.mark.slow
def test_from_step_reruns_only_later_steps(demo_run, demo_dir):
    folder, warehouse, releases, config, first = demo_run
    assert first.exit_code == 0, first.output
    bumped = folder / "bumped.toml"
    bumped.write_text(FAST_SETTINGS.replace('version = "0.0.1"', 'version = "0.0.2"'))

    result = invoke(
        "run", "--raw", str(demo_dir), "--config", str(bumped),
        "--warehouse", str(warehouse), "--release-dir", str(releases), "--from", "evaluate",
    )

    assert result.exit_code == 0, result.output
    assert result.output.count("skipped: inputs unchanged") == 7
    with (releases / "index.csv").open(newline="") as handle:
        versions = [row["version"] for row in csv.DictReader(handle)]
    assert versions == ["0.0.1", "0.0.2"]


@pytest.mark.slow
def test_run_without_arguments_uses_sample(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "equisynth.toml").write_text(FAST_SETTINGS)

    result = invoke("run")

    assert result.exit_code == 0, result.output
    assert "SIMULATED" in result.output
    assert (tmp_path / "warehouse" / "equisynth.duckdb").exists()
    assert len(list((tmp_path / "releases").glob("sample-*"))) == 1


def test_invalid_config_names_key(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[train]\nmodel = "vae"\n')

    result = invoke("run", "--config", str(config), "--warehouse", str(tmp_path / "wh.duckdb"))

    assert result.exit_code == 2
    assert "train.model = 'vae'" in result.output


def test_unknown_from_step(tmp_path):
    result = invoke("run", "--from", "fly", "--warehouse", str(tmp_path / "wh.duckdb"))

    assert result.exit_code == 2
    assert "--from 'fly' is not a step" in result.output


def test_failing_step_names_step_and_resume(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "ADMISSIONS.csv").write_text("this is not the admissions table\n")

    result = invoke("run", "--raw", str(raw), "--warehouse", str(tmp_path / "wh.duckdb"), "--model", "gan")

    assert result.exit_code == 2
    assert "Step 'load'" in result.output
    expected = f"equisynth run --raw {raw} --model gan --warehouse {tmp_path / 'wh.duckdb'} --from load"
    assert expected in " ".join(result.output.split())


def test_raw_must_be_a_folder(tmp_path):
    result = invoke("run", "--raw", str(tmp_path / "absent"), "--warehouse", str(tmp_path / "wh.duckdb"))

    assert result.exit_code == 2
    assert "is not a folder" in " ".join(result.output.split())
