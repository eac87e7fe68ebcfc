"""Decoder: code choice with an exact round trip, dates, ICU stays, and decoded demo tables."""

import shutil

import duckdb
import numpy as np
import pandas as pd
import pytest

from equisynth.errors import EquisynthError

from equisynth.decoder.diagnoses import DiagnosisChooser
from equisynth.decoder.icustays import constrain_stays, draw_stays
from equisynth.decoder.patients import link_admissions
from equisynth.decoder.timeline import completed_years, draw_admissions

FLAGS = ["elix_x", "elix_y", "elix_z", "elix_w", "elix_dom", "elix_sup", "cci_x"]
CHAPTERS = ["dx_a", "dx_b", "dx_c"]
HIERARCHY = [("elix_dom", "elix_sup")]

# Invented code list: code -> (flags before the hierarchy, chapter).
SIGNATURES = {
    "A1": ({"elix_x", "cci_x"}, "dx_a"),  # elix_x only ever comes with cci_x
    "A2": ({"elix_y"}, "dx_a"),
    "A3": (set(), "dx_a"),
    "A4": (set(), "dx_a"),
    "A5": (set(), "dx_a"),
    "B1": ({"elix_dom"}, "dx_b"),
    "B2": ({"elix_sup"}, "dx_b"),
    "B3": (set(), "dx_b"),
    "B4": (set(), "dx_b"),
    "B5": (set(), "dx_b"),
    "C1": ({"elix_z"}, "dx_c"),
    "C2": (set(), "dx_c"),
    "C3": ({"elix_y"}, "dx_c"),
    "C4": (set(), "dx_c"),
    "C5": (set(), "dx_c"),
    "W1": ({"elix_w", "elix_y"}, "dx_c"),  # the only code for elix_w
    "S1": (set(), "dx_b"),
    "S2": (set(), "dx_c"),
}
CANDIDATES = {"A1": 20, "A2": 15, "A3": 30, "B1": 12, "B2": 11, "C2": 14}
DICTIONARY = ["A4", "A5", "B3", "B4", "B5", "C1", "C3", "C4", "C5", "W1"]


def signature(code):
    flags, chapter = SIGNATURES[code]
    return frozenset(flags), chapter


def chooser(seed=0, skip_first=False) -> DiagnosisChooser:
    return DiagnosisChooser(FLAGS, CHAPTERS, signature, HIERARCHY, CANDIDATES, DICTIONARY, skip_first_diagnosis=skip_first, seed=seed)


def row(flags=(), chapters=None, multimorbid=None) -> dict:
    values = {flag: int(flag in flags) for flag in FLAGS}
    values.update({chapter: 0 for chapter in CHAPTERS})
    values.update(chapters or {})
    if multimorbid is not None:
        values["multimorbid"] = multimorbid
    return values


def recomputed(codes: list[str], skip_first=False) -> tuple[set, dict]:
    """Flags and chapter counts of a code list, computed as the dbt models do."""
    union = set()
    for code in codes[1:] if skip_first else codes:
        union |= SIGNATURES[code][0]
    for dominant, suppressed in HIERARCHY:
        if dominant in union:
            union.discard(suppressed)
    counts = {chapter: sum(SIGNATURES[code][1] == chapter for code in codes) for chapter in CHAPTERS}
    return union, counts


def assert_round_trip(choice, rows: pd.DataFrame, skip_first=False):
    for i, codes in enumerate(choice.codes):
        flags, counts = recomputed(codes, skip_first)
        final = choice.final_values.iloc[i]
        assert flags == {flag for flag in FLAGS if final[flag] == 1}, f"row {i}: codes {codes}"
        assert counts == {chapter: int(final[chapter]) for chapter in CHAPTERS}, f"row {i}: codes {codes}"


# -- code choice -----------------------------------------------------------------------------

def test_chooser_round_trip_random_rows():
    rng = np.random.default_rng(3)
    records = []
    for _ in range(200):
        flags = [flag for flag in FLAGS if rng.random() < 0.25]
        chapters = {chapter: int(rng.integers(0, 4)) for chapter in CHAPTERS}
        records.append(row(flags, chapters))
    rows = pd.DataFrame(records)
    choice = chooser().choose(rows)
    assert_round_trip(choice, rows)


