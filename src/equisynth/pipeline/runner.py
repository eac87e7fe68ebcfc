"""Run the pipeline steps in order, skipping those whose inputs have not changed."""

import logging
import shlex
import time
from dataclasses import dataclass, field
from pathlib import Path

from equisynth.errors import ConfigError, EquisynthError
from equisynth.pipeline import state
from equisynth.pipeline.context import PipelineContext
from equisynth.pipeline.steps import STEP_NAMES, STEPS, Step
from equisynth.warehouse import connect

log = logging.getLogger(__name__)


@dataclass
class StepOutcome:
    name: str
    title: str
    status: str  # "ran" or "skipped"
    seconds: float


@dataclass
class PipelineSummary:
    outcomes: list[StepOutcome] = field(default_factory=list)
    outputs: dict[str, dict] = field(default_factory=dict)


class StepFailed(EquisynthError):
    """A step raised: the message names the step, the cause and how to resume."""


def _resume_hint(step: str, ctx: PipelineContext) -> str:
    """Return the `equisynth run` command that repeats this run's options from `step` on."""
    parts = ["equisynth run"]
    if ctx.raw_dir is not None:
        parts.append(f"--raw {shlex.quote(str(ctx.raw_dir))}")
    if ctx.config_source != "defaults":
        parts.append(f"--config {shlex.quote(ctx.config_source)}")
    parts.extend(ctx.options)
    parts.append(f"--from {step}")
    return " ".join(parts)


def _outputs_still_exist(outputs: dict) -> bool:
    """False when a file or folder that a finished step wrote has since been removed."""
    for key in ("folder", "report", "release", "data_docs"):
        value = outputs.get(key)
        if value and not Path(value).exists():
            return False
    return True


def _fingerprint_for(step: Step, ctx: PipelineContext, upstream: str) -> str:
    return state.fingerprint(step.name, upstream, step.inputs(ctx))


def run_pipeline(
    ctx: PipelineContext,
    from_step: str | None = None,
    on_step_start=None,
    on_step_end=None,
) -> PipelineSummary:
    """Run every step after `from_step` (all when None), skipping finished ones with unchanged inputs.

    `on_step_start(step, index, total)` and `on_step_end(outcome)` let the command layer show
    progress. A failing step raises StepFailed; the steps finished before it stay recorded.
    """
    if from_step is not None and from_step not in STEP_NAMES:
        raise ConfigError(f"--from {from_step!r} is not a step. Steps, in order: {', '.join(STEP_NAMES)}.")

    forced = set(STEP_NAMES[STEP_NAMES.index(from_step):]) if from_step else set()
    summary = PipelineSummary(outputs=ctx.outputs)
    upstream = ""

    for index, step in enumerate(STEPS):
        if on_step_start:
            on_step_start(step, index, len(STEPS))

        try:
            current = _fingerprint_for(step, ctx, upstream)
            with connect(ctx.warehouse) as con:
                record = state.read_record(con, step.name)

            if (
                step.name not in forced
                and record is not None
                and record.fingerprint == current
                and _outputs_still_exist(record.outputs)
            ):
                ctx.outputs[step.name] = record.outputs
                outcome = StepOutcome(step.name, step.title, "skipped", 0.0)
                log.info("Step %s: inputs unchanged since %s, skipped", step.name, record.finished_at)
            else:
                started = time.perf_counter()
                ctx.outputs[step.name] = step.run(ctx)
                seconds = time.perf_counter() - started
                with connect(ctx.warehouse) as con:
                    state.write_record(
                        con, state.StepRecord(step.name, current, ctx.outputs[step.name], state.now_utc(), seconds)
                    )
                    # Everything after a step that ran must run again.
                    state.forget_from(con, list(STEP_NAMES[index + 1:]))
                outcome = StepOutcome(step.name, step.title, "ran", seconds)
        except StepFailed:
            raise
        except (Exception, KeyboardInterrupt) as exc:
            hint = _resume_hint(step.name, ctx)
            if isinstance(exc, KeyboardInterrupt):
                reason = "interrupted"
            elif isinstance(exc, EquisynthError):
                reason = str(exc)
            else:
                log.debug("Step %s failed", step.name, exc_info=True)
                reason = f"{type(exc).__name__}: {exc}"
            raise StepFailed(
                f"Step '{step.name}' ({step.title}) failed: {reason}\n"
                f"Steps before it are finished and kept. Fix the cause, then resume with: {hint}"
            ) from exc

        upstream = current
        summary.outcomes.append(outcome)
        if on_step_end:
            on_step_end(outcome)

    return summary
