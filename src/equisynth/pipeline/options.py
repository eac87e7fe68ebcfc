"""Turn `equisynth run` options and the config file into the settings and context of a run."""

from pathlib import Path

from pydantic import ValidationError

from equisynth.config import Settings, format_validation_error, load_settings
from equisynth.errors import ConfigError, InputDataError
from equisynth.paths import warehouse_path
from equisynth.pipeline.context import PipelineContext


def apply_overrides(
    config: Path | None,
    model: str | None = None,
    rebalance: str | None = None,
    epochs: int | None = None,
    warehouse: Path | None = None,
    release_dir: Path | None = None,
    waiver: str | None = None,
    release_version: str | None = None,
) -> tuple[Settings, str]:
    """Load the config file and apply command-line overrides, validating the result as a whole."""
    settings = load_settings(config)
    if config is not None:
        source = str(config)
    elif Path("equisynth.toml").exists():
        source = "equisynth.toml"
    else:
        source = "defaults"

    data = settings.model_dump(by_alias=True)
    if model is not None:
        data["train"]["model"] = model
    if epochs is not None:
        data["train"]["epochs"] = epochs
    if warehouse is not None:
        data["warehouse"]["path"] = str(warehouse)
    if release_version is not None:
        data["export"]["version"] = release_version
    if waiver is not None:
        data["export"]["waiver"] = waiver
    if release_dir is not None:
        data["export"]["out"] = str(release_dir)
    if rebalance is not None:
        from equisynth.rebalance.spec import parse_spec_text

        data["rebalance"].update(parse_spec_text(rebalance))

    try:
        return Settings.model_validate(data), source
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, "the command-line options")) from exc


def resolve_context(settings: Settings, config_source: str, raw: Path | None, options: list[str] | None = None) -> PipelineContext:
    raw_value = raw
    if raw_value is None and settings.data.raw:
        raw_value = Path(settings.data.raw)
    if raw_value is not None:
        raw_value = raw_value.expanduser().resolve()
        if not raw_value.is_dir():
            raise InputDataError(
                f"--raw {raw_value} is not a folder. Give the folder that contains ADMISSIONS.csv(.gz) and the other MIMIC-III tables."
            )
    return PipelineContext(
        settings=settings,
        warehouse=warehouse_path(settings.warehouse.path),
        raw_dir=raw_value,
        config_source=config_source,
        options=list(options or []),
    )
