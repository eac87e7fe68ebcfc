"""Deterministic train/holdout split of a mart by patient, recorded in `ml.splits`.

Splitting by patient (not by admission) keeps every admission of a holdout patient out of
training, so evaluation on the holdout measures generalisation, not memorised patients. The split
id is a digest of the table, its patient ids, the fraction and the seed: the same mart gets the
same split back, and a mart with other patients gets a new one.
"""

from __future__ import annotations

import hashlib
import logging

import duckdb
import numpy as np
import pandas as pd

from equisynth.errors import InputDataError, NotFoundError
from equisynth.warehouse import require_table, table_exists

log = logging.getLogger(__name__)

DEFAULT_TABLE = "mm_admission_features"

SPLITS_DDL = """
create table if not exists ml.splits (
    split_id varchar not null,
    subject_id bigint not null,
    part varchar not null,
    holdout_fraction double not null,
    seed bigint not null,
    created_at timestamp not null
)
"""


def ensure_split(con: duckdb.DuckDBPyConnection, holdout_fraction: float = 0.2, seed: int = 0, table: str = DEFAULT_TABLE) -> str:
    """Return the split id of `main.<table>`, creating the split in `ml.splits` on first use."""
    if not 0 < holdout_fraction < 1:
        raise InputDataError(f"Holdout fraction {holdout_fraction} must be between 0 and 1 (exclusive).")
    require_table(con, "main", table, "Build the marts first with `equisynth build`.")
    subjects = [row[0] for row in con.execute(f'select distinct subject_id from main."{table}" where subject_id is not null order by 1').fetchall()]
    if len(subjects) < 2:
        raise InputDataError(f"Table main.{table} has {len(subjects)} patient(s); a train/holdout split needs at least 2.")

    digest = hashlib.sha256(f"{table}|{holdout_fraction!r}|{seed}|{','.join(map(str, subjects))}".encode()).hexdigest()
    split_id = f"split_{digest[:12]}"
    con.execute("create schema if not exists ml")
    con.execute(SPLITS_DDL)
    if con.execute("select count(*) from ml.splits where split_id = ?", [split_id]).fetchone()[0]:
        log.info("reusing split %s of main.%s", split_id, table)
        return split_id

    n_holdout = int(min(len(subjects) - 1, max(1, round(holdout_fraction * len(subjects)))))
    order = np.random.default_rng(seed).permutation(len(subjects))
    holdout = np.zeros(len(subjects), dtype=bool)
    holdout[order[:n_holdout]] = True
    frame = pd.DataFrame({
        "split_id": split_id,
        "subject_id": np.asarray(subjects, dtype=np.int64),
        "part": np.where(holdout, "holdout", "train"),
        "holdout_fraction": float(holdout_fraction),
        "seed": int(seed),
    })
    con.execute("begin transaction")
    try:
        con.execute("insert into ml.splits select split_id, subject_id, part, holdout_fraction, seed, current_timestamp from frame")
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    log.info("created split %s of main.%s: %d training and %d holdout patients", split_id, table, len(subjects) - n_holdout, n_holdout)
    return split_id


def _rows(con: duckdb.DuckDBPyConnection, split_id: str, part: str, table: str) -> pd.DataFrame:
    if not table_exists(con, "ml", "splits") or not con.execute("select count(*) from ml.splits where split_id = ?", [split_id]).fetchone()[0]:
        raise NotFoundError(f"Split {split_id} is not in ml.splits. Train a model to create the split of the mart.")
    return con.execute(
        f'select t.* from main."{table}" t join ml.splits s on s.subject_id = t.subject_id '
        "where s.split_id = ? and s.part = ? order by t.hadm_id",
        [split_id, part],
    ).df()


def training_rows(con: duckdb.DuckDBPyConnection, split_id: str, table: str = DEFAULT_TABLE) -> pd.DataFrame:
    """Rows of `main.<table>` whose patients are in the training part of the split, ordered by hadm_id."""
    return _rows(con, split_id, "train", table)


def holdout_rows(con: duckdb.DuckDBPyConnection, split_id: str, table: str = DEFAULT_TABLE) -> pd.DataFrame:
    """Rows of `main.<table>` whose patients are held out, ordered by hadm_id."""
    return _rows(con, split_id, "holdout", table)
