"""Tests of the built-in simulated MIMIC-III sample (`equisynth sample`)."""

import gzip
import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from equisynth.errors import EquisynthError
from equisynth.sample import TABLES, write_sample
from equisynth.sample.generate import COLUMNS

TEXT_COLUMNS = {"ICD9_CODE": str}
DATE_COLUMNS = {
    "PATIENTS": ["DOB", "DOD", "DOD_HOSP", "DOD_SSN"],
    "ADMISSIONS": ["ADMITTIME", "DISCHTIME", "DEATHTIME", "EDREGTIME", "EDOUTTIME"],
    "ICUSTAYS": ["INTIME", "OUTTIME"],
    "TRANSFERS": ["INTIME", "OUTTIME"],
    "SERVICES": ["TRANSFERTIME"],
    "PRESCRIPTIONS": ["STARTDATE", "ENDDATE"],
}


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory) -> Path:
    """A 1,000-patient sample with seed 0, written once per session."""
    folder = tmp_path_factory.mktemp("sample") / "s"
    counts = write_sample(1_000, folder, seed=0)
    (folder / "counts.txt").write_text(repr(counts))
    return folder


@pytest.fixture(scope="session")
def tables(sample_dir) -> dict[str, pd.DataFrame]:
    frames = {}
    for name in TABLES:
        frame = pd.read_csv(sample_dir / f"{name}.csv.gz", dtype=TEXT_COLUMNS, keep_default_na=False, na_values=[""])
        for column in DATE_COLUMNS.get(name, []):
            frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d %H:%M:%S")
        frames[name] = frame
    return frames


@pytest.fixture(scope="session")
def admission_ages(tables) -> pd.DataFrame:
    admissions = tables["ADMISSIONS"].merge(tables["PATIENTS"][["SUBJECT_ID", "DOB", "GENDER"]], on="SUBJECT_ID")
    admissions["AGE"] = admissions["ADMITTIME"].dt.year - admissions["DOB"].dt.year
    return admissions


@pytest.fixture(scope="session")
def elixhauser_flags(tables) -> pd.DataFrame:
    """One row per admission and Elixhauser flag matched by its diagnoses, after the hierarchy."""
    codelists = pytest.importorskip("equisynth.codelists")
    lists = codelists.load_code_lists()
    diagnoses = tables["DIAGNOSES_ICD"]
    flags_of = {code: {f for f in lists.flags_for_code(code) if f.startswith("elix_")} for code in diagnoses["ICD9_CODE"].unique()}
    rows = []
    for hadm_id, codes in diagnoses.groupby("HADM_ID")["ICD9_CODE"]:
        flags = lists.apply_hierarchy(set().union(*(flags_of[c] for c in codes)))
        rows.extend((hadm_id, flag) for flag in flags)
    return pd.DataFrame(rows, columns=["HADM_ID", "flag"])


def _file_digests(folder: Path) -> dict[str, str]:
    return {name: hashlib.sha256((folder / f"{name}.csv.gz").read_bytes()).hexdigest() for name in TABLES}


def test_every_table_written(sample_dir, tables):
    counts = eval((sample_dir / "counts.txt").read_text())
    assert sorted(counts) == sorted(TABLES)
    for name in TABLES:
        assert (sample_dir / f"{name}.csv.gz").exists(), name
        assert len(tables[name]) == counts[name], name
    assert counts["PATIENTS"] == 1_000


def test_columns_match_demo_headers(demo_dir, sample_dir):
    for name in TABLES:
        demo_header = (demo_dir / f"{name}.csv").read_text(encoding="utf-8").splitlines()[0].split(",")
        with gzip.open(sample_dir / f"{name}.csv.gz", "rt", encoding="utf-8") as handle:
            header = handle.readline().rstrip("\n").split(",")
        assert header == ['"' + c.upper() + '"' for c in demo_header], name
        assert COLUMNS[name] == [c.upper() for c in demo_header], name


def test_gzip_header_has_no_name_or_time(sample_dir):
    for name in TABLES:
        head = (sample_dir / f"{name}.csv.gz").read_bytes()[:10]
        assert head[:2] == b"\x1f\x8b", name
        assert head[3] & 0x08 == 0, f"{name}: gzip header stores a file name"
        assert head[4:8] == b"\x00\x00\x00\x00", f"{name}: gzip header stores a modification time"


def test_same_seed_gives_identical_files(tmp_path):
    write_sample(200, tmp_path / "a", seed=7)
    write_sample(200, tmp_path / "b", seed=7)
    write_sample(200, tmp_path / "c", seed=8)
    assert _file_digests(tmp_path / "a") == _file_digests(tmp_path / "b")
    changed = {name for name, digest in _file_digests(tmp_path / "c").items() if digest != _file_digests(tmp_path / "a")[name]}
    assert "ADMISSIONS" in changed
    assert "DIAGNOSES_ICD" in changed


