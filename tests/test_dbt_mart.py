"""The dbt project on the MIMIC-III demo: build results, row counts and hand-checked values.

Each hand-checked value names the demo diagnosis codes (DIAGNOSES_ICD of that admission, in
seq_num order) and the code-list rows of dbt_project/seeds that justify it.
"""

import json

import duckdb
import pytest

from equisynth import codelists, dbt_runner
from equisynth.paths import DBT_PROJECT_DIR

pytestmark = pytest.mark.slow


def query(warehouse, sql, params=None):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def feature_row(warehouse, hadm_id, schema="main"):
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frame = con.execute(f"select * from {schema}.mm_admission_features where hadm_id = ?", [hadm_id]).df()
    assert len(frame) == 1, f"hadm_id {hadm_id} has {len(frame)} rows in {schema}.mm_admission_features"
    return frame.iloc[0]


def test_build_every_node_passes(built_demo_warehouse):
    run_results = built_demo_warehouse.parent / "dbt" / "target" / "run_results.json"
    results = json.loads(run_results.read_text())["results"]
    statuses = {result["unique_id"]: result["status"] for result in results}
    kinds = {unique_id.split(".")[0] for unique_id in statuses}

    assert {"model", "test", "seed"} <= kinds
    assert not {uid: status for uid, status in statuses.items() if status not in ("success", "pass")}
    assert "model.equisynth.mm_admission_features" in statuses
    assert "test.equisynth.assert_every_ethnicity_mapped" in statuses


def test_mart_row_counts(built_demo_warehouse):
    assert query(built_demo_warehouse, "select count(*) from main.mm_admission_features")[0][0] == 129
    assert query(built_demo_warehouse, "select count(distinct hadm_id) from main.mm_admission_features")[0][0] == 129
    assert query(built_demo_warehouse, "select count(*) from main.mm_patients")[0][0] == 100
    assert query(built_demo_warehouse, "select sum(admissions) from main.mm_subgroup_summary")[0][0] == 129


def test_mart_columns_match_yml(built_demo_warehouse):
    import yaml

    documented = yaml.safe_load((DBT_PROJECT_DIR / "models" / "marts" / "mm_admission_features.yml").read_text())
    columns = documented["models"][0]["columns"]
    built = [row[0] for row in query(
        built_demo_warehouse,
        "select column_name from information_schema.columns "
        "where table_schema = 'main' and table_name = 'mm_admission_features' order by ordinal_position",
    )]

    assert [column["name"] for column in columns] == built
    assert len(built) == 17 + 31 + 17 + 19 + 7
    for column in columns:
        assert {"kind", "condition", "derived"} <= set(column["meta"]), column["name"]
        if column["name"].startswith(("elix_", "cci_")):
            assert column["meta"]["condition_flag"] in ("elixhauser", "charlson"), column["name"]


