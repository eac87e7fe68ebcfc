"""Release names: `<dataset>-mm-<generator>-<target>-<by...>-v<version>`.

Example: `mimic3-mm-diffusion-parity-ethnicity-v1.0.0` is a release derived from the full
MIMIC-III v1.4, made by the diffusion generator, rebalanced to equal ethnicity shares.
"""

import json
import re

import duckdb

from equisynth.errors import ConfigError, NotFoundError
from equisynth.sample.generate import FIRST_HADM_ID, FIRST_SUBJECT_ID
from equisynth.warehouse import table_exists

VERSION_PATTERN = re.compile(r"^\d+\.\d+\.\d+$")

# raw.load_manifest.source_form -> dataset token of the release name.
DATASET_LABELS = {"full": "mimic3", "demo": "mimic3demo", "sample": "sample"}


# Long descriptions of the dataset tokens, for the data card and the DataCite title.
DATASET_DESCRIPTIONS = {
    "mimic3": "MIMIC-III Clinical Database v1.4",
    "mimic3demo": "MIMIC-III Clinical Database Demo v1.4",
    "sample": "the equisynth built-in simulated sample (no real patients)",
}

# Generations without a rebalancing spec: `rows` samples the generator as trained, `counts`
# draws a user-given number of rows per condition.
UNREBALANCED_TARGETS = {"rows": "norebalance", "counts": "counts"}


def check_version(version: str) -> str:
    if not VERSION_PATTERN.match(version):
        raise ConfigError(f"Release version {version!r} is invalid: use MAJOR.MINOR.PATCH, e.g. 1.0.0.")
    return version


def dataset_label(con: duckdb.DuckDBPyConnection) -> str:
    """Return the dataset token (`mimic3`, `mimic3demo` or `sample`) of the loaded raw data.

    raw.load_manifest.source_form distinguishes the demo (lower-case headers) from the full
    release's form (upper-case headers, gzip), and records the built-in simulated sample as
    'sample' (its folder carries a marker file). A sample written before the marker existed is
    recognised by its ids: it numbers subject_id 1..n and hadm_id 100001..100000+m without gaps,
    while MIMIC-III ids have gaps (the demo's 100 patients alone span subject_id 10006 to 44228).
    """
    if not table_exists(con, "raw", "load_manifest"):
        raise NotFoundError("Table raw.load_manifest is not in the warehouse. Run `equisynth load --raw DIR` first.")

    forms = sorted(
        row[0]
        for row in con.execute(
            "select distinct source_form from raw.load_manifest where source_form is not null"
        ).fetchall()
    )
    if forms not in (["demo"], ["full"], ["sample"]):
        raise NotFoundError(
            f"raw.load_manifest.source_form is {forms}, expected one of 'demo', 'full' or 'sample' for every file. "
            "Load one unmodified MIMIC-III folder with `equisynth load --raw DIR`."
        )
    if forms == ["full"] and _has_sample_ids(con):
        return "sample"
    return DATASET_LABELS[forms[0]]


def _has_sample_ids(con: duckdb.DuckDBPyConnection) -> bool:
    if not (table_exists(con, "raw", "patients") and table_exists(con, "raw", "admissions")):
        return False
    patients = con.execute(
        "select min(subject_id), max(subject_id), count(distinct subject_id) from raw.patients"
    ).fetchone()
    admissions = con.execute(
        "select min(hadm_id), max(hadm_id), count(distinct hadm_id) from raw.admissions"
    ).fetchone()
    return (
        patients[2] > 0
        and patients[0] == FIRST_SUBJECT_ID
        and patients[1] == patients[2]
        and admissions[0] == FIRST_HADM_ID
        and admissions[1] == FIRST_HADM_ID + admissions[2] - 1
    )


def _token(value: str) -> str:
    """Lower-case a value and keep letters and digits, so it cannot break the dash-separated name."""
    return re.sub(r"[^a-z0-9]+", "", value.lower())


def rebalancing_tokens(mode: str, rebalance_spec_json: str | None) -> list[str]:
    """Return the `<target>-<by...>` tokens, e.g. ['parity', 'ethnicity', 'insurance']."""
    if not rebalance_spec_json:
        return [UNREBALANCED_TARGETS.get(mode, _token(mode) or "norebalance")]

    spec = json.loads(rebalance_spec_json)
    target = _token(str(spec.get("target", "custom"))) or "custom"
    by = spec.get("by") or []
    if isinstance(by, str):
        by = [by]

    # ethnicity_group -> ethnicity, age_band -> age: the name carries the attribute, not its coding.
    by_tokens = [_token(re.sub(r"_(group|band)$", "", str(column))) for column in by]
    return [target, *[token for token in by_tokens if token]]


def release_name(dataset: str, generator: str, rebalancing: list[str], version: str) -> str:
    check_version(version)
    parts = [dataset, "mm", _token(generator), *rebalancing, f"v{version}"]
    return "-".join(parts)
