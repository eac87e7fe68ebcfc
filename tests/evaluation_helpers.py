"""Invented mart-like rows and column roles for the evaluation tests (no MIMIC-III values)."""

import numpy as np
import pandas as pd

from models_ml.table_schema import ColumnSpec, TableSchema

FLAGS = ["elix_chf", "elix_renal_failure", "elix_diabetes_uncomplicated", "elix_depression", "elix_drug_abuse"]

SCHEMA = TableSchema(
    model="mm_admission_features",
    columns=(
        ColumnSpec("subject_id", "id"),
        ColumnSpec("hadm_id", "id"),
        ColumnSpec("age", "continuous"),
        ColumnSpec("age_band", "categorical", condition=True, derived=True),
        ColumnSpec("gender", "categorical", condition=True),
        ColumnSpec("ethnicity_group", "categorical", condition=True),
        ColumnSpec("insurance", "categorical", condition=True),
        ColumnSpec("admission_type", "categorical"),
        ColumnSpec("los_hospital_days", "continuous"),
        ColumnSpec("icu_stays", "count"),
        ColumnSpec("hospital_expire_flag", "binary"),
        ColumnSpec("readmit_30d", "binary"),
        *(ColumnSpec(flag, "binary", condition_flag="elixhauser") for flag in FLAGS),
        ColumnSpec("elixhauser_count", "count", derived=True),
        ColumnSpec("multimorbid", "binary", condition=True, derived=True),
    ),
)


def make_rows(n: int, seed: int, first_subject: int = 1) -> pd.DataFrame:
    """`n` invented admissions whose outcomes depend on age and conditions, one per subject."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 91, n)
    flags = {flag: (rng.random(n) < p).astype(int) for flag, p in zip(FLAGS, [0.3, 0.25, 0.3, 0.2, 0.1])}
    count = sum(flags.values())
    risk = -3 + 0.03 * (age - 50) + 0.8 * flags["elix_chf"] + 0.6 * flags["elix_renal_failure"]
    frame = pd.DataFrame({
        "subject_id": np.arange(first_subject, first_subject + n),
        "hadm_id": np.arange(first_subject, first_subject + n) + 100000,
        "age": age,
        "age_band": pd.cut(age, [0, 17, 44, 64, 79, 200], labels=["0-17", "18-44", "45-64", "65-79", "80+"]).astype(str),
        "gender": rng.choice(["F", "M"], n),
        "ethnicity_group": rng.choice(["WHITE", "BLACK", "HISPANIC"], n, p=[0.7, 0.2, 0.1]),
        "insurance": rng.choice(["Medicare", "Private", "Medicaid"], n, p=[0.5, 0.3, 0.2]),
        "admission_type": rng.choice(["EMERGENCY", "ELECTIVE"], n, p=[0.8, 0.2]),
        "los_hospital_days": np.round(rng.gamma(2.0, 3.0, n), 3),
        "icu_stays": rng.poisson(0.8, n),
        "hospital_expire_flag": (rng.random(n) < 1 / (1 + np.exp(-risk))).astype(int),
        "readmit_30d": (rng.random(n) < 1 / (1 + np.exp(-(risk + 0.5)))).astype(int),
        **flags,
    })
    frame["elixhauser_count"] = count
    frame["multimorbid"] = (count >= 2).astype(int)
    return frame


def build_warehouse(path, n_train: int = 240, n_holdout: int = 80, n_synthetic: int = 240,
                    generation_id: str = "gen_test", copy_training: bool = False) -> None:
    """A warehouse with an invented real mart, a split, one generation and its synthetic mart and plan."""
    import json

    import duckdb

    train = make_rows(n_train, 0, first_subject=1)
    holdout = make_rows(n_holdout, 1, first_subject=10_000)
    synthetic = train.copy() if copy_training else make_rows(n_synthetic, 2, first_subject=20_000)
    real = pd.concat([train, holdout], ignore_index=True)
    splits = pd.DataFrame({
        "split_id": "split_test",
        "subject_id": real["subject_id"],
        "part": ["train"] * len(train) + ["holdout"] * len(holdout),
        "holdout_fraction": 0.25,
        "seed": 0,
    })
    plan = pd.DataFrame({
        "generation_id": generation_id,
        "group_label": ["WHITE", "BLACK", "HISPANIC"],
        "attributes_json": [json.dumps({"ethnicity_group": g}) for g in ["WHITE", "BLACK", "HISPANIC"]],
        "real_count": [0, 0, 0], "real_share": [0.7, 0.2, 0.1], "target_share": [1 / 3] * 3,
        "synthetic_rows": [0, 0, 0], "achieved_share": [1 / 3] * 3, "warning": [None] * 3,
    })
    con = duckdb.connect(str(path))
    try:
        for schema in ("ml", f"synthetic_{generation_id}"):
            con.execute(f"create schema if not exists {schema}")
        con.register("real_rows", real)
        con.register("synthetic_rows", synthetic)
        con.register("split_rows", splits)
        con.register("plan_rows", plan)
        con.execute("create table main.mm_admission_features as select * from real_rows")
        con.execute(f"create table synthetic_{generation_id}.mm_admission_features as select * from synthetic_rows")
        con.execute("create table ml.splits as select * from split_rows")
        con.execute("create table ml.rebalance_plans as select * from plan_rows")
        con.execute("create table ml.model_runs (run_id varchar, model varchar, split_id varchar)")
        con.execute("insert into ml.model_runs values ('run_test', 'diffusion', 'split_test')")
        con.execute("create table ml.generations (generation_id varchar, run_id varchar, seed integer, n_rows integer, mode varchar)")
        con.execute("insert into ml.generations values (?, 'run_test', 0, ?, 'augment')", [generation_id, len(synthetic)])
    finally:
        con.close()