# hadm_id -> expected mart values, with the demo codes that justify them.
HAND_CHECKED = {
    # Codes 0389 5990 5845 2765 78552 42831 4280 2761 99592.
    100375: {
        "elix_chf": 1,  # 4280 and 42831: Quan CHF row 428.
        "cci_chf": 1,  # same codes, Charlson CHF row 428.
        "elix_fluid_electrolyte": 1,  # 2765 and 2761: row 276.
        "elix_renal_failure": 0,  # 5845 is acute kidney failure (584), not in Quan's renal list (585, 586, ...).
        "elixhauser_count": 2,
        "vanwalraven_score": 12,  # CHF 7 + fluid and electrolyte 5.
        "charlson_index": 1,  # CHF 1.
        "dx_ch01_infectious": 1,  # 0389 with its leading zero (389 would be chapter 6).
        "dx_ch06_nervous": 0,
        "dx_ch07_circulatory": 2,  # 42831, 4280.
        "dx_ch10_genitourinary": 2,  # 5990, 5845.
        "n_diagnoses": 9,
        "age": 83,  # dob 2046-02-27, admitted 2129-05-02.
        "age_top_coded": 0,
    },
    # Codes 43411 3484 51881 5070 42731 25000 4019 4439 496 3051.
    100969: {
        "cci_cerebrovascular": 1,  # 43411: Charlson row 430-438.
        "elix_arrhythmia": 1,  # 42731: row 4270-4274.
        "elix_diabetes_uncomplicated": 1,  # 25000: row 2500-2503.
        "elix_htn_uncomplicated": 1,  # 4019: row 401.
        "elix_pvd": 1,  # 4439: row 4431-4439.
        "elix_chronic_pulm": 1,  # 496: row 490-505.
        "elix_neuro_other": 0,  # 3484 is not 3481 or 3483.
        "elix_drug_abuse": 0,  # 3051 (tobacco use) is below row 3052-3059.
        "elixhauser_count": 5,
        "vanwalraven_score": 10,  # arrhythmia 5 + PVD 2 + chronic pulmonary 3 (hypertension, diabetes 0).
        "charlson_index": 4,  # cerebrovascular, diabetes, PVD, chronic pulmonary: 1 each.
        "multimorbid": 1,
        "age": 80,  # dob 2061-12-10, admitted 2142-11-26 (birthday not yet reached: 80, not 81).
    },
    # Codes 5722 5849 78959 261 5724 2763 2762 5712 53789 30393 V4983.
    102203: {
        "elix_liver_disease": 1,  # 5722, 5724 (row 5722-5728) and 5712 (row 571).
        "elix_alcohol_abuse": 1,  # 5712 (row 5710-5713) and 30393 (row 3039).
        "elix_weight_loss": 1,  # 261: row 260-263.
        "elix_fluid_electrolyte": 1,  # 2763, 2762.
        "cci_severe_liver": 1,  # 5722, 5724: Charlson row 5722-5728.
        "cci_mild_liver": 0,  # 5712 matches row 571, but severe liver disease suppresses it.
        "charlson_index": 3,
        "vanwalraven_score": 22,  # liver 11 + weight loss 6 + fluid 5 + alcohol 0.
        "dx_ch_v_supplementary": 1,  # V4983.
        "age": 43,
    },
    # Codes 03842 78552 486 00845 1977 1561 1975 45182 99592 2449 2859.
    103379: {
        "elix_metastatic_cancer": 1,  # 1977, 1975: row 196-199.
        "elix_solid_tumor": 0,  # 1561 matches row 140-172, suppressed by metastatic cancer.
        "cci_metastatic": 1,
        "cci_malignancy": 0,  # 1561 matches, suppressed by metastatic solid tumour.
        "elix_hypothyroidism": 1,  # 2449: row 244.
        "elix_deficiency_anemia": 0,  # 2859 is outside 2801-2809 and 281.
        "charlson_index": 6,
        "dx_ch01_infectious": 2,  # 03842, 00845: leading zeros kept.
        "dx_ch02_neoplasms": 3,
    },
    # Codes 431 4010 5990 2761 V103 3569 2859; dob 1895-05-17, admitted 2195-05-17 (age over 89).
    103770: {
        "age": 90,
        "age_top_coded": 1,
        "age_band": "80+",
        "cci_cerebrovascular": 1,  # 431: row 430-438.
        "elix_htn_uncomplicated": 1,  # 4010: row 401.
        "elix_htn_complicated": 0,
        "elixhauser_count": 2,
    },
    # dob 2090-06-05, admitted 2126-08-14.
    105331: {"age": 36, "age_band": "18-44", "age_top_coded": 0},
}


@pytest.mark.parametrize("hadm_id", sorted(HAND_CHECKED))
def test_hand_checked_admission(built_demo_warehouse, hadm_id):
    row = feature_row(built_demo_warehouse, hadm_id)
    for column, expected in HAND_CHECKED[hadm_id].items():
        assert row[column] == expected, f"hadm_id {hadm_id}: {column} is {row[column]}, expected {expected}"


# hadm_id -> stay values, from the demo ADMISSIONS and ICUSTAYS rows of the admission.
HAND_CHECKED_STAYS = {
    # Admitted 2117-08-05 18:27, discharged 2117-08-19 16:15; the same patient (10119) is
    # admitted again on 2117-08-21, 2 days later. One ICU stay with LOS 7.902.
    157466: {"readmit_30d": 1, "icu_stays": 1, "icu_days": 7.902, "los_hospital_days": 13 + (21 * 60 + 48) / 1440},
    # 10119's later admission: no admission follows it.
    165436: {"readmit_30d": 0, "icu_stays": 1, "icu_days": 1.892},
    # Discharged 2145-07-20; 41795's next admission starts 2145-09-06, 48 days later.
    138132: {"readmit_30d": 0, "icu_stays": 1, "icu_days": 10.7341},
}


@pytest.mark.parametrize("hadm_id", sorted(HAND_CHECKED_STAYS))
def test_hand_checked_stay(built_demo_warehouse, hadm_id):
    row = feature_row(built_demo_warehouse, hadm_id)
    for column, expected in HAND_CHECKED_STAYS[hadm_id].items():
        assert row[column] == pytest.approx(expected, abs=1e-6), f"hadm_id {hadm_id}: {column} is {row[column]}"


