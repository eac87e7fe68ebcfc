"""The release manifest: how a release was made, from which data, and what its checks found.

Small-cell rule: a count of real patients or admissions below k (decode.min_patients_per_code),
and the shares computed from it, are written as null with `suppressed: true`, so a release
never states that fewer than k real people share a trait.
"""

import datetime as dt
import decimal
import hashlib
import json
import logging
import subprocess
from pathlib import Path
from typing import Any

import duckdb

from equisynth import __version__
from equisynth.errors import NotFoundError
from equisynth.paths import PROJECT_ROOT
from equisynth.warehouse import table_exists

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.json"

# Columns of ml.model_runs copied into the manifest. artefact_path is left out: it is a path on
# the user's machine, not a property of the data.
MODEL_RUN_COLUMNS = (
    "run_id", "model", "params_json", "seed", "source_table", "source_fingerprint", "split_id",
    "device", "started_at", "wall_seconds", "final_losses_json", "status",
)
GENERATION_COLUMNS = (
    "generation_id", "run_id", "seed", "n_rows", "request_json", "rebalance_spec_json", "mode",
    "created_at", "code_fallbacks", "status",
)
LOCAL_PATH_SUFFIXES = ("_csv", "_path", "_file")
PLAN_COLUMNS = (
    "group_label", "attributes_json", "real_count", "real_share", "target_share", "synthetic_rows",
    "achieved_share", "warning",
)


