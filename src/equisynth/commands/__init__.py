"""One module per `equisynth` command; each defines a Typer function named `command`."""