def test_text_quoted_numbers_and_times_not(sample_dir):
    with gzip.open(sample_dir / "ADMISSIONS.csv.gz", "rt", encoding="utf-8") as handle:
        handle.readline()
        line = handle.readline().rstrip("\n")
    fields = line.split(",")
    assert fields[0].isdigit()
    assert fields[3][0].isdigit()
    assert len(fields[3]) == 19
    assert fields[6].startswith('"')
    assert fields[6].endswith('"')
    with gzip.open(sample_dir / "DIAGNOSES_ICD.csv.gz", "rt", encoding="utf-8") as handle:
        handle.readline()
        assert handle.readline().rstrip("\n").split(",")[4].startswith('"')


def test_icd9_codes_are_text_with_e_and_v(tables):
    codes = tables["DIAGNOSES_ICD"]["ICD9_CODE"]
    assert codes.map(type).eq(str).all()
    assert not codes.str.contains(r"\.").any()
    assert codes.str.startswith("0").any(), "no code with a leading zero"
    assert codes.str.startswith("E").any(), "no E code"
    assert codes.str.startswith("V").any(), "no V code"
    assert codes.str.fullmatch(r"(\d{3,5}|V\d{2,4}|E\d{3,4})").all()


def test_dictionaries_cover_codes_in_use(tables):
    dictionary = set(tables["D_ICD_DIAGNOSES"]["ICD9_CODE"])
    used = set(tables["DIAGNOSES_ICD"]["ICD9_CODE"])
    assert used <= dictionary
    assert len(dictionary - used) >= 14_000, "the dictionary should hold codes the sample does not use"
    assert tables["D_ICD_DIAGNOSES"]["ICD9_CODE"].is_unique
    assert tables["D_ICD_DIAGNOSES"]["SHORT_TITLE"].str.len().max() <= 24
    assert tables["D_ICD_PROCEDURES"]["SHORT_TITLE"].str.len().max() <= 24
    assert len(tables["D_ICD_PROCEDURES"]) >= len(set(tables["PROCEDURES_ICD"]["ICD9_CODE"])) + 20
    assert set(tables["PROCEDURES_ICD"]["ICD9_CODE"]) <= set(tables["D_ICD_PROCEDURES"]["ICD9_CODE"])


def test_diagnosis_dictionary_is_cms_v32(tables):
    dictionary = tables["D_ICD_DIAGNOSES"]
    assert len(dictionary) == 14_567
    assert dictionary["ICD9_CODE"].tolist() == sorted(dictionary["ICD9_CODE"])
    assert dictionary["ROW_ID"].tolist() == list(range(1, 14_568))
    assert dictionary["SHORT_TITLE"].notna().all()
    assert dictionary["LONG_TITLE"].notna().all()

    titles = dictionary.set_index("ICD9_CODE")
    assert titles.loc["0010", "SHORT_TITLE"] == "Cholera d/t vib cholerae"
    assert titles.loc["0010", "LONG_TITLE"] == "Cholera due to vibrio cholerae"
    assert titles.loc["4957", "SHORT_TITLE"] == '"ventilation" pneumonit', "quotes inside a title must survive CSV quoting"
    assert titles.loc["V9199", "SHORT_TITLE"] == "Mult gest-plac/sac undet"


def test_diagnosis_dictionary_titles_from_cms(tables):
    from equisynth.sample.cms_dictionary import cms_diagnoses

    cms = cms_diagnoses()
    titles = tables["D_ICD_DIAGNOSES"].set_index("ICD9_CODE")
    for code in sorted(set(tables["DIAGNOSES_ICD"]["ICD9_CODE"]) & set(cms)):
        assert (titles.loc[code, "SHORT_TITLE"], titles.loc[code, "LONG_TITLE"]) == cms[code], code


def test_diagnosis_dictionary_fills_every_chapter(tables):
    codelists = pytest.importorskip("equisynth.codelists")
    lists = codelists.load_code_lists()
    used = set(tables["DIAGNOSES_ICD"]["ICD9_CODE"])
    dictionary = tables["D_ICD_DIAGNOSES"]
    unused = dictionary.loc[~dictionary["ICD9_CODE"].isin(used), "ICD9_CODE"]
    per_chapter = unused.map(lists.chapter_for_code).value_counts()
    for chapter in lists.chapters["chapter"].unique():
        assert per_chapter.get(chapter, 0) >= 20, f"{chapter}: only {per_chapter.get(chapter, 0)} dictionary codes unused by patients"


