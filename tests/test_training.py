"""Training and generation on the demo mart: split, runs, checkpoints, generated tables, bad input."""

import shutil

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from equisynth.cli import app
from equisynth.codelists import load_code_lists
from equisynth.errors import InputDataError, NotFoundError
from equisynth.generation import generate_rows
from equisynth.schema import load_table_schema
from equisynth.splits import ensure_split, holdout_rows, training_rows
from equisynth.training import TrainingInterrupted, train
from models_ml.artefact import ArtefactError

CONDITIONS = ["ethnicity_group", "insurance", "gender", "age_band", "multimorbid"]
BANDS = {"0-17": (0, 17), "18-44": (18, 44), "45-64": (45, 64), "65-79": (65, 79), "80+": (80, 90)}


@pytest.fixture(scope="module")
def warehouse(built_demo_warehouse, tmp_path_factory):
    path = tmp_path_factory.mktemp("training") / "equisynth.duckdb"
    shutil.copyfile(built_demo_warehouse, path)
    return path


@pytest.fixture(scope="module")
def gan_run(warehouse):
    return train(warehouse, model="gan", epochs=2, batch_size=50, seed=0)


def query(warehouse, sql, params=None) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).df()


def synthetic_tables(warehouse) -> set[str]:
    return set(query(warehouse, "select table_name from information_schema.tables where table_schema = 'synthetic'")["table_name"])


def test_split_by_patient(warehouse, gan_run):
    run = query(warehouse, "select * from ml.model_runs where run_id = ?", [gan_run]).iloc[0]
    splits = query(warehouse, "select * from ml.splits where split_id = ?", [run["split_id"]])
    assert splits["subject_id"].is_unique
    assert splits["part"].value_counts()["holdout"] == round(0.2 * len(splits))
    with duckdb.connect(str(warehouse)) as con:
        assert ensure_split(con) == run["split_id"]
        train_rows = training_rows(con, run["split_id"])
        holdout = holdout_rows(con, run["split_id"])
    assert set(train_rows["subject_id"]).isdisjoint(holdout["subject_id"])
    assert len(train_rows) + len(holdout) == 129


def test_run_recorded(warehouse, gan_run):
    run = query(warehouse, "select * from ml.model_runs where run_id = ?", [gan_run]).iloc[0]
    assert run["status"] == "finished"
    assert run["model"] == "gan"
    assert run["source_table"] == "main.mm_admission_features"
    assert len(run["source_fingerprint"]) == 64
    assert (warehouse.parent / "models" / gan_run / "model" / "manifest.json").exists()


# NOTE: this checks age_band and multimorbid against Python recomputations with the dbt seed's hierarchy;
# running dbt itself over generated rows needs the decoder to turn them into MIMIC-III tables first.
def test_generate_counts_exact_and_consistent(warehouse, gan_run):
    split_id = query(warehouse, "select split_id from ml.model_runs where run_id = ?", [gan_run])["split_id"][0]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        mart = training_rows(con, split_id)
    combination = mart.groupby(CONDITIONS).size().sort_values().index[0]
    absent = {"ethnicity_group": "WHITE", "insurance": "Private", "gender": "F", "age_band": "18-44", "multimorbid": 0}
    assert not ((mart[CONDITIONS] == pd.Series(absent)).all(axis=1)).any()
    request = pd.DataFrame([{**dict(zip(CONDITIONS, combination)), "count": 17}, {**absent, "count": 9}])

    generation_id = generate_rows(warehouse, gan_run, counts=request, seed=3)
    rows = query(warehouse, f"select * from synthetic.gen_{generation_id}")
    assert len(rows) == 26
    for _, wanted in request.iterrows():
        assert (rows[CONDITIONS] == wanted[CONDITIONS].to_numpy()).all(axis=1).sum() == wanted["count"]

    schema = load_table_schema()
    assert list(rows.columns) == schema.output_columns
    for band, (low, high) in BANDS.items():
        assert rows.loc[rows["age_band"] == band, "age"].between(low, high).all(), band
    flags = rows[schema.flags("elixhauser")].copy()
    for dominant, suppressed in load_code_lists().hierarchy:
        if dominant in flags:
            assert not ((flags[dominant] == 1) & (flags[suppressed] == 1)).any()
    assert ((flags.sum(axis=1) >= 2).astype(int) == rows["multimorbid"]).all()
    assert (rows["los_hospital_days"] >= 0).all()

    record = query(warehouse, "select * from ml.generations where generation_id = ?", [generation_id]).iloc[0]
    assert record["n_rows"] == 26
    assert record["mode"] == "counts"


