"""Settings file: defaults, `equisynth init`, and errors that name the key and value."""

import tomllib

import pytest
from typer.testing import CliRunner

from equisynth.cli import app
from equisynth.config import Settings, load_settings
from equisynth.config_file import render_default_config
from equisynth.errors import ConfigError

runner = CliRunner()


def test_init_writes_every_default(tmp_path):
    path = tmp_path / "equisynth.toml"

    result = runner.invoke(app, ["init", "--path", str(path)])

    assert result.exit_code == 0, result.output
    written = load_settings(path)
    assert written == Settings()
    text = path.read_text()
    assert "[rebalance]" in text
    assert "# Share of patients held out from training for evaluation." in text


def test_init_refuses_to_overwrite(tmp_path):
    path = tmp_path / "equisynth.toml"
    path.write_text("")

    result = runner.invoke(app, ["init", "--path", str(path)])

    assert result.exit_code == 2
    assert "already exists" in result.output


def test_rendered_config_is_valid_toml():
    parsed = tomllib.loads(render_default_config())

    assert parsed["train"]["model"] == "diffusion"
    assert Settings.model_validate(parsed) == Settings()


def test_unknown_key_is_named(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[train]\nepoch = 5\n")

    with pytest.raises(ConfigError) as info:
        load_settings(path)

    assert "train.epoch" in str(info.value)
    assert "unknown key" in str(info.value)


def test_invalid_value_names_key_value_and_allowed(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[train]\nmodel = "vae"\n')

    with pytest.raises(ConfigError) as info:
        load_settings(path)

    message = str(info.value)
    assert "train.model = 'vae'" in message
    assert "'gan'" in message
    assert "'diffusion'" in message


def test_invalid_toml_names_file(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text("[train\n")

    with pytest.raises(ConfigError) as info:
        load_settings(path)

    assert "broken.toml" in str(info.value)
    assert "not valid TOML" in str(info.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "absent.toml")

    assert "equisynth init" in str(info.value)
