"""Run the dbt project (staging, intermediate, marts and their tests) on a warehouse through dbtRunner.

`build` runs `dbt build` for the real data (sources in schema `raw`, models in `main`) or for one
synthetic generation (sources and models in schema `synthetic_<generation>`), and turns dbt's
results into a `BuildReport`. dbt writes its target and log folders under `<warehouse dir>/dbt/`,
so parallel builds of different warehouses never share them.
"""

import json
import logging
import os
import re
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from equisynth.errors import ConfigError, EquisynthError, NotFoundError
from equisynth.paths import DBT_PROJECT_DIR, WAREHOUSE_ENV_VAR, warehouse_path
from equisynth.warehouse import connect, table_exists

log = logging.getLogger(__name__)

GENERATION_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{2,40}$")

# Tables every build reads; a real build also stages the remaining raw tables.
CORE_TABLES = ("patients", "admissions", "diagnoses_icd", "d_icd_diagnoses", "icustays")
REAL_ONLY_TABLES = ("procedures_icd", "d_icd_procedures", "prescriptions", "services", "transfers")

# dbt's per-node statuses, folded into the three outcomes a report counts.
OUTCOMES = {
    "success": "pass",
    "pass": "pass",
    "warn": "warn",
    "fail": "fail",
    "error": "fail",
    "runtime error": "fail",
    "skipped": "skip",
    "no-op": "pass",
}


@dataclass
class NodeResult:
    """Outcome of one dbt node (model, test or seed) in a build."""

    unique_id: str
    name: str
    resource_type: str
    outcome: str
    message: str
    failures: int | None
    seconds: float


@dataclass
class BuildReport:
    """Counts per resource type and outcome, and the nodes that failed or warned."""

    warehouse: Path
    generation: str | None
    target_path: Path
    log_path: Path
    seconds: float
    nodes: list[NodeResult] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, dict[str, int]]:
        """Resource type ('model', 'test', 'seed') -> outcome ('pass', 'warn', 'fail', 'skip') -> nodes."""
        counted: dict[str, Counter] = {}
        for node in self.nodes:
            counted.setdefault(node.resource_type, Counter())[node.outcome] += 1
        return {kind: dict(counter) for kind, counter in counted.items()}

    @property
    def failed(self) -> list[NodeResult]:
        return [node for node in self.nodes if node.outcome == "fail"]

    @property
    def warned(self) -> list[NodeResult]:
        return [node for node in self.nodes if node.outcome == "warn"]

    @property
    def skipped(self) -> list[NodeResult]:
        return [node for node in self.nodes if node.outcome == "skip"]

    @property
    def success(self) -> bool:
        return not self.failed and not self.skipped

    def summary_line(self) -> str:
        """One line per build, e.g. 'model 29 pass; seed 8 pass; test 318 pass, 1 warn (41.2 s)'."""
        parts = []
        for resource_type, outcomes in sorted(self.counts.items()):
            counted = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
            parts.append(f"{resource_type} {counted}")
        return f"{'; '.join(parts)} ({self.seconds:.1f} s)"


class BuildError(EquisynthError):
    """A dbt build with failing models or tests; `report` contains every node's outcome."""

    def __init__(self, message: str, report: BuildReport):
        super().__init__(message)
        self.report = report


