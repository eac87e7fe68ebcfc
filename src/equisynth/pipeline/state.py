"""Finished pipeline steps, stored in the warehouse so that a re-run can skip them.

A step is skipped when its stored fingerprint equals the one computed now. Each fingerprint
covers the step's settings and the fingerprint of the step before it, so a change anywhere
upstream re-runs everything after it.
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

import duckdb

STATE_TABLE = "ml.pipeline_steps"


@dataclass
class StepRecord:
    step: str
    fingerprint: str
    outputs: dict
    finished_at: datetime
    seconds: float


def fingerprint(*parts) -> str:
    """SHA-256 over the JSON of the parts, with sorted keys so the order of settings does not matter."""
    payload = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def ensure_state_table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists ml")
    con.execute(
        f"""
        create table if not exists {STATE_TABLE} (
            step varchar primary key,
            fingerprint varchar not null,
            outputs_json varchar not null,
            finished_at timestamp not null,
            seconds double not null
        )
        """
    )


def read_record(con: duckdb.DuckDBPyConnection, step: str) -> StepRecord | None:
    ensure_state_table(con)
    row = con.execute(
        f"select step, fingerprint, outputs_json, finished_at, seconds from {STATE_TABLE} where step = ?",
        [step],
    ).fetchone()
    if row is None:
        return None
    return StepRecord(row[0], row[1], json.loads(row[2]), row[3], row[4])


def write_record(con: duckdb.DuckDBPyConnection, record: StepRecord) -> None:
    ensure_state_table(con)
    con.execute(f"delete from {STATE_TABLE} where step = ?", [record.step])
    con.execute(
        f"insert into {STATE_TABLE} values (?, ?, ?, ?, ?)",
        [
            record.step,
            record.fingerprint,
            json.dumps(record.outputs, sort_keys=True, default=str),
            record.finished_at,
            record.seconds,
        ],
    )


def forget_from(con: duckdb.DuckDBPyConnection, steps: list[str]) -> None:
    """Drop the records of these steps so that they run again."""
    ensure_state_table(con)
    for step in steps:
        con.execute(f"delete from {STATE_TABLE} where step = ?", [step])


def now_utc() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)