def test_dates_shifted_and_ordered(tables, admission_ages):
    admissions = tables["ADMISSIONS"]
    assert admissions["ADMITTIME"].dt.year.between(2100, 2210).all()
    assert (admissions["DISCHTIME"] > admissions["ADMITTIME"]).all()
    assert (admission_ages["DOB"] <= admission_ages["ADMITTIME"]).all()

    died = admissions[admissions["HOSPITAL_EXPIRE_FLAG"] == 1]
    assert len(died) > 0
    assert (died["DEATHTIME"] == died["DISCHTIME"]).all()
    assert admissions.loc[admissions["HOSPITAL_EXPIRE_FLAG"] == 0, "DEATHTIME"].isna().all()

    patients = tables["PATIENTS"].set_index("SUBJECT_ID")
    first_admit = admissions.groupby("SUBJECT_ID")["ADMITTIME"].min()
    last_discharge = admissions.groupby("SUBJECT_ID")["DISCHTIME"].max()
    dead = patients["DOD"].notna()
    assert (patients.loc[dead, "DOD"] >= first_admit[dead].dt.normalize()).all()
    assert (patients.loc[dead, "DOD"] >= last_discharge[dead].dt.normalize()).all()
    assert (patients["EXPIRE_FLAG"] == dead.astype(int)).all()


def test_ages_above_89_shifted_by_300_years(admission_ages):
    adults = admission_ages[admission_ages["ADMISSION_TYPE"] != "NEWBORN"]
    assert (adults["AGE"] >= 18).all()
    assert not adults["AGE"].between(91, 299).any()
    assert (adults["AGE"] >= 300).any(), "no patient older than 89"
    assert (admission_ages.loc[admission_ages["ADMISSION_TYPE"] == "NEWBORN", "AGE"] == 0).all()


def test_icu_stays_inside_admissions(tables):
    stays = tables["ICUSTAYS"].merge(tables["ADMISSIONS"], on=["SUBJECT_ID", "HADM_ID"], how="left")
    assert stays["ADMITTIME"].notna().all()
    assert (stays["INTIME"] >= stays["ADMITTIME"]).all()
    assert (stays["OUTTIME"] <= stays["DISCHTIME"]).all()
    assert (stays["OUTTIME"] >= stays["INTIME"]).all()
    los = (stays["OUTTIME"] - stays["INTIME"]).dt.total_seconds() / 86_400
    assert np.allclose(stays["LOS"], los, atol=1e-3)
    assert stays["ICUSTAY_ID"].is_unique


def test_keys_consistent_across_tables(tables):
    admissions = tables["ADMISSIONS"]
    assert admissions["HADM_ID"].is_unique
    assert tables["PATIENTS"]["SUBJECT_ID"].is_unique
    assert set(admissions["SUBJECT_ID"]) == set(tables["PATIENTS"]["SUBJECT_ID"])
    pairs = set(zip(admissions["SUBJECT_ID"], admissions["HADM_ID"]))
    for name in ["ICUSTAYS", "DIAGNOSES_ICD", "PROCEDURES_ICD", "PRESCRIPTIONS", "SERVICES", "TRANSFERS"]:
        assert set(zip(tables[name]["SUBJECT_ID"], tables[name]["HADM_ID"])) <= pairs, name
        assert tables[name]["ROW_ID"].tolist() == list(range(1, len(tables[name]) + 1)), name
    stays = set(tables["ICUSTAYS"]["ICUSTAY_ID"])
    assert set(tables["TRANSFERS"]["ICUSTAY_ID"].dropna().astype(int)) == stays
    assert set(tables["PRESCRIPTIONS"]["ICUSTAY_ID"].dropna().astype(int)) <= stays
    diagnoses = tables["DIAGNOSES_ICD"]
    assert not diagnoses.duplicated(["HADM_ID", "ICD9_CODE"]).any()
    assert not diagnoses.duplicated(["HADM_ID", "SEQ_NUM"]).any()


def test_admissions_per_patient_and_newborns(tables):
    admissions = tables["ADMISSIONS"]
    per_patient = admissions.groupby("SUBJECT_ID").size()
    assert 1.1 <= per_patient.mean() <= 1.45
    assert (per_patient >= 3).any()
    newborns = admissions[admissions["ADMISSION_TYPE"] == "NEWBORN"]
    assert 0.05 <= len(newborns) / len(admissions) <= 0.25
    first_codes = tables["DIAGNOSES_ICD"].query("SEQ_NUM == 1").set_index("HADM_ID")["ICD9_CODE"]
    assert first_codes.loc[newborns["HADM_ID"]].str.startswith("V3").all()