def test_chooser_keeps_feasible_row_unchanged():
    rows = pd.DataFrame([row(["elix_y", "elix_sup"], {"dx_a": 2, "dx_b": 2})])
    choice = chooser().choose(rows)
    assert choice.adjusted_rows == 0
    assert choice.final_values.iloc[0][FLAGS + CHAPTERS].to_dict() == rows.iloc[0][FLAGS + CHAPTERS].to_dict()
    assert_round_trip(choice, rows)


def test_chooser_adds_implied_flag():
    rows = pd.DataFrame([row(["elix_x"], {"dx_a": 1})])
    choice = chooser().choose(rows)
    assert choice.final_values.iloc[0]["cci_x"] == 1
    assert choice.adjusted_rows == 1
    assert choice.adjustments["implied flag added"] == 1
    assert_round_trip(choice, rows)


def test_chooser_clears_suppressed_flag():
    rows = pd.DataFrame([row(["elix_dom", "elix_sup"], {"dx_b": 2})])
    choice = chooser().choose(rows)
    final = choice.final_values.iloc[0]
    assert final["elix_dom"] == 1
    assert final["elix_sup"] == 0
    assert choice.adjustments["suppressed flag cleared (its dominant flag is set)"] == 1
    assert_round_trip(choice, rows)


def test_chooser_raises_chapter_count():
    rows = pd.DataFrame([row(["elix_x", "elix_y", "cci_x"], {"dx_a": 1})])
    choice = chooser().choose(rows)
    final = choice.final_values.iloc[0]
    assert final[CHAPTERS].sum() == 2
    assert choice.adjustments["chapter count raised"] == 1
    assert_round_trip(choice, rows)


def test_chooser_counts_dictionary_fallbacks():
    rows = pd.DataFrame([row(["elix_z"], {"dx_c": 1}), row([], {"dx_a": 1})])
    choice = chooser().choose(rows)
    assert choice.codes[0] == ["C1"]
    assert choice.codes[1] == ["A3"]
    assert choice.fallback_codes == 1


def test_chooser_never_writes_codes_outside_pools():
    # dx_b has three flag-free codes (B3, B4, B5); S1 is seen in 1 to k-1 patients and is not offered.
    rows = pd.DataFrame([row([], {"dx_b": 4})])
    with pytest.raises(EquisynthError, match="too few codes of chapter dx_b"):
        chooser().choose(rows)


def test_chooser_prefers_candidates():
    rows = pd.DataFrame([row([], {"dx_a": 1})] * 20)
    choice = chooser(seed=5).choose(rows)
    assert {codes[0] for codes in choice.codes} == {"A3"}
    assert choice.fallback_codes == 0


def test_chooser_single_condition_rows_stay_single():
    rows = pd.DataFrame([row(["elix_w"], {"dx_c": 1}, multimorbid=0), row(["elix_w"], {"dx_c": 1}, multimorbid=1)])
    choice = chooser().choose(rows)
    single, multiple = choice.final_values.iloc[0], choice.final_values.iloc[1]
    assert single[[f for f in FLAGS if f.startswith("elix_")]].sum() <= 1
    assert multiple["elix_w"] == 1
    assert multiple["elix_y"] == 1
    assert_round_trip(choice, rows)


def test_chooser_multimorbid_row_gets_second_condition():
    rows = pd.DataFrame([row(["elix_y"], {"dx_a": 1}, multimorbid=1)])
    choice = chooser().choose(rows)
    assert choice.final_values.iloc[0][[f for f in FLAGS if f.startswith("elix_")]].sum() >= 2
    assert_round_trip(choice, rows)


def test_chooser_skip_first_diagnosis():
    rng = np.random.default_rng(11)
    rows = pd.DataFrame([
        row([flag for flag in FLAGS if rng.random() < 0.3], {chapter: int(rng.integers(0, 3)) for chapter in CHAPTERS})
        for _ in range(50)
    ])
    choice = chooser(skip_first=True).choose(rows)
    assert_round_trip(choice, rows, skip_first=True)