def test_raw_age_over_89_is_about_300(built_demo_warehouse):
    raw_age, age = query(
        built_demo_warehouse, "select raw_age, age from main.int_admission_demographics where hadm_id = 103770"
    )[0]

    assert raw_age == 300
    assert age == 90
    assert query(built_demo_warehouse, "select max(age) from main.mm_admission_features")[0][0] == 90


def test_leading_zero_codes_kept(built_demo_warehouse):
    codes = [row[0] for row in query(
        built_demo_warehouse,
        "select icd9_code from main.stg_mimic__diagnoses_icd where hadm_id = 100375 order by seq_num",
    )]

    assert codes[0] == "0389"
    assert codelists.chapter_for_code("0389") == "dx_ch01_infectious"
    assert codelists.chapter_for_code("389") == "dx_ch06_nervous"


def test_chapter_counts_sum_to_diagnoses(built_demo_warehouse):
    usable = query(
        built_demo_warehouse, "select count(*) from main.int_diagnoses__checked where exclusion_reason is null"
    )[0][0]

    assert query(built_demo_warehouse, "select sum(n_diagnoses) from main.mm_admission_features")[0][0] == usable
    assert usable == query(built_demo_warehouse, "select count(*) from raw.diagnoses_icd")[0][0]


def test_unknown_codes_reported_not_dropped(built_demo_warehouse):
    unknown_rows = query(built_demo_warehouse, "select sum(row_count) from main.dq_unknown_diagnosis_codes")[0][0]
    reported = query(
        built_demo_warehouse,
        "select row_count from main.dq_excluded_rows where reason = 'code not in D_ICD_DIAGNOSES' and handling = 'kept'",
    )

    assert unknown_rows > 0
    assert reported == [(unknown_rows,)]


def test_codelists_agree_with_dbt(built_demo_warehouse):
    with duckdb.connect(str(built_demo_warehouse), read_only=True) as con:
        diagnoses = con.execute(
            "select row_id, hadm_id, seq_num, icd9_code, chapter from main.int_diagnoses__checked "
            "where exclusion_reason is null"
        ).fetchall()
        matches = con.execute(
            "select hadm_id, seq_num, icd9_code, flag from main.int_diagnoses__comorbidity_matches"
        ).fetchall()
    dbt_flags: dict[tuple, set] = {}
    for hadm_id, seq_num, code, flag in matches:
        dbt_flags.setdefault((hadm_id, seq_num, code), set()).add(flag)

    assert len(diagnoses) > 1000
    for _row_id, hadm_id, seq_num, code, chapter in diagnoses:
        assert codelists.flags_for_code(code) == dbt_flags.get((hadm_id, seq_num, code), set()), code
        assert codelists.chapter_for_code(code) == chapter, code


def test_skip_first_diagnosis_changes_flags(built_demo_warehouse, tmp_path):
    warehouse = tmp_path / "skip_first.duckdb"
    warehouse.write_bytes(built_demo_warehouse.read_bytes())

    dbt_runner.build(warehouse, skip_first_diagnosis=True)

    # 100969: 43411 in position 1 is its only cerebrovascular code.
    skipped = feature_row(warehouse, 100969)
    assert skipped["cci_cerebrovascular"] == 0
    assert skipped["charlson_index"] == 3
    assert skipped["elix_arrhythmia"] == 1  # 42731 is in position 5.
    # 102203: 5722 in position 1, but 5724 in position 5 still sets both liver flags.
    assert feature_row(warehouse, 102203)["cci_severe_liver"] == 1
    # Chapter counts keep every position.
    assert skipped["n_diagnoses"] == 10
    assert skipped["dx_ch07_circulatory"] == feature_row(built_demo_warehouse, 100969)["dx_ch07_circulatory"]
    first_position_matches = query(
        warehouse, "select count(*) from main.int_diagnoses__comorbidity_matches where seq_num = 1"
    )[0][0]
    assert first_position_matches == 0


def copy_as_generation(con, schema, subject_ids):
    """Copy the raw rows of a few patients into a generation schema with shifted ids."""
    ids = ", ".join(str(subject_id) for subject_id in subject_ids)
    con.execute(f"create schema {schema}")
    con.execute(
        f"create table {schema}.patients as select * replace (subject_id + 1000000 as subject_id) "
        f"from raw.patients where subject_id in ({ids})"
    )
    con.execute(
        f"create table {schema}.admissions as select * replace "
        f"(subject_id + 1000000 as subject_id, hadm_id + 2000000 as hadm_id) "
        f"from raw.admissions where subject_id in ({ids})"
    )
    con.execute(
        f"create table {schema}.diagnoses_icd as select * replace "
        f"(subject_id + 1000000 as subject_id, hadm_id + 2000000 as hadm_id) "
        f"from raw.diagnoses_icd where subject_id in ({ids})"
    )
    con.execute(
        f"create table {schema}.icustays as select * replace "
        f"(subject_id + 1000000 as subject_id, hadm_id + 2000000 as hadm_id, icustay_id + 3000000 as icustay_id) "
        f"from raw.icustays where subject_id in ({ids})"
    )
    con.execute(f"create table {schema}.d_icd_diagnoses as select * from raw.d_icd_diagnoses")