def test_some_readmissions_within_30_days(tables):
    admissions = tables["ADMISSIONS"].sort_values(["SUBJECT_ID", "ADMITTIME"])
    next_admit = admissions.groupby("SUBJECT_ID")["ADMITTIME"].shift(-1)
    gap_days = (next_admit - admissions["DISCHTIME"]).dt.total_seconds() / 86_400
    assert (gap_days > 0).sum() == gap_days.notna().sum(), "admissions of a patient overlap"
    assert (gap_days <= 30).sum() >= 10


def test_subgroup_shares_unequal(tables):
    shares = tables["ADMISSIONS"]["INSURANCE"].value_counts(normalize=True)
    assert shares["Medicare"] > 0.3
    assert shares["Self Pay"] < 0.05
    ethnicity = tables["ADMISSIONS"]["ETHNICITY"].value_counts(normalize=True)
    assert ethnicity["WHITE"] > 0.55


def test_multimorbidity_rises_with_age(admission_ages, elixhauser_flags):
    counts = elixhauser_flags.groupby("HADM_ID").size()
    adults = admission_ages[admission_ages["ADMISSION_TYPE"] != "NEWBORN"].copy()
    adults["multimorbid"] = adults["HADM_ID"].map(counts).fillna(0) >= 2
    young = adults.loc[adults["AGE"] < 45, "multimorbid"].mean()
    old = adults.loc[adults["AGE"] >= 65, "multimorbid"].mean()
    assert old > young + 0.1


def test_diabetes_and_renal_failure_co_occur(admission_ages, elixhauser_flags):
    adults = admission_ages.loc[admission_ages["ADMISSION_TYPE"] != "NEWBORN", "HADM_ID"]
    flags = elixhauser_flags.assign(value=1).pivot_table(index="HADM_ID", columns="flag", values="value", fill_value=0)
    flags = flags.reindex(adults, fill_value=0)
    diabetes = (flags["elix_diabetes_uncomplicated"] + flags["elix_diabetes_complicated"]).clip(upper=1)
    renal = flags["elix_renal_failure"]
    lift = (diabetes * renal).mean() / (diabetes.mean() * renal.mean())
    assert lift > 1.2
    assert 0.1 < renal.mean() < 0.3


def test_mortality_rises_with_age(admission_ages):
    adults = admission_ages[admission_ages["ADMISSION_TYPE"] != "NEWBORN"]
    young = adults.loc[adults["AGE"] < 45, "HOSPITAL_EXPIRE_FLAG"].mean()
    old = adults.loc[adults["AGE"] >= 80, "HOSPITAL_EXPIRE_FLAG"].mean()
    assert old > young


def test_condition_codes_match_code_lists():
    codelists = pytest.importorskip("equisynth.codelists")
    from equisynth.sample import icd9

    lists = codelists.load_code_lists()
    for flag, entries in icd9.CONDITION_CODES.items():
        for code, _, _ in entries:
            flags = lists.flags_for_code(code)
            elixhauser = {f for f in flags if f.startswith("elix_")}
            assert elixhauser == ({flag} if flag.startswith("elix_") else set()), (flag, code, flags)
            if flag.startswith("cci_"):
                assert flag in flags, (flag, code, flags)
    for code, *_ in icd9.ADULT_OTHER_CODES + icd9.NEWBORN_OTHER_CODES + icd9.NEWBORN_LIVEBORN_CODES:
        assert not any(f.startswith("elix_") for f in lists.flags_for_code(code)), code
        assert lists.chapter_for_code(code) is not None, code


def test_loads_into_warehouse(sample_dir, tmp_path):
    loader = pytest.importorskip("equisynth.loader")
    report = loader.load_raw(sample_dir, tmp_path / "wh.duckdb", progress=False)
    counts = eval((sample_dir / "counts.txt").read_text())
    for name in TABLES:
        assert report.tables[name.lower()] == counts[name], name
    assert report.source_form == "sample"


def test_invalid_arguments_rejected(tmp_path):
    with pytest.raises(EquisynthError, match="number of patients"):
        write_sample(0, tmp_path / "x")
    with pytest.raises(EquisynthError, match="seed"):
        write_sample(10, tmp_path / "x", seed=-1)
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    with pytest.raises(EquisynthError, match="existing file"):
        write_sample(10, afile)
    assert not (tmp_path / "x").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.txt"], "staging folder left behind"


def test_command_writes_sample(tmp_path):
    from equisynth.cli import app

    result = CliRunner().invoke(app, ["sample", "--patients", "30", "--seed", "3", "--out", str(tmp_path / "s")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "s").iterdir()) == sorted([*(f"{name}.csv.gz" for name in TABLES), "EQUISYNTH_SAMPLE.json"])
    assert "not research data" in result.output

    rejected = CliRunner().invoke(app, ["sample", "--patients", "0", "--out", str(tmp_path / "t")])
    assert rejected.exit_code == 2
    assert not (tmp_path / "t").exists()