def test_chooser_deterministic():
    rows = pd.DataFrame([row(["elix_y", "elix_x"], {"dx_a": 3, "dx_c": 2}) for _ in range(10)])
    assert chooser(seed=4).choose(rows).codes == chooser(seed=4).choose(rows).codes


# -- dates and ICU stays ---------------------------------------------------------------------

def stay_rows() -> pd.DataFrame:
    return pd.DataFrame({
        "age": [0, 35, 89, 90, 64],
        "los_hospital_days": [2.5, 0.0, 10.25, 4.0, 1.0],
        "hospital_expire_flag": [0, 0, 1, 1, 0],
        "admission_location": ["PHYS REFERRAL/NORMAL DELI", "EMERGENCY ROOM ADMIT", "EMERGENCY ROOM ADMIT", "TRANSFER FROM HOSP/EXTRAM", "CLINIC REFERRAL/PREMATURE"],
        "admission_type": ["NEWBORN", "EMERGENCY", "EMERGENCY", "URGENT", "ELECTIVE"],
        "icu_stays": [0, 1, 3, 1, 2],
        "icu_days": [0.0, 0.5, 6.0, 5.0, 0.0],
    })


def test_timeline_ages_and_order():
    rows = stay_rows()
    times = draw_admissions(rows, np.random.default_rng(0))
    ages = completed_years(times["dob"], times["admittime"])
    assert list(ages) == [0, 35, 89, 300, 64]
    assert (times["dob"] < times["admittime"]).all()
    assert (times["admittime"] < times["dischtime"]).all()
    assert (times["dob"] == times["dob"].dt.normalize()).all()
    assert times["admittime"].min() >= pd.Timestamp("2100-01-01")
    assert times["dischtime"].max() < pd.Timestamp("2200-01-01")


def test_timeline_length_of_stay_to_the_minute():
    rows = stay_rows()
    times = draw_admissions(rows, np.random.default_rng(1))
    days = (times["dischtime"] - times["admittime"]).dt.total_seconds() / 86400
    expected = np.maximum(rows["los_hospital_days"], 1 / 1440)
    assert np.allclose(days, expected, atol=0.5 / 1440)


def test_timeline_deaths_consistent():
    rows = stay_rows()
    times = draw_admissions(rows, np.random.default_rng(2))
    died = rows["hospital_expire_flag"] == 1
    assert (times.loc[died, "deathtime"] == times.loc[died, "dischtime"]).all()
    assert (times.loc[died, "dod"] == times.loc[died, "dischtime"].dt.normalize()).all()
    assert times.loc[~died, ["deathtime", "dod", "dod_hosp"]].isna().all().all()
    assert list(times["expire_flag"]) == list(rows["hospital_expire_flag"])


def test_timeline_emergency_times():
    rows = stay_rows()
    times = draw_admissions(rows, np.random.default_rng(3))
    emergency = rows["admission_location"] == "EMERGENCY ROOM ADMIT"
    assert (times.loc[emergency, "edregtime"] < times.loc[emergency, "admittime"]).all()
    assert (times.loc[emergency, "edouttime"] >= times.loc[emergency, "admittime"]).all()
    assert times.loc[~emergency, ["edregtime", "edouttime"]].isna().all().all()


def test_stays_inside_admission():
    rows, changed = constrain_stays(stay_rows())
    assert list(changed) == [False, True, False, True, True]
    assert rows.loc[1, "los_hospital_days"] > 0.5
    assert rows.loc[3, "los_hospital_days"] > 5.0
    assert rows.loc[4, "icu_days"] == pytest.approx(2 / 24)

    rng = np.random.default_rng(4)
    times = draw_admissions(rows, rng)
    stays = draw_stays(rows, times, rng, {})
    assert list(stays.groupby("row").size()) == [1, 3, 1, 2]
    for index, stay in stays.iterrows():
        assert stay["intime"] >= times.at[stay["row"], "admittime"]
        assert stay["outtime"] <= times.at[stay["row"], "dischtime"]
        assert stay["intime"] < stay["outtime"]
    totals = stays.groupby("row")["los"].sum()
    assert np.allclose(totals.to_numpy(), rows.loc[totals.index, "icu_days"].to_numpy(), atol=5e-4)


