"""The `equisynth` command line: one Typer app whose commands live in `equisynth.commands`.

Command modules import heavy libraries (torch, Great Expectations, dbt) inside their
functions, so that `equisynth --help` starts fast.
"""

import functools
import importlib
import logging
import sys
from typing import Callable

import typer
from rich.console import Console

from equisynth.errors import EquisynthError

# Command name -> module under equisynth.commands; each module defines `command`.
COMMANDS = {
    "init": "init",
    "sample": "sample",
    "load": "load",
    "build": "build",
    "validate": "validate",
    "train": "train",
    "generate": "generate",
    "evaluate": "evaluate",
    "export": "export",
    "run": "run",
}

console = Console(stderr=True)
app = typer.Typer(
    name="equisynth",
    help="Synthetic MIMIC-III patients that rebalance under-represented groups with multimorbidity.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

_verbose = False


@app.callback()
def main_options(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log debug messages and show tracebacks on errors."),
) -> None:
    global _verbose
    _verbose = verbose
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        force=True,
    )
    # Keep third-party chatter out of the user's terminal unless asked for.
    for noisy in ("great_expectations", "dbt", "matplotlib", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)
    if not verbose:
        for handler in logging.getLogger().handlers:
            handler.addFilter(_only_warnings_from_libraries)


def _only_warnings_from_libraries(record: logging.LogRecord) -> bool:
    """Drop info messages of site-packages code; some libraries (GX) name loggers by file path."""
    return record.levelno >= logging.WARNING or "site-packages" not in record.pathname


def user_errors_as_messages(function: Callable) -> Callable:
    """Print an EquisynthError as one red line and exit with status 2; tracebacks only with --verbose."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except EquisynthError as exc:
            if _verbose:
                console.print_exception()
            console.print(f"[bold red]Error:[/bold red] {exc}", highlight=False, markup=True)
            raise typer.Exit(code=2) from None
        except KeyboardInterrupt:
            console.print("[yellow]Interrupted.[/yellow]")
            raise typer.Exit(code=130) from None

    return wrapper


for _name, _module in COMMANDS.items():
    _command = importlib.import_module(f"equisynth.commands.{_module}").command
    app.command(_name)(user_errors_as_messages(_command))


def main() -> None:
    """Console-script entry point."""
    sys.exit(app())
