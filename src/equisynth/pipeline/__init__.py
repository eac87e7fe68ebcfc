"""`equisynth run`: every step from raw CSVs to a validated, evaluated synthetic release."""

from equisynth.pipeline.runner import PipelineSummary, run_pipeline
from equisynth.pipeline.steps import STEP_NAMES

__all__ = ["PipelineSummary", "STEP_NAMES", "run_pipeline"]