def to_jsonable(value: Any) -> Any:
    """Convert DuckDB values (timestamps, decimals, JSON text in `*_json` columns) for json.dumps."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dict):
        return {key: to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    return value


def without_local_paths(value: Any) -> Any:
    """Replace file paths (keys ending in `_csv`, `_path`, `_file`) by their file names.

    A rebalancing spec can name a reference CSV by its path on the user's machine, which must
    not leave with a release.
    """
    if isinstance(value, dict):
        return {
            key: Path(item).name if isinstance(item, str) and key.endswith(LOCAL_PATH_SUFFIXES) else without_local_paths(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [without_local_paths(item) for item in value]
    return value


def parse_json_columns(record: dict) -> dict:
    """Replace `<name>_json` text columns with parsed `<name>` values, without local file paths."""
    parsed = {}
    for key, value in record.items():
        if key.endswith("_json"):
            loaded = json.loads(value) if isinstance(value, str) and value else None
            parsed[key.removesuffix("_json")] = without_local_paths(loaded)
        else:
            parsed[key] = to_jsonable(value)
    return parsed


def _fetch_records(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    cursor = con.execute(sql, params)
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def generation_record(con: duckdb.DuckDBPyConnection, generation_id: str) -> dict:
    """Return the ml.generations row of the generation, with JSON columns as text."""
    if not table_exists(con, "ml", "generations"):
        raise NotFoundError("Table ml.generations is not in the warehouse. Run `equisynth generate` first.")
    columns = ", ".join(GENERATION_COLUMNS)
    records = _fetch_records(con, f"select {columns} from ml.generations where generation_id = ?", [generation_id])
    if not records:
        raise NotFoundError(
            f"Generation {generation_id!r} is not in ml.generations. "
            "List generations with `select generation_id from ml.generations`."
        )
    return records[0]


def model_run_record(con: duckdb.DuckDBPyConnection, run_id: str) -> dict:
    if not table_exists(con, "ml", "model_runs"):
        raise NotFoundError("Table ml.model_runs is not in the warehouse. Run `equisynth train` first.")
    columns = ", ".join(MODEL_RUN_COLUMNS)
    records = _fetch_records(con, f"select {columns} from ml.model_runs where run_id = ?", [run_id])
    if not records:
        raise NotFoundError(f"Model run {run_id!r}, named by the generation, is not in ml.model_runs.")
    return records[0]


def rebalance_plan(con: duckdb.DuckDBPyConnection, generation_id: str, k: int) -> list[dict]:
    """Return the rebalancing plan of the generation, with real counts below k suppressed."""
    if not table_exists(con, "ml", "rebalance_plans"):
        return []
    columns = ", ".join(PLAN_COLUMNS)
    records = _fetch_records(
        con, f"select {columns} from ml.rebalance_plans where generation_id = ? order by group_label", [generation_id]
    )

    plan = []
    for record in records:
        item = parse_json_columns(record)
        suppressed = item["real_count"] is not None and item["real_count"] < k
        if suppressed:
            # NOTE: no complementary suppression; a suppressed count may be recoverable from the others.
            item.update(real_count=None, real_share=None, achieved_share=None)
        item["suppressed"] = suppressed
        plan.append(item)
    return plan


def source_data(con: duckdb.DuckDBPyConnection) -> dict:
    """Describe the loaded MIMIC-III files by SHA-256, without their paths on this machine.

    The fingerprint is the SHA-256 of the sorted `table_name sha256` lines of the latest load
    of each table, so the same CSVs give the same fingerprint on any machine. Tables the loader
    created empty because their file was absent have no SHA-256 and are left out.
    """
    if not table_exists(con, "raw", "load_manifest"):
        raise NotFoundError("Table raw.load_manifest is not in the warehouse. Run `equisynth load --raw DIR` first.")
    records = _fetch_records(
        con,
        """
        select table_name, arg_max(file, loaded_at) as file, arg_max(sha256, loaded_at) as sha256,
               arg_max(rows, loaded_at) as rows, arg_max(bytes, loaded_at) as bytes,
               arg_max(source_form, loaded_at) as source_form
        from raw.load_manifest
        where sha256 is not null
        group by table_name
        order by table_name
        """,
        [],
    )
    lines = "".join(f"{record['table_name']} {record['sha256']}\n" for record in records)
    return {
        "source_form": records[0]["source_form"] if records else None,
        "fingerprint": hashlib.sha256(lines.encode("utf-8")).hexdigest(),
        "tables": [
            {
                "table_name": record["table_name"],
                "file": Path(str(record["file"])).name,
                "sha256": record["sha256"],
                "rows": record["rows"],
                "bytes": record["bytes"],
            }
            for record in records
        ],
    }


def evaluation_summary(con: duckdb.DuckDBPyConnection, generation_id: str, k: int) -> dict:
    """Return the latest value of every evaluation metric, leaving out subgroups too small to estimate."""
    if not table_exists(con, "quality", "evaluation_metrics"):
        return {"evaluated": False, "metrics": [], "omitted_too_small": 0}

    records = _fetch_records(
        con,
        """
        with latest as (
            select *, row_number() over (
                partition by area, metric, subgroup order by evaluated_at desc
            ) as recency
            from quality.evaluation_metrics
            where generation_id = ?
        )

        select area, metric, subgroup, value, ci_low, ci_high, n, too_small, evaluated_at
        from latest
        where recency = 1
        order by area, metric, subgroup = 'overall' desc, subgroup
        """,
        [generation_id],
    )

    metrics = []
    omitted = 0
    for record in records:
        if record["too_small"]:
            omitted += 1
            continue
        item = {key: to_jsonable(record[key]) for key in ("area", "metric", "subgroup", "value", "ci_low", "ci_high", "n")}
        if item["n"] is not None and item["n"] < k:
            item["n"] = None
        metrics.append(item)

    evaluated_at = max((record["evaluated_at"] for record in records if record["evaluated_at"]), default=None)
    return {
        "evaluated": bool(records),
        "evaluated_at": to_jsonable(evaluated_at),
        "metrics": metrics,
        "omitted_too_small": omitted,
    }


def git_commit() -> str:
    """Return the commit of the equisynth source tree, or "unknown" outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10, check=True
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    commit = result.stdout.strip()
    return commit if len(commit) == 40 else "unknown"


def software() -> dict:
    return {"equisynth_version": __version__, "git_commit": git_commit()}


def write_json(path: Path, data: dict) -> None:
    path.write_text(json.dumps(to_jsonable(data), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")

