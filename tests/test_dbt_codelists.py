"""equisynth.codelists: the dbt code-list seeds read in Python with the shared matching rule."""

import yaml

from equisynth import codelists
from equisynth.paths import DBT_PROJECT_DIR


def mart_columns() -> list[str]:
    documented = yaml.safe_load((DBT_PROJECT_DIR / "models" / "marts" / "mm_admission_features.yml").read_text())
    return [column["name"] for column in documented["models"][0]["columns"]]


def test_flags_for_known_codes():
    assert codelists.flags_for_code("4280") == {"elix_chf", "cci_chf"}
    assert codelists.flags_for_code("42731") == {"elix_arrhythmia"}
    assert codelists.flags_for_code("25040") == {"elix_diabetes_complicated", "cci_diabetes_complicated"}
    assert codelists.flags_for_code("25080") == {"elix_diabetes_complicated", "cci_diabetes_uncomplicated"}
    assert codelists.flags_for_code("1977") == {"elix_metastatic_cancer", "cci_metastatic"}
    assert codelists.flags_for_code("5712") == {"elix_liver_disease", "elix_alcohol_abuse", "cci_mild_liver"}
    assert codelists.flags_for_code("V6542") == {"elix_drug_abuse"}
    assert codelists.flags_for_code("V654") == set()
    assert codelists.flags_for_code("0389") == set()


def test_flags_range_bounds_inclusive():
    assert "elix_chf" in codelists.flags_for_code("4254")
    assert "elix_chf" in codelists.flags_for_code("42599")
    assert "elix_chf" not in codelists.flags_for_code("4253")
    assert "cci_malignancy" in codelists.flags_for_code("1958")
    assert "cci_malignancy" not in codelists.flags_for_code("1959")


def test_code_normalised_like_staging():
    assert codelists.flags_for_code(" v450 ") == {"elix_arrhythmia"}
    assert codelists.flags_for_code("") == set()
    assert codelists.chapter_for_code(None) is None


def test_chapter_for_codes():
    assert codelists.chapter_for_code("0389") == "dx_ch01_infectious"
    assert codelists.chapter_for_code("389") == "dx_ch06_nervous"
    assert codelists.chapter_for_code("99592") == "dx_ch17_injury"
    assert codelists.chapter_for_code("E8889") == "dx_ch_e_external"
    assert codelists.chapter_for_code("V4983") == "dx_ch_v_supplementary"
    assert codelists.chapter_for_code("XYZ") is None


def test_hierarchy_suppresses_weaker_flag():
    lists = codelists.load_code_lists()

    assert lists.apply_hierarchy({"elix_diabetes_complicated", "elix_diabetes_uncomplicated"}) == {"elix_diabetes_complicated"}
    assert lists.apply_hierarchy({"cci_severe_liver", "cci_mild_liver"}) == {"cci_severe_liver"}
    assert lists.apply_hierarchy({"elix_solid_tumor"}) == {"elix_solid_tumor"}


def test_seed_flags_are_mart_columns():
    lists = codelists.load_code_lists()
    columns = mart_columns()

    assert lists.elixhauser_flags == [column for column in columns if column.startswith("elix_")]
    assert lists.charlson_flags == [column for column in columns if column.startswith("cci_")]
    assert lists.chapter_names == [column for column in columns if column.startswith("dx_ch")]
    assert len(lists.elixhauser_flags) == 31
    assert len(lists.charlson_flags) == 17
    assert len(lists.chapter_names) == 19


def test_every_chapter_code_in_one_chapter():
    lists = codelists.load_code_lists()
    for number in range(1, 1000):
        code = f"{number:03d}"
        matching = [
            chapter
            for chapter, low, high in lists.chapters[["chapter", "code_from", "code_to"]].itertuples(index=False)
            if codelists.code_matches(code, low, high)
        ]
        assert len(matching) == 1, (code, matching)


def test_ethnicity_seed_covers_full_release():
    import csv

    with (DBT_PROJECT_DIR / "seeds" / "seed_ethnicity_groups.csv").open(newline="") as handle:
        groups = {row["ethnicity"]: row["ethnicity_group"] for row in csv.DictReader(handle)}

    assert len(groups) == 41
    assert groups["HISPANIC/LATINO - PUERTO RICAN"] == "HISPANIC"
    assert groups["AMERICAN INDIAN/ALASKA NATIVE FEDERALLY RECOGNIZED TRIBE"] == "NATIVE"
    assert groups["UNABLE TO OBTAIN"] == "UNKNOWN"
    assert set(groups.values()) == {"WHITE", "BLACK", "HISPANIC", "ASIAN", "NATIVE", "OTHER", "UNKNOWN"}
