"""`validate`: run the suites for real tables, a generation or one table, and record the results."""

import logging
import uuid
from datetime import datetime, timezone
from pathlib import Path

from equisynth.config import Settings, ValidateSettings
from equisynth.errors import EquisynthError
from equisynth.paths import reports_dir, warehouse_path
from equisynth.validation import runner, targets
from equisynth.validation.results import ValidationSummary, write_results
from equisynth.warehouse import connect

log = logging.getLogger(__name__)


def new_validation_id(run_time: datetime) -> str:
    return f"val_{run_time:%Y%m%dT%H%M%S}_{uuid.uuid4().hex[:8]}"


def validate(
    warehouse: Path | str | None = None,
    real: bool = False,
    generation: str | None = None,
    table: str | None = None,
    settings: Settings | ValidateSettings | None = None,
    progress: bool = True,
) -> ValidationSummary:
    """Validate the real raw tables and mart (`real`), a generation's tables, or one `schema.table`.

    Writes one row per expectation result to quality.validation_results (and the distribution
    bounds of a generation to quality.distribution_bounds), and updates the Data Docs under
    `<warehouse dir>/reports/data_docs/`. Raises EquisynthError when the tables are missing;
    failed expectations are reported in the returned summary, not raised. `settings` gives the
    tolerances of the distribution bounds (the `[validate]` section or the whole settings).
    """
    chosen = [name for name, value in (("real", real), ("generation", generation), ("table", table)) if value]
    if len(chosen) != 1:
        raise EquisynthError("Choose exactly one of --real, --generation ID or --table NAME.")
    if isinstance(settings, Settings):
        settings = settings.validate_
    settings = settings or ValidateSettings()
    path = warehouse_path(warehouse)
    run_time = datetime.now(timezone.utc).replace(tzinfo=None)
    validation_id = new_validation_id(run_time)
    skipped: dict[str, str] = {}

    with connect(path) as con:
        bounds: list[dict] = []
        if real:
            specs = targets.raw_specs(con, skipped) + [targets.mart_spec(con)]
        elif generation:
            specs, bounds = targets.synthetic_specs(con, generation, settings)
        else:
            specs, bounds = targets.table_specs(con, table, settings)

        outcomes, docs_index = runner.run_suites(con, specs, reports_dir(path), progress=progress)
        write_results(con, validation_id, outcomes, run_time, bounds)

    failures = [outcome for outcome in outcomes if not outcome.success]
    log.info(
        "Validation %s: %d expectations on %d tables, %d failed.", validation_id, len(outcomes), len(specs), len(failures)
    )
    return ValidationSummary(
        validation_id=validation_id,
        success=not failures,
        evaluated=len(outcomes),
        failed=len(failures),
        tables=[spec.table_name for spec in specs],
        failures=failures,
        data_docs_path=docs_index,
        skipped_tables=skipped,
    )
