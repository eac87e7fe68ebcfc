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
    table: str = Field("mm_admission_features", description="Mart (in schema main) that the generators learn from; its column roles come from its dbt yml.")
    epochs: int | None = Field(None, ge=1, description="Training epochs. Empty: `epochs` of the [gan] or [diffusion] section.")
    batch_size: int = Field(500, ge=2, description="Rows per training batch.")
    lr: float | None = Field(None, gt=0, description="Learning rate. Empty: `lr` of the [gan] or [diffusion] section.")
    device: Literal["cpu", "cuda"] = Field("cpu", description="Torch device for training and sampling.")
    seed: int = Field(0, ge=0, description="Seed for Python, NumPy and torch.")
    checkpoint_every: int = Field(50, ge=1, description="Save a checkpoint every this many epochs.")
    threads: int | None = Field(None, ge=1, description="CPU threads for torch. Empty: half the CPU cores (at least 1, at most 8).")


class GanSettings(Section):
    epochs: int = Field(50, ge=1, description="Default training epochs of the GAN (about 1 s of CPU per epoch on 3,000 rows at batch 500).")
    lr: float = Field(2e-4, gt=0, description="Adam learning rate of generator and discriminator.")
    pac: int = Field(10, ge=1, description="Rows the discriminator scores together (PacGAN); the batch size is rounded down to a multiple.")
    noise_dim: int = Field(128, ge=1, description="Size of the generator's noise vector.")
    embedding_dim: int = Field(8, ge=1, description="Size of the embedding of each condition attribute.")
    generator_dims: list[int] = Field([256, 256], min_length=1, description="Widths of the generator's residual layers.")
    discriminator_dims: list[int] = Field([256, 256], min_length=1, description="Widths of the discriminator's layers.")
    discriminator_steps: int = Field(1, ge=1, description="Discriminator updates per generator update.")
    gradient_penalty: float = Field(10.0, ge=0, description="Weight of the WGAN-GP gradient penalty.")
    penalty_every: int = Field(4, ge=1, description="Compute the gradient penalty on every this many discriminator steps, with its weight multiplied by as much (lazy regularisation); 1: every step.")


class DiffusionSettings(Section):
    epochs: int = Field(200, ge=1, description="Default training epochs of the diffusion model (about 0.2 s of CPU per epoch on 3,000 rows at batch 500).")
    lr: float = Field(1e-3, gt=0, description="AdamW learning rate of the denoiser.")
    timesteps: int = Field(1000, ge=2, description="Diffusion steps of the cosine noise schedule.")
    sampling_steps: int = Field(50, ge=1, description="Denoising steps when sampling (strided over `timesteps`); fewer is faster.")
    guidance_scale: float = Field(1.0, ge=0, description="Classifier-free guidance: 1 is the plain conditional model, above 1 strengthens the conditions.")
    condition_dropout: float = Field(0.1, ge=0, lt=1, description="Share of training rows whose conditions are dropped, to learn the unconditional model for guidance.")
    embedding_dim: int = Field(128, ge=2, description="Size of the timestep and condition embeddings.")
    hidden_dims: list[int] = Field([256, 256, 256], min_length=1, description="Widths of the denoiser's MLP layers.")
    validation_fraction: float = Field(0.1, ge=0, lt=1, description="Share of the training patients held back from fitting; training stops when their loss has not fallen for `patience` epochs, keeping the best epoch. 0: train all epochs.")
    patience: int = Field(30, ge=1, description="Epochs without a lower held-back loss before training stops.")


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
    quantile_tolerance: float = Field(0.15, ge=0, description="Smallest allowed shift of a synthetic column's quartiles, as a share of the real interquartile range; sampling error (see z) can widen it.")
    share_tolerance: float = Field(0.10, ge=0, le=1, description="Smallest allowed absolute difference between a category's synthetic and real share; sampling error (see z) can widen it.")
    z: float = Field(3.0, gt=0, description="Minimum number of standard errors of sampling (of the real reference and of the synthetic rows) that a synthetic share or quartile may differ by.")
    false_alarm_rate: float = Field(0.05, gt=0, lt=1, description="Chance that a generator drawing from the real distribution fails any sampling-error margin; z is raised to meet it over all the shares and quartiles checked (Bonferroni).")


class EvaluateSettings(Section):
    min_subgroup_rows: int = Field(30, ge=1, description="Subgroups with fewer holdout rows are reported as too small to estimate.")
    bootstrap: int = Field(200, ge=10, description="Bootstrap resamples for 95% intervals.")
    seed: int = Field(0, ge=0, description="Seed for the bootstrap and the evaluation classifiers.")
    conditions: list[str] = Field(["ethnicity_group", "insurance", "gender", "age_band", "multimorbid"], min_length=1, description="Mart columns whose values define the evaluated subgroups.")
    max_intersection: int = Field(2, ge=1, le=3, description="Largest number of condition columns combined into one intersectional subgroup.")
    sensitive_column: str = Field("elix_drug_abuse", description="Column that the attribute-inference attack tries to guess.")
    quasi_identifiers: list[str] = Field(["age", "gender", "ethnicity_group", "insurance", "marital_status", "admission_type"], min_length=1, description="Columns an attacker is assumed to know about a patient, for the attribute-inference attack.")


class ExportSettings(Section):
    out: str = Field("releases", description="Folder that holds the release folders and index.csv.")
    version: str = Field("1.0.0", pattern=r"^\d+\.\d+\.\d+$", description="Semantic version of the next release.")
    gzip: bool = Field(False, description="Also write each table as .csv.gz.")
    max_membership_auc: float = Field(0.6, gt=0.5, le=1, description="Reject a release whose membership-inference AUC is above this.")
    dcr_tolerance: float = Field(0.1, ge=0, description="Reject when the synthetic 5th-percentile DCR is below the holdout one by more than this share.")
    creators: list[str] = Field(["equisynth user"], description="DataCite creators of the release (people or organisations).")
    publisher: str = Field("equisynth", description="DataCite publisher, usually the repository that hosts the release.")
    licence: str = Field("ODbL-1.0", description="Licence of the released files (derived from MIMIC-III).")
    waiver: str | None = Field(None, description="Export even when release checks fail, recording this reason in the manifest and data card. Empty: refuse such a release.")
    title: str = Field(
        "Synthetic multimorbidity admissions derived from {dataset_description}: {generator} generator, {rebalancing}",
        description="DataCite and data card title. Placeholders: {dataset}, {dataset_description}, {generator}, {rebalancing}, {version}, {name}.",
    )


class Settings(Section):
    warehouse: WarehouseSettings = WarehouseSettings()
    data: DataSettings = DataSettings()
    build: BuildSettings = BuildSettings()
    split: SplitSettings = SplitSettings()
    train: TrainSettings = TrainSettings()
    gan: GanSettings = GanSettings()
    diffusion: DiffusionSettings = DiffusionSettings()
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
            lines.append(f"  {key}: unknown key. Run `equisynth init --path equisynth.example.toml` to see every allowed key.")
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
