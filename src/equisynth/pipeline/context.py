"""Pipeline context: the settings, the warehouse and the outputs of earlier steps, shared by every step."""

from dataclasses import dataclass, field
from pathlib import Path

from equisynth.config import Settings


@dataclass
class PipelineContext:
    settings: Settings
    warehouse: Path
    raw_dir: Path | None
    config_source: str
    options: list[str] = field(default_factory=list)  # command-line overrides, as "--name value"
    outputs: dict[str, dict] = field(default_factory=dict)

    @property
    def uses_builtin_sample(self) -> bool:
        return self.raw_dir is None

    def output(self, step: str, key: str):
        """Return a value produced by an earlier step, e.g. output("train", "run_id")."""
        return self.outputs[step][key]
