"""Settings for every equisynth step, read from `equisynth.toml` and validated with pydantic.

Each section is a model with `extra="forbid"`, so a misspelt key is an error that names it.
The `description` of each field is written as a comment by `equisynth init`.
"""

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from equisynth.errors import ConfigError

CONFIG_FILE_NAME = "equisynth.toml"


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class WarehouseSettings(Section):
    path: str = Field("warehouse/equisynth.duckdb", description="DuckDB file that holds raw, mart, model and quality tables.")


class DataSettings(Section):
    raw: str | None = Field(None, description="Folder with MIMIC-III CSVs (demo or full release). Empty: use the built-in simulated sample.")
    sample_patients: int = Field(3000, ge=10, description="Patients in the built-in simulated sample used when `raw` is empty.")
    sample_seed: int = Field(0, ge=0, description="Seed of the built-in simulated sample.")


class BuildSettings(Section):
    skip_first_diagnosis: bool = Field(False, description="Count comorbidities only from secondary diagnoses (mimic-code's convention) instead of every position.")


class SplitSettings(Section):
    holdout_fraction: float = Field(0.2, gt=0.0, lt=0.9, description="Share of patients held out from training for evaluation.")
    seed: int = Field(0, ge=0, description="Seed of the patient-level train/holdout split.")


class TrainSettings(Section):
    model: Literal["gan", "diffusion"] = Field("diffusion", description="Generator family: `gan` (conditional WGAN-GP, CTGAN family) or `diffusion` (TabDDPM family).")
    epochs: int = Field(300, ge=1, description="Training epochs.")
    batch_size: int = Field(500, ge=2, description="Rows per training batch.")
    lr: float = Field(2e-4, gt=0, description="Adam learning rate.")
    device: Literal["cpu", "cuda"] = Field("cpu", description="Torch device for training and sampling.")
    seed: int = Field(0, ge=0, description="Seed for Python, NumPy and torch.")
    checkpoint_every: int = Field(50, ge=1, description="Save a checkpoint every this many epochs.")


class RebalanceSettings(Section):
    by: list[str] = Field(["ethnicity_group"], min_length=1, description="Mart columns whose groups (or their intersections) get target shares.")
    target: Literal["parity", "reference", "explicit"] = Field("parity", description="`parity` (equal shares), `reference` (shares from `reference_csv`) or `explicit` (`shares`).")
    reference_csv: str | None = Field(None, description="CSV with one column per `by` attribute and a `share` column, for target = reference.")
    shares: dict[str, float] = Field(default_factory=dict, description="Group -> share for target = explicit; intersections joined with ' x ' in `by` order.")
    mode: Literal["augment", "replace"] = Field("augment", description="`augment` adds synthetic rows to the real training rows; `replace` makes a fully synthetic set of `size` rows.")
    size: int | None = Field(None, ge=1, description="Rows of a `replace` dataset. Empty: as many as the real training rows.")
    within: str | None = Field("multimorbid = 1", description="Restrict rebalancing to this sub-population (`column = value`); rows outside keep their real shares. Empty: all rows.")
    min_group_rows: int = Field(30, ge=1, description="Warn when a group has fewer real rows than this.")
    allow_empty_groups: bool = Field(False, description="Generate groups that have no real rows at all.")
    seed: int = Field(0, ge=0, description="Seed for sampling from the generator.")


class DecodeSettings(Section):
    min_patients_per_code: int = Field(10, ge=1, description="k: an ICD-9 code is used in synthetic tables only if at least k distinct real training patients have it.")


class ValidateSettings(Section):
    quantile_tolerance: float = Field(0.15, ge=0, description="Allowed shift of a synthetic column's quantiles, as a share of the real interquartile range.")
    share_tolerance: float = Field(0.10, ge=0, le=1, description="Allowed absolute difference between a category's synthetic and real share.")


class EvaluateSettings(Section):
    min_subgroup_rows: int = Field(30, ge=1, description="Subgroups with fewer holdout rows are reported as too small to estimate.")
    bootstrap: int = Field(200, ge=10, description="Bootstrap resamples for 95% intervals.")
    seed: int = Field(0, ge=0, description="Seed for the bootstrap and the evaluation classifiers.")


class ExportSettings(Section):
    out: str = Field("releases", description="Folder that holds the release folders and index.csv.")
    version: str = Field("1.0.0", pattern=r"^\d+\.\d+\.\d+$", description="Semantic version of the next release.")
    gzip: bool = Field(False, description="Also write each table as .csv.gz.")
    max_membership_auc: float = Field(0.6, gt=0.5, le=1, description="Reject a release whose membership-inference AUC is above this.")
    dcr_tolerance: float = Field(0.1, ge=0, description="Reject when the synthetic 5th-percentile DCR is below the holdout one by more than this share.")
    creators: list[str] = Field(["equisynth user"], description="DataCite creators of the release (people or organisations).")
    publisher: str = Field("equisynth", description="DataCite publisher, usually the repository that hosts the release.")
    licence: str = Field("ODbL-1.0", description="Licence of the released files (derived from MIMIC-III).")


class Settings(Section):
    warehouse: WarehouseSettings = WarehouseSettings()
    data: DataSettings = DataSettings()
    build: BuildSettings = BuildSettings()
    split: SplitSettings = SplitSettings()
    train: TrainSettings = TrainSettings()
    rebalance: RebalanceSettings = RebalanceSettings()
    decode: DecodeSettings = DecodeSettings()
    validate_: ValidateSettings = Field(ValidateSettings(), alias="validate")
    evaluate: EvaluateSettings = EvaluateSettings()
    export: ExportSettings = ExportSettings()

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def format_validation_error(exc: ValidationError, source: str) -> str:
    """Turn pydantic's errors into lines that name the key, the value and what is allowed."""
    lines = [f"Invalid settings in {source}:"]
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"])
        value = error.get("input")
        if error["type"] == "extra_forbidden":
            lines.append(f"  {key}: unknown key. Run `equisynth init --force` to see every allowed key.")
        else:
            lines.append(f"  {key} = {value!r}: {error['msg']}.")
    return "\n".join(lines)


def load_settings(path: Path | str | None = None) -> Settings:
    """Read settings from `path`, else ./equisynth.toml when present, else the defaults."""
    if path is None:
        candidate = Path(CONFIG_FILE_NAME)
        if not candidate.exists():
            return Settings()
        path = candidate
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"Config file {path} not found. Create one with `equisynth init`.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"Config file {path} is not valid TOML: {exc}.") from exc
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, str(path))) from exc