def build(
    warehouse: Path | None = None,
    generation: str | None = None,
    select: str | None = None,
    skip_first_diagnosis: bool = False,
    on_node_finished: Callable[[NodeResult], None] | None = None,
    on_start: Callable[[int], None] | None = None,
) -> BuildReport:
    """Run `dbt build` on the warehouse and return the report; raise BuildError when a node fails.

    `generation` builds over schema synthetic_<generation> into that schema; `select` is a dbt
    selection (space-separated, as after `dbt build --select`). `on_start` receives the number of
    nodes to run and `on_node_finished` each finished node, for progress displays.
    """
    resolved = warehouse_path(warehouse)
    check_generation_id(generation)
    check_source_tables(resolved, generation)

    target_path, log_path = dbt_paths(resolved, generation)
    dbt_vars = {"generation": generation, "skip_first_diagnosis": bool(skip_first_diagnosis)}
    args = ["build", "--vars", json.dumps(dbt_vars), *common_args(target_path, log_path)]
    if select:
        # "buildable": run a test only when every model it reads is selected or an ancestor of
        # the selection, so a partial build never tests tables that it did not (re)build.
        args += ["--select", *select.split(), "--indirect-selection", "buildable"]

    log.info(
        "dbt build on %s (%s)%s",
        resolved,
        f"generation {generation}" if generation else "real data",
        f", select {select}" if select else "",
    )
    started = time.perf_counter()
    result = invoke(args, resolved, event_callback(on_start, on_node_finished))
    seconds = time.perf_counter() - started

    report = BuildReport(
        warehouse=resolved,
        generation=generation,
        target_path=target_path,
        log_path=log_path,
        seconds=seconds,
        nodes=[node_result(item) for item in run_results(result)],
    )
    log.info("dbt build finished in %.1f s: %s", seconds, report.counts)

    if result.exception is not None and not report.nodes:
        raise EquisynthError(
            f"dbt could not build the project in {DBT_PROJECT_DIR} on warehouse {resolved}: "
            f"{one_line(str(result.exception))}. See {log_path / 'dbt.log'} for details."
        )
    if not report.success:
        raise BuildError(failure_message(report, select), report)
    return report


def docs_generate(warehouse: Path | None = None, generation: str | None = None) -> Path:
    """Write dbt's documentation site (lineage from the sources to the marts); return its folder.

    Run after `build`, because the catalog is read from the built warehouse.
    """
    resolved = warehouse_path(warehouse)
    check_generation_id(generation)
    if not resolved.exists():
        raise NotFoundError(f"Warehouse {resolved} does not exist. Run `equisynth load --raw DIR` first.")

    target_path, log_path = dbt_paths(resolved, generation)
    dbt_vars = {"generation": generation}
    args = ["docs", "generate", "--vars", json.dumps(dbt_vars), *common_args(target_path, log_path)]
    result = invoke(args, resolved, None)
    if not result.success:
        detail = one_line(str(result.exception)) if result.exception else "see the log"
        raise EquisynthError(
            f"dbt docs generate failed on warehouse {resolved}: {detail}. "
            f"Log: {log_path / 'dbt.log'}. Build the warehouse first with `equisynth build`."
        )
    log.info("dbt docs written to %s", target_path)
    return target_path


def check_generation_id(generation: str | None) -> None:
    if generation is not None and not GENERATION_ID_PATTERN.match(generation):
        raise ConfigError(
            f"Invalid generation id {generation!r}: use 3 to 41 lower-case letters, digits or "
            "underscores, starting with a letter (it becomes part of the schema name synthetic_<id>)."
        )


def check_source_tables(warehouse: Path, generation: str | None) -> None:
    """Raise NotFoundError naming the first source table the build needs that is missing."""
    schema = f"synthetic_{generation}" if generation else "raw"
    needed = CORE_TABLES if generation else CORE_TABLES + REAL_ONLY_TABLES
    if generation:
        hint = f"Decode generation {generation} first, or check the id with `select generation_id from ml.generations`."
    else:
        hint = "Load MIMIC-III first with `equisynth load --raw DIR`."

    if not warehouse.exists():
        raise NotFoundError(f"Warehouse {warehouse} does not exist. {hint}")
    with connect(warehouse, read_only=True) as con:
        missing = [table for table in needed if not table_exists(con, schema, table)]
    if missing:
        raise NotFoundError(
            f"Table {schema}.{missing[0]} is not in warehouse {warehouse} "
            f"(missing: {', '.join(missing)}). {hint}"
        )


def dbt_paths(warehouse: Path, generation: str | None) -> tuple[Path, Path]:
    """Target and log folders of dbt for this warehouse: <warehouse dir>/dbt/target[_<generation>], .../logs."""
    dbt_dir = warehouse.parent / "dbt"
    target = dbt_dir / (f"target_{generation}" if generation else "target")
    return target, dbt_dir / "logs"