def test_generate_same_seed_same_rows(warehouse, gan_run):
    first = generate_rows(warehouse, gan_run, rows=40, seed=8)
    second = generate_rows(warehouse, gan_run, rows=40, seed=8)
    pd.testing.assert_frame_equal(
        query(warehouse, f"select * from synthetic.gen_{first}"), query(warehouse, f"select * from synthetic.gen_{second}")
    )


def test_bad_requests_write_nothing(warehouse, gan_run, tmp_path):
    before = synthetic_tables(warehouse)
    with pytest.raises(NotFoundError, match="no_such_run"):
        generate_rows(warehouse, "no_such_run", rows=5)
    with pytest.raises(InputDataError, match="MARTIAN"):
        generate_rows(warehouse, gan_run, counts=pd.DataFrame({"ethnicity_group": ["MARTIAN"], "count": [3]}))

    corrupt_dir = warehouse.parent / "models" / gan_run / "model"
    backup = tmp_path / "backup"
    shutil.copytree(corrupt_dir, backup)
    try:
        (corrupt_dir / "tensors.pt").write_bytes(b"not a torch file")
        with pytest.raises(ArtefactError, match="corrupt"):
            generate_rows(warehouse, gan_run, rows=5)
    finally:
        shutil.rmtree(corrupt_dir)
        shutil.copytree(backup, corrupt_dir)
    assert synthetic_tables(warehouse) == before


def test_missing_column_rejected(warehouse, tmp_path):
    broken = tmp_path / "broken.duckdb"
    shutil.copyfile(warehouse, broken)
    with duckdb.connect(str(broken)) as con:
        con.execute("create or replace table main.mm_admission_features as select * exclude (icu_days) from main.mm_admission_features")
        runs_before = con.execute("select count(*) from ml.model_runs").fetchone()[0]
    with pytest.raises(InputDataError, match="icu_days"):
        train(broken, model="gan", epochs=1)
    assert query(broken, "select count(*) as n from ml.model_runs")["n"][0] == runs_before


def test_interrupt_then_resume(warehouse):
    def stop_after_first(epoch, total, losses):
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted, match="--resume") as stopped:
        train(warehouse, model="diffusion", epochs=3, batch_size=50, progress=stop_after_first)
    run_id = str(stopped.value).split()[3]
    assert query(warehouse, "select status from ml.model_runs where run_id = ?", [run_id])["status"][0] == "interrupted"

    epochs_seen = []
    assert train(warehouse, resume=run_id, progress=lambda e, t, l: epochs_seen.append(e)) == run_id
    assert epochs_seen == [2, 3]
    assert query(warehouse, "select status from ml.model_runs where run_id = ?", [run_id])["status"][0] == "finished"


def test_cli_train_and_generate(warehouse, tmp_path):
    runner = CliRunner()
    trained = runner.invoke(app, ["train", "--model", "diffusion", "--epochs", "2", "--warehouse", str(warehouse)])
    assert trained.exit_code == 0, trained.output
    run_id = trained.output.split("Run ")[1].split()[0]

    counts = tmp_path / "counts.csv"
    counts.write_text("ethnicity_group,gender,count\nBLACK,F,6\nWHITE,,4\n")
    generated = runner.invoke(app, ["generate", "--run", run_id, "--counts", str(counts), "--warehouse", str(warehouse)])
    assert generated.exit_code == 0, generated.output
    generation_id = generated.output.split("Generation ")[1].split(":")[0]
    rows = query(warehouse, f"select * from synthetic.gen_{generation_id}")
    assert ((rows["ethnicity_group"] == "BLACK") & (rows["gender"] == "F")).sum() == 6
    assert (rows["ethnicity_group"] == "WHITE").sum() == 4

    missing = runner.invoke(app, ["generate", "--run", "no_such_run", "--rows", "3", "--warehouse", str(warehouse)])
    assert missing.exit_code == 2
    assert "no_such_run" in missing.output