def readmission_rows() -> pd.DataFrame:
    return pd.DataFrame({
        "age": [70, 70, 70, 45, 45, 90, 90, 30],
        "gender": ["F", "F", "F", "M", "F", "M", "M", "M"],
        "ethnicity_group": ["BLACK", "BLACK", "WHITE", "WHITE", "WHITE", "ASIAN", "ASIAN", "WHITE"],
        "readmit_30d": [1, 1, 0, 1, 0, 1, 0, 1],
        "hospital_expire_flag": [0, 0, 0, 0, 0, 0, 1, 1],
        "los_hospital_days": [3.0, 5.0, 2.0, 4.0, 1.0, 6.0, 2.0, 3.0],
        "admission_location": ["CLINIC REFERRAL/PREMATURE"] * 8,
        "admission_type": ["EMERGENCY"] * 8,
    })


def test_links_make_readmissions():
    rows = readmission_rows()
    links, readmit = link_admissions(rows, np.random.default_rng(0))

    # Rows 0 and 1 (F, 70) chain into row 2; row 5 (M, 90) is followed by row 6.
    assert links.loc[0, "patient"] == links.loc[1, "patient"] == links.loc[2, "patient"]
    assert links.loc[5, "patient"] == links.loc[6, "patient"]
    assert sorted(links.loc[[0, 1, 2], "position"]) == [0, 1, 2]
    # Row 3 (M, 45) has no partner of its gender and age; row 7 dies in hospital.
    assert list(readmit) == [1, 1, 0, 0, 0, 1, 0, 0]
    assert links["patient"].nunique() == 5


def test_linked_admissions_share_age():
    rows = readmission_rows()
    rng = np.random.default_rng(1)
    links, _ = link_admissions(rows, rng)
    times = draw_admissions(rows, rng, links)
    ages = completed_years(times["dob"], times["admittime"])
    assert list(ages) == [70, 70, 70, 45, 45, 300, 300, 30]
    chain = times.loc[links["patient"] == links.loc[0, "patient"]].sort_values("position")
    gaps = (chain["admittime"].iloc[1:].to_numpy() - chain["dischtime"].iloc[:-1].to_numpy()) / pd.Timedelta(days=1)
    assert (gaps > 0).all()
    assert (gaps <= 30).all()
    assert chain["dob"].nunique() == 1


# -- decoded demo tables -----------------------------------------------------------------------

def connect(path):
    return duckdb.connect(str(path), read_only=True)


@pytest.mark.slow
def test_demo_tables_have_raw_columns(rebalanced_demo):
    schema = rebalanced_demo.result.decode.schema
    con = connect(rebalanced_demo.warehouse)
    for table in ["patients", "admissions", "diagnoses_icd", "icustays", "d_icd_diagnoses"]:
        query = "select column_name, data_type from information_schema.columns where table_schema = ? and table_name = ? order by ordinal_position"
        assert con.execute(query, [schema, table]).fetchall() == con.execute(query, ["raw", table]).fetchall(), table
    con.close()


