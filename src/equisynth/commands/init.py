"""`equisynth init`: write an equisynth.toml with every key, its default and a comment."""

from pathlib import Path

import typer
from rich.console import Console

from equisynth.config import CONFIG_FILE_NAME
from equisynth.errors import ConfigError


def command(
    path: Path = typer.Option(Path(CONFIG_FILE_NAME), "--path", help="Where to write the config file."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing file."),
) -> None:
    """Write a commented config file with the defaults for MIMIC-III."""
    from equisynth.config_file import render_default_config

    if path.exists() and not force:
        raise ConfigError(f"{path} already exists. Pass --force to overwrite it.")
    path.write_text(render_default_config(), encoding="utf-8")
    Console().print(f"Wrote {path}. Edit it, then run `equisynth run --config {path}`.")