def test_generation_builds_and_joins_union(built_demo_warehouse, tmp_path):
    warehouse = tmp_path / "generation.duckdb"
    warehouse.write_bytes(built_demo_warehouse.read_bytes())
    with duckdb.connect(str(warehouse)) as con:
        copy_as_generation(con, "synthetic_test", [10056, 42430, 42135])
        # Data problems that must be reported, not dropped silently or failing the build.
        con.execute(
            "insert into synthetic_test.diagnoses_icd select * from synthetic_test.diagnoses_icd "
            "where hadm_id = 2100375 and seq_num = 2"
        )
        con.execute(
            "insert into synthetic_test.diagnoses_icd select * replace (row_id + 9000000 as row_id, "
            "null as icd9_code) from synthetic_test.diagnoses_icd where hadm_id = 2100375 and seq_num = 3"
        )
        con.execute(
            "update synthetic_test.admissions set dischtime = admittime - interval 1 day where hadm_id = 2102203"
        )

    report = dbt_runner.build(warehouse, generation="test")

    assert report.success
    assert report.counts["model"].get("fail", 0) == 0
    assert report.summary_line().startswith("model ")
    # Four copied admissions (100375, 100969 and 42135's two), less 102203 with its discharge moved.
    assert query(warehouse, "select count(*) from synthetic_test.mm_admission_features")[0][0] == 3
    sources = dict(query(warehouse, "select source, count(*) from main.mm_admission_features_all group by source"))
    assert sources == {"real": 129, "test": 3}
    problems = {
        (table, reason): count
        for table, reason, count in query(
            warehouse, "select table_name, reason, row_count from synthetic_test.dq_excluded_rows where handling = 'excluded'"
        )
    }
    assert problems[("diagnoses_icd", "exact duplicate row")] == 1
    assert problems[("diagnoses_icd", "missing ICD-9 code")] == 1
    assert problems[("admissions", "discharge before admission")] == 1
    assert problems[("diagnoses_icd", "admission excluded or not found")] == 11  # the 11 codes of 102203.
    # 10056's admission 100375 reads the same as the real one under its new id, despite the duplicate and null-code rows.
    assert feature_row(warehouse, 2100375, "synthetic_test")["elix_chf"] == 1
    assert feature_row(warehouse, 2100375, "synthetic_test")["n_diagnoses"] == 9
    # The real mart is untouched by a generation build.
    assert query(warehouse, "select count(*) from main.mm_admission_features")[0][0] == 129


def test_unmapped_ethnicity_fails_build(built_demo_warehouse, tmp_path):
    warehouse = tmp_path / "unmapped.duckdb"
    warehouse.write_bytes(built_demo_warehouse.read_bytes())
    with duckdb.connect(str(warehouse)) as con:
        copy_as_generation(con, "synthetic_unmapped", [10056])
        con.execute("update synthetic_unmapped.admissions set ethnicity = 'MARTIAN'")

    with pytest.raises(dbt_runner.BuildError) as caught:
        dbt_runner.build(warehouse, generation="unmapped", select="+assert_every_ethnicity_mapped")

    assert "assert_every_ethnicity_mapped" in str(caught.value)
    assert "--store-failures" in str(caught.value)
    assert [node.name for node in caught.value.report.failed] == ["assert_every_ethnicity_mapped"]
    unmapped = query(warehouse, "select ethnicity from synthetic_unmapped.dq_unmapped_ethnicities")
    assert unmapped == [("MARTIAN",)]


def test_docs_show_lineage_from_raw(built_demo_warehouse):
    target = dbt_runner.docs_generate(built_demo_warehouse)

    assert (target / "index.html").exists()
    assert (target / "catalog.json").exists()
    manifest = json.loads((target / "manifest.json").read_text())
    parents = manifest["parent_map"]
    assert parents["model.equisynth.stg_mimic__diagnoses_icd"] == ["source.equisynth.mimic.diagnoses_icd"]
    assert "model.equisynth.stg_mimic__diagnoses_icd" in parents["model.equisynth.int_diagnoses__checked"]
    assert "model.equisynth.int_admission_comorbidities" in parents["model.equisynth.mm_admission_features"]
    assert parents["model.equisynth.mm_admission_features_all"] == ["model.equisynth.mm_admission_features"]