@pytest.mark.slow
def test_demo_round_trip_exact(rebalanced_demo):
    generation = rebalanced_demo.result.generation_id
    con = connect(rebalanced_demo.warehouse)
    generated = con.execute(f"select * from synthetic.gen_{generation} order by rowid").fetchdf()
    mart = con.execute(f"select * from synthetic_{generation}.mm_admission_features order by hadm_id").fetchdf()
    con.close()

    assert len(mart) == len(generated)
    exact = [c for c in generated.columns if c.startswith(("elix_", "cci_", "dx_ch"))]
    assert len(exact) == 31 + 17 + 19
    for column in exact:
        mismatches = int((generated[column].to_numpy() != mart[column].to_numpy()).sum())
        assert mismatches == 0, f"{column}: {mismatches} rows differ"
    for column in ["gender", "ethnicity_group", "insurance", "admission_type", "admission_location", "age", "age_band",
                   "hospital_expire_flag", "icu_stays", "multimorbid", "language", "marital_status", "readmit_30d"]:
        assert (generated[column].astype(str).to_numpy() == mart[column].astype(str).to_numpy()).all(), column
    assert np.allclose(generated["los_hospital_days"], mart["los_hospital_days"], atol=1 / 1440)
    assert np.allclose(generated["icu_days"], mart["icu_days"], atol=1e-3)


@pytest.mark.slow
def test_demo_ids_and_times_never_real(rebalanced_demo):
    schema = rebalanced_demo.result.decode.schema
    con = connect(rebalanced_demo.warehouse)
    for table, column in [("patients", "subject_id"), ("admissions", "hadm_id"), ("icustays", "icustay_id"),
                          ("patients", "row_id"), ("admissions", "row_id"), ("diagnoses_icd", "row_id"), ("icustays", "row_id")]:
        clash = con.execute(f"select count(*) from {schema}.{table} where {column} in (select {column} from raw.{table})").fetchall()[0][0]
        assert clash == 0, f"{table}.{column}"
    assert con.execute(f"select min(subject_id) from {schema}.patients").fetchall()[0][0] >= 1_000_000
    assert con.execute(f"select min(hadm_id) from {schema}.admissions").fetchall()[0][0] >= 2_000_000

    synthetic_times = " union ".join(
        f"select {column} as ts from {schema}.{table} where {column} is not null"
        for table, columns in [("patients", ["dob", "dod", "dod_hosp", "dod_ssn"]),
                               ("admissions", ["admittime", "dischtime", "deathtime", "edregtime", "edouttime"]),
                               ("icustays", ["intime", "outtime"])]
        for column in columns
    )
    real_columns = con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = 'raw' and data_type = 'TIMESTAMP'"
    ).fetchall()
    assert len(real_columns) > 10
    for table, column in real_columns:
        clash = con.execute(f"select count(*) from ({synthetic_times}) where ts in (select {column} from raw.{table})").fetchall()[0][0]
        assert clash == 0, f"raw.{table}.{column}"
    years = con.execute(f"select min(year(admittime)), max(year(dischtime)) from {schema}.admissions").fetchall()[0]
    assert years[0] >= 2100
    assert years[1] < 2200
    con.close()


@pytest.mark.slow
def test_demo_rare_codes_only_as_fallbacks(rebalanced_demo):
    result = rebalanced_demo.result
    k = result.decode.k
    con = connect(rebalanced_demo.warehouse)
    run = con.execute("select split_id from ml.model_runs where run_id = ?", [rebalanced_demo.run_id]).fetchall()[0][0]
    not_frequent = con.execute(f"""
        with frequent as (
            select icd9_code
            from raw.diagnoses_icd
            where subject_id in (select subject_id from ml.splits where split_id = '{run}' and part = 'train')
            group by 1
            having count(distinct subject_id) >= {k}
        )
        select count(*) from {result.decode.schema}.diagnoses_icd where icd9_code not in (select icd9_code from frequent)
    """).fetchall()[0][0]
    recorded = con.execute("select code_fallbacks from ml.generations where generation_id = ?", [result.generation_id]).fetchall()[0][0]
    unknown = con.execute(f"""
        select count(*) from {result.decode.schema}.diagnoses_icd
        where icd9_code not in (select icd9_code from raw.d_icd_diagnoses)
    """).fetchall()[0][0]
    con.close()
    assert not_frequent == recorded
    assert recorded == result.decode.code_fallbacks
    assert unknown == 0


