"""dbt_runner and `equisynth build`: input checks and the command's summary."""

import shutil

import pytest
from typer.testing import CliRunner

from equisynth import dbt_runner
from equisynth.cli import app
from equisynth.errors import ConfigError, NotFoundError


def test_missing_warehouse_rejected(tmp_path):
    with pytest.raises(NotFoundError, match="equisynth load --raw"):
        dbt_runner.build(tmp_path / "absent.duckdb")


@pytest.mark.parametrize("generation", ["Bad-Id", "x", "1abc", "has space"])
def test_invalid_generation_rejected(tmp_path, generation):
    with pytest.raises(ConfigError, match="Invalid generation id"):
        dbt_runner.build(tmp_path / "absent.duckdb", generation=generation)


def test_missing_generation_schema_named(loaded_demo_warehouse):
    with pytest.raises(NotFoundError) as caught:
        dbt_runner.build(loaded_demo_warehouse, generation="never_decoded")

    assert "synthetic_never_decoded.patients" in str(caught.value)


def test_dbt_paths_under_warehouse_dir(tmp_path):
    target, logs = dbt_runner.dbt_paths(tmp_path / "wh.duckdb", "g_one")

    assert target == tmp_path / "dbt" / "target_g_one"
    assert logs == tmp_path / "dbt" / "logs"


def test_cli_missing_warehouse_one_line(tmp_path):
    result = CliRunner().invoke(app, ["build", "--warehouse", str(tmp_path / "absent.duckdb")])

    output = " ".join(result.output.split())  # rich wraps long lines
    assert result.exit_code == 2
    assert "does not exist" in output
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_cli_build_prints_summary(loaded_demo_warehouse, tmp_path):
    warehouse = tmp_path / "cli.duckdb"
    shutil.copyfile(loaded_demo_warehouse, warehouse)

    result = CliRunner().invoke(app, ["build", "--warehouse", str(warehouse), "--select", "stg_mimic__patients"])

    assert result.exit_code == 0, result.output
    assert "dbt build of the real data" in result.output
    assert "model" in result.output
    assert (tmp_path / "dbt" / "target" / "run_results.json").exists()