def common_args(target_path: Path, log_path: Path) -> list[str]:
    return [
        "--project-dir", str(DBT_PROJECT_DIR),
        "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target-path", str(target_path),
        "--log-path", str(log_path),
        "--quiet",
    ]


@contextmanager
def dbt_environment(warehouse: Path) -> Iterator[None]:
    """Set the variables the dbt profile and dbt itself read, and restore them afterwards."""
    wanted = {WAREHOUSE_ENV_VAR: str(warehouse), "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    previous = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def invoke(args: list[str], warehouse: Path, callback: Callable | None):
    from dbt.cli.main import dbtRunner

    warehouse.parent.mkdir(parents=True, exist_ok=True)
    runner = dbtRunner(callbacks=[callback] if callback else None)
    with dbt_environment(warehouse):
        try:
            return runner.invoke(args)
        finally:
            release_duckdb_connection()


def release_duckdb_connection() -> None:
    """Close the DuckDB connection that dbt-duckdb keeps open in this process after a command.

    Without this the warehouse file stays open (read-write) until the process exits, so the
    same process cannot reopen it read-only and other processes cannot open it at all.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    # NOTE: `_ENV` and `_LOCK` are private to dbt-duckdb (checked against 1.11.1); the public
    # close_all_connections() drops the environment without closing its connection.
    with DuckDBConnectionManager._LOCK:
        environment = DuckDBConnectionManager._ENV
        DuckDBConnectionManager._ENV = None
    if environment is not None:
        environment.close()


def event_callback(
    on_start: Callable[[int], None] | None,
    on_node_finished: Callable[[NodeResult], None] | None,
) -> Callable | None:
    """A dbt event callback that reports the node count and each finished node."""
    if on_start is None and on_node_finished is None:
        return None

    def callback(event) -> None:
        name = event.info.name
        if name == "ConcurrencyLine" and on_start is not None:
            on_start(int(event.data.node_count))
        elif name == "NodeFinished" and on_node_finished is not None:
            data = event.data
            node = data.node_info
            resource_type = node.resource_type
            status = (data.run_result.status or node.node_status or "").lower()
            on_node_finished(
                NodeResult(
                    unique_id=node.unique_id,
                    name=node.node_name,
                    resource_type=resource_type,
                    outcome=OUTCOMES.get(status, "fail"),
                    message=data.run_result.message or "",
                    failures=data.run_result.num_failures or None,
                    seconds=float(data.run_result.execution_time or 0.0),
                )
            )

    return callback


def run_results(result) -> list:
    execution = result.result
    return list(getattr(execution, "results", None) or [])


def node_result(item) -> NodeResult:
    node = item.node
    status = str(getattr(item.status, "value", item.status)).lower()
    return NodeResult(
        unique_id=node.unique_id,
        name=node.name,
        resource_type=str(getattr(node.resource_type, "value", node.resource_type)),
        outcome=OUTCOMES.get(status, "fail"),
        message=one_line(item.message or ""),
        failures=item.failures,
        seconds=float(item.execution_time or 0.0),
    )


def failure_message(report: BuildReport, select: str | None) -> str:
    """Build the error message: the failing nodes, dbt's messages and the commands to inspect them."""
    failed = report.failed
    lines = [f"dbt build failed on warehouse {report.warehouse}: {len(failed)} node(s) failed, {len(report.skipped)} skipped."]
    for node in failed[:10]:
        lines.append(f"  {node.resource_type} {node.name}: {node.message}")
    if len(failed) > 10:
        lines.append(f"  ... and {len(failed) - 10} more")

    names = " ".join(node.name for node in failed[:3]) or (select or "")
    vars_text = f" --vars '{{generation: {report.generation}}}'" if report.generation else ""
    lines.append(
        f"Inspect: compiled SQL under {report.target_path / 'compiled'}, log {report.log_path / 'dbt.log'}; "
        f"rerun with `cd {DBT_PROJECT_DIR} && {WAREHOUSE_ENV_VAR}={report.warehouse} dbt build{vars_text} "
        f"--select {names} --store-failures` and query the failing rows in schema dbt_test__audit."
    )
    return "\n".join(lines)


def one_line(text: str) -> str:
    return " ".join(text.split())