@pytest.mark.slow
def test_demo_text_from_fixed_vocabulary(rebalanced_demo):
    result = rebalanced_demo.result
    con = connect(rebalanced_demo.warehouse)
    split = con.execute("select split_id from ml.model_runs where run_id = ?", [rebalanced_demo.run_id]).fetchall()[0][0]
    for column in ["diagnosis", "religion", "discharge_location"]:
        rare = con.execute(f"""
            with seen as (
                select {column} as value, count(distinct subject_id) as patients
                from raw.admissions
                where subject_id in (select subject_id from ml.splits where split_id = '{split}' and part = 'train')
                group by 1
            )
            select count(*) from {result.decode.schema}.admissions as a
            left join seen on seen.value = a.{column}
            where a.{column} is not null and a.{column} <> 'DEAD/EXPIRED' and coalesce(seen.patients, 0) < {result.decode.k}
        """).fetchall()[0][0]
        assert rare == 0, column
    con.close()


@pytest.mark.slow
def test_demo_decoded_csv_loads_and_builds(rebalanced_demo, tmp_path):
    from equisynth import dbt_runner
    from equisynth.loader import load_raw

    generation = rebalanced_demo.result.generation_id
    schema = rebalanced_demo.result.decode.schema
    warehouse = tmp_path / "equisynth.duckdb"
    shutil.copyfile(rebalanced_demo.warehouse, warehouse)
    folder = tmp_path / "csv"
    folder.mkdir()

    con = duckdb.connect(str(warehouse))
    for table in ["patients", "admissions", "diagnoses_icd", "icustays", "d_icd_diagnoses"]:
        con.execute(f"copy (select * from {schema}.{table} order by row_id) to '{folder / (table.upper() + '.csv')}' (header, delimiter ',')")
    con.close()

    report = load_raw(folder, warehouse, progress=False, schema="synthetic_reloaded")
    assert report.tables["diagnoses_icd"] == rebalanced_demo.result.decode.tables["diagnoses_icd"]
    build = dbt_runner.build(warehouse, generation="reloaded")
    assert build.success

    con = duckdb.connect(str(warehouse), read_only=True)
    original = con.execute(f"select * from synthetic_{generation}.mm_admission_features order by hadm_id").fetchdf()
    reloaded = con.execute("select * from synthetic_reloaded.mm_admission_features order by hadm_id").fetchdf()
    sources = {row[0] for row in con.execute("select distinct source from main.mm_admission_features_all").fetchall()}
    con.close()
    assert len(reloaded) == len(original)
    for column in original.columns:
        if pd.api.types.is_float_dtype(original[column]):
            # Sums of ICU stay lengths may differ in the last bit when the stays are summed in another order.
            assert np.allclose(original[column], reloaded[column], rtol=0, atol=1e-9), column
        else:
            assert (original[column].astype(str) == reloaded[column].astype(str)).all(), column
    assert {"real", generation, "reloaded"} <= sources


@pytest.mark.slow
def test_demo_writes_no_code_of_few_patients(rebalanced_demo):
    result = rebalanced_demo.result
    k = result.decode.k
    con = connect(rebalanced_demo.warehouse)
    rare = con.execute(f"""
        with seen as (
            select icd9_code, count(distinct subject_id) as patients
            from raw.diagnoses_icd
            group by 1
        )
        select count(*)
        from {result.decode.schema}.diagnoses_icd as synthetic
        inner join seen on seen.icd9_code = synthetic.icd9_code
        where seen.patients between 1 and {k - 1}
    """).fetchall()[0][0]
    con.close()
    assert rare == 0


@pytest.mark.slow
def test_demo_blocks_flags_without_safe_code(rebalanced_demo):
    from equisynth.decoder.safe_codes import flag_implications, flags_without_safe_code

    flags = ["elix_blood_loss_anemia", "elix_chf", "cci_chf"]
    blocked = flags_without_safe_code(rebalanced_demo.warehouse, rebalanced_demo.run_id, flags, 10)
    implications = flag_implications(rebalanced_demo.warehouse, rebalanced_demo.run_id, flags, 10)

    assert blocked == ["elix_blood_loss_anemia"]
    assert implications["elix_chf"] == ["cci_chf"]
    assert implications["cci_chf"] == ["elix_chf"]
