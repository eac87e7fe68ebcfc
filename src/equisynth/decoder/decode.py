"""Decode generated admission rows (synthetic.gen_<g>) into MIMIC-III tables in schema synthetic_<g>.

The tables have the columns and types of the raw MIMIC-III v1.4 tables: PATIENTS, ADMISSIONS,
DIAGNOSES_ICD, ICUSTAYS, and a copy of the public D_ICD_DIAGNOSES dictionary. Row i of
synthetic.gen_<g> (in storage order) becomes hadm_id HADM_ID_START + i. Rows are grouped into
patients so that generated 30-day readmissions exist (see `patients`), and every other row is a
patient of its own.

Generated rows that cannot be decoded exactly as they are (see `diagnoses` and `icustays`) are
moved to the nearest feasible row, and synthetic.gen_<g> is rewritten with the final values, so
the generated rows and the dbt marts built over the decoded tables agree. Everything is written
in one transaction: a failure leaves the warehouse as it was.
"""

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from equisynth.decoder import ids
from equisynth.decoder.diagnoses import DiagnosisChooser, code_signatures
from equisynth.decoder.icustays import constrain_stays, draw_stays
from equisynth.decoder.patients import link_admissions
from equisynth.decoder.timeline import draw_admissions
from equisynth.decoder.vocabulary import frequent_values, sample_values
from equisynth.errors import EquisynthError, InputDataError, NotFoundError
from equisynth.paths import DBT_PROJECT_DIR
from equisynth.warehouse import connect

log = logging.getLogger(__name__)

GENERATION_ID = re.compile(r"^[a-z][a-z0-9_]{2,40}$")
DECODED_TABLES = ["patients", "admissions", "diagnoses_icd", "icustays", "d_icd_diagnoses"]
MAX_TIMESTAMP_REDRAWS = 50
GENERIC_OTHER_LANGUAGE = "OTHER"
DEAD_DISCHARGE_LOCATION = "DEAD/EXPIRED"


@dataclass
class DecodeReport:
    """Summary of a decoding: rows per table, code fallbacks and rows moved to a feasible value."""

    generation_id: str
    schema: str
    k: int
    tables: dict[str, int]
    candidate_codes: int
    code_fallbacks: int
    adjusted_rows: int
    adjustments: dict[str, int] = field(default_factory=dict)
    timestamp_redraws: int = 0


def generation_table(generation_id: str) -> str:
    return f"gen_{generation_id}"


def check_generation_id(generation_id: str) -> None:
    if not GENERATION_ID.match(generation_id or ""):
        raise InputDataError(
            f"Invalid generation id {generation_id!r}: use 3 to 41 lower-case letters, digits or underscores, "
            "starting with a letter. List generations with `select generation_id from ml.generations`."
        )


def decode(
    warehouse: Path | str | None,
    generation_id: str,
    k: int = 10,
    skip_first_diagnosis: bool = False,
    seed: int | None = None,
) -> DecodeReport:
    """Write synthetic_<generation_id>.{patients, admissions, diagnoses_icd, icustays, d_icd_diagnoses}.

    `k`: an ICD-9 code or text value is used only when at least k distinct real training
    patients have it (codes fall back to the dictionary, text to NULL or a generic value).
    `seed` defaults to the generation's seed. Raises NotFoundError for an unknown generation.
    """
    check_generation_id(generation_id)
    if k < 1:
        raise InputDataError(f"k = {k}: the minimum number of patients per code must be at least 1.")
    from equisynth.codelists import load_code_lists

    code_lists = load_code_lists()
    with connect(warehouse) as con:
        generation = _generation_record(con, generation_id)
        rows = _generated_rows(con, generation_id)
        seed = int(generation["seed"]) if seed is None and generation.get("seed") is not None else int(seed or 0)
        train = _training_subjects_sql(con, generation_id)
        rng = np.random.default_rng(seed)

        flag_columns = [c for c in rows.columns if c.startswith(("elix_", "cci_"))]
        chapter_columns = [c for c in rows.columns if c.startswith("dx_ch")]
        _require_columns(rows, generation_id, flag_columns, chapter_columns)

        candidates = _candidate_codes(con, train, k)
        dictionary = _fallback_dictionary(con, k)
        signatures = code_signatures(code_lists, [*candidates, *dictionary])
        chooser = DiagnosisChooser(
            flag_columns, chapter_columns,
            signature=signatures.__getitem__,
            hierarchy=code_lists.hierarchy,
            candidates=candidates,
            dictionary=dictionary,
            skip_first_diagnosis=skip_first_diagnosis,
            seed=seed,
        )
        log.info("Decoding %d generated rows of %s: %d codes seen in >= %d training patients", len(rows), generation_id, len(candidates), k)
        choice = chooser.choose(rows)

        final = rows.copy()
        final[flag_columns + chapter_columns] = choice.final_values[flag_columns + chapter_columns]
        if "multimorbid" in final.columns:
            # multimorbid is recomputed by dbt from the final flags; keep the generated rows equal to it.
            elixhauser = [c for c in flag_columns if c.startswith("elix_")]
            final["multimorbid"] = (final[elixhauser].sum(axis=1) >= 2).astype(int)
        final, stays_changed = constrain_stays(final)
        adjustments = Counter(choice.adjustments)
        links, readmit = link_admissions(final, rng)
        readmit_changed = np.zeros(len(final), dtype=bool)
        if "readmit_30d" in final.columns:
            readmit_changed = final["readmit_30d"].fillna(0).to_numpy(dtype=int) != readmit
            final["readmit_30d"] = readmit
            if readmit_changed.any():
                adjustments["readmission without a partner admission cleared"] += int(readmit_changed.sum())
        if stays_changed.any():
            adjustments["ICU stays or length of stay made consistent"] += int(stays_changed.sum())
        flags_changed = ~np.isclose(
            rows[flag_columns + chapter_columns].fillna(0).to_numpy(dtype=float),
            final[flag_columns + chapter_columns].to_numpy(dtype=float),
        ).all(axis=1)
        adjusted_rows = int((flags_changed | stays_changed.to_numpy() | readmit_changed).sum())

        vocabularies = _vocabularies(con, train, k)
        starts = _id_starts(con)
        tables, redraws = _draw_tables(con, final, links, choice.codes, vocabularies, starts, rng)
        tables["d_icd_diagnoses"] = None

        _write(con, generation_id, tables, final, rows.columns, choice.fallback_codes)
        written = {name: int(con.execute(f"select count(*) from synthetic_{generation_id}.{name}").fetchall()[0][0]) for name in DECODED_TABLES}

    report = DecodeReport(
        generation_id=generation_id,
        schema=f"synthetic_{generation_id}",
        k=k,
        tables=written,
        candidate_codes=len(candidates),
        code_fallbacks=choice.fallback_codes,
        adjusted_rows=adjusted_rows,
        adjustments=dict(adjustments),
        timestamp_redraws=redraws,
    )
    log.info(
        "Decoded %s: %s; %d code fallbacks; %d rows adjusted to a feasible value",
        generation_id, written, report.code_fallbacks, report.adjusted_rows,
    )
    return report


# -- reading -------------------------------------------------------------------------------

def table_exists(con, schema: str, table: str) -> bool:
    # fetchall, not fetchone: DuckDB 2 keeps a partly fetched result open and then refuses
    # to register a DataFrame on the same connection.
    return con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?", [schema, table]
    ).fetchall()[0][0] > 0


def require_table(con, schema: str, table: str, hint: str) -> None:
    if not table_exists(con, schema, table):
        raise NotFoundError(f"Table {schema}.{table} is not in the warehouse. {hint}")


def _generation_record(con, generation_id: str) -> dict:
    require_table(con, "ml", "generations", "Generate rows first with `equisynth generate`.")
    record = con.execute("select * from ml.generations where generation_id = ?", [generation_id]).fetchdf()
    if record.empty:
        known = [row[0] for row in con.execute("select generation_id from ml.generations order by created_at").fetchall()]
        raise NotFoundError(
            f"Generation {generation_id!r} is not in ml.generations. Known generations: {', '.join(known) or '(none)'}."
        )
    return record.iloc[0].to_dict()


def _generated_rows(con, generation_id: str) -> pd.DataFrame:
    table = generation_table(generation_id)
    require_table(con, "synthetic", table, f"Generation {generation_id} has no generated rows; run `equisynth generate` again.")
    rows = con.execute(f"select * from synthetic.{table} order by rowid").fetchdf()
    if rows.empty:
        raise InputDataError(f"Table synthetic.{table} has no rows; there is nothing to decode.")
    return rows


def _training_subjects_sql(con, generation_id: str) -> str:
    """SQL returning the subject_ids of the training split of the generation's model run."""
    require_table(con, "ml", "model_runs", "Train a model first with `equisynth train`.")
    require_table(con, "ml", "splits", "Train a model first with `equisynth train`.")
    query = f"""
        select splits.subject_id
        from ml.splits as splits
        inner join ml.model_runs as runs on runs.split_id = splits.split_id
        inner join ml.generations as generations on generations.run_id = runs.run_id
        where generations.generation_id = '{generation_id}' and splits.part = 'train'
    """
    if con.execute(f"select count(*) from ({query})").fetchall()[0][0] == 0:
        raise NotFoundError(
            f"Generation {generation_id}: its model run has no training split in ml.splits, so the codes seen "
            "in training patients cannot be counted. Train the model again with `equisynth train`."
        )
    return query


def _require_columns(rows: pd.DataFrame, generation_id: str, flag_columns: list[str], chapter_columns: list[str]) -> None:
    needed = ["age", "gender", "ethnicity_group", "insurance", "los_hospital_days", "icu_stays", "icu_days", "hospital_expire_flag"]
    missing = [column for column in needed if column not in rows.columns]
    if missing or not flag_columns or not chapter_columns:
        missing += [] if flag_columns else ["elix_* / cci_* flags"]
        missing += [] if chapter_columns else ["dx_ch* chapter counts"]
        raise InputDataError(
            f"Table synthetic.gen_{generation_id} lacks column(s) {', '.join(missing)} that decoding needs. "
            "Generate the rows again from a model trained on mm_admission_features."
        )


def _candidate_codes(con, train_subjects: str, k: int) -> dict[str, int]:
    """Count the distinct training patients of each dictionary code seen in at least k of them."""
    rows = con.execute(f"""
        select upper(trim(icd9_code)) as code, count(distinct subject_id) as patients
        from raw.diagnoses_icd
        where subject_id in ({train_subjects})
          and upper(trim(icd9_code)) in (select upper(trim(icd9_code)) from raw.d_icd_diagnoses)
        group by 1
        having count(distinct subject_id) >= ?
    """, [k]).fetchall()
    return {code: int(patients) for code, patients in rows}


def _fallback_dictionary(con, k: int) -> list[str]:
    """Dictionary codes usable as fallbacks: those that no real patient or at least k real patients have."""
    rows = con.execute("""
        with seen as (
            select upper(trim(icd9_code)) as code, count(distinct subject_id) as patients
            from raw.diagnoses_icd
            where icd9_code is not null
            group by 1
        )
        select distinct upper(trim(dictionary.icd9_code)) as code, coalesce(seen.patients, 0) between 1 and ? - 1 as rare
        from raw.d_icd_diagnoses as dictionary
        left join seen on seen.code = upper(trim(dictionary.icd9_code))
        where dictionary.icd9_code is not null
        order by 1
    """, [k]).fetchall()
    return [code for code, rare in rows if not rare]


def _kept_languages() -> list[str]:
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    return list(project.get("vars", {}).get("kept_languages", []))


def _vocabularies(con, train: str, k: int) -> dict[str, pd.Series]:
    """Text values seen for at least k training patients, per column (and per ethnicity group)."""
    vocabularies = {
        "discharge_location": frequent_values(con, "admissions", "discharge_location", train, k, "hospital_expire_flag = 0"),
        "religion": frequent_values(con, "admissions", "religion", train, k),
        "diagnosis": frequent_values(con, "admissions", "diagnosis", train, k),
        "dbsource": frequent_values(con, "icustays", "dbsource", train, k),
        "first_careunit": frequent_values(con, "icustays", "first_careunit", train, k),
        "first_wardid": frequent_values(con, "icustays", "first_wardid", train, k),
    }
    kept = _kept_languages()
    kept_sql = ", ".join("'" + language.replace("'", "''") + "'" for language in kept) or "''"
    vocabularies["other_language"] = frequent_values(con, "admissions", "upper(trim(language))", train, k, f"upper(trim(language)) not in ({kept_sql})")

    seed_path = DBT_PROJECT_DIR / "seeds" / "seed_ethnicity_groups.csv"
    groups = pd.read_csv(seed_path, dtype=str)
    con.register("ethnicity_seed", groups)
    ethnicities = con.execute(f"""
        select seed.ethnicity_group, seed.ethnicity, count(distinct admissions.subject_id) as patients
        from raw.admissions as admissions
        inner join ethnicity_seed as seed on seed.ethnicity = trim(admissions.ethnicity)
        where admissions.subject_id in ({train})
        group by 1, 2
        having count(distinct admissions.subject_id) >= ?
    """, [k]).fetchdf()
    con.unregister("ethnicity_seed")
    for group, values in groups.groupby("ethnicity_group", sort=False):
        seen = ethnicities.loc[ethnicities["ethnicity_group"] == group]
        if len(seen):
            vocabularies[f"ethnicity:{group}"] = pd.Series(seen["patients"].to_numpy(dtype=float), index=seen["ethnicity"].to_numpy())
        else:
            # The seed lists each group's most frequent MIMIC-III value first: a generic, public value.
            vocabularies[f"ethnicity:{group}"] = pd.Series([1.0], index=[values["ethnicity"].iloc[0]])
    return vocabularies


def _id_starts(con) -> dict[str, int]:
    def largest(table: str, column: str) -> int | None:
        if not table_exists(con, "raw", table):
            return None
        return con.execute(f"select max({column}) from raw.{table}").fetchall()[0][0]

    return {
        "subject_id": ids.id_start(ids.SUBJECT_ID_START, largest("patients", "subject_id")),
        "hadm_id": ids.id_start(ids.HADM_ID_START, largest("admissions", "hadm_id")),
        "icustay_id": ids.id_start(ids.ICUSTAY_ID_START, largest("icustays", "icustay_id")),
        "row_id": max(ids.id_start(ids.ROW_ID_START, largest(t, "row_id")) for t in ["patients", "admissions", "diagnoses_icd", "icustays"]),
    }


# -- building the tables -------------------------------------------------------------------

def _draw_tables(con, rows: pd.DataFrame, links: pd.DataFrame, codes: list[list[str]], vocabularies: dict, starts: dict, rng: np.random.Generator) -> tuple[dict[str, pd.DataFrame], int]:
    """Draw times and ICU stays, redrawing every patient with a timestamp equal to a real one."""
    times = draw_admissions(rows, rng, links)
    stays = draw_stays(rows, times, rng, vocabularies)
    redraws = 0
    for _ in range(MAX_TIMESTAMP_REDRAWS):
        clashing = _rows_with_real_timestamps(con, times, stays)
        if not clashing:
            break
        patients = set(links.loc[sorted(clashing), "patient"])
        subset = rows.loc[links["patient"].isin(patients)]
        redraws += len(subset)
        times.loc[subset.index] = draw_admissions(subset, rng, links.loc[subset.index])
        stays = pd.concat([stays.loc[~stays["row"].isin(subset.index)], draw_stays(subset, times.loc[subset.index], rng, vocabularies)])
        stays = stays.sort_values(["row", "intime"], kind="stable").reset_index(drop=True)
    else:
        raise EquisynthError(
            f"Could not draw synthetic timestamps that differ from every real one after {MAX_TIMESTAMP_REDRAWS} attempts."
        )
    if redraws:
        log.info("Redrew the dates of %d synthetic admissions whose timestamps coincided with a real one", redraws)
    return _assemble(rows, times, stays, codes, vocabularies, starts, rng), redraws


def _rows_with_real_timestamps(con, times: pd.DataFrame, stays: pd.DataFrame) -> set:
    """Row indexes with any timestamp equal to a timestamp in any raw table."""
    columns = ["admittime", "dischtime", "deathtime", "edregtime", "edouttime", "dob", "dod", "dod_hosp", "dod_ssn"]
    frames = [pd.DataFrame({"row": times.index, "ts": pd.to_datetime(times[c])}) for c in columns]
    frames += [pd.DataFrame({"row": stays["row"], "ts": pd.to_datetime(stays[c])}) for c in ["intime", "outtime"]]
    synthetic = pd.concat(frames, ignore_index=True).dropna()
    con.register("synthetic_timestamps", synthetic)
    real_columns = con.execute("""
        select table_name, column_name from information_schema.columns
        where table_schema = 'raw' and data_type in ('TIMESTAMP', 'DATE', 'TIMESTAMP WITH TIME ZONE')
        order by 1, 2
    """).fetchall()
    clashing: set = set()
    for table, column in real_columns:
        hits = con.execute(f"""
            select distinct row from synthetic_timestamps
            where ts in (select cast({column} as timestamp) from raw.{table} where {column} is not null)
        """).fetchall()
        clashing.update(row for (row,) in hits)
    con.unregister("synthetic_timestamps")
    return clashing


def _assemble(rows, times, stays, codes, vocabularies, starts, rng) -> dict[str, pd.DataFrame]:
    n = len(rows)
    position = pd.Series(np.arange(n), index=rows.index)
    subject_id = starts["subject_id"] + times["patient"].to_numpy(dtype=np.int64)
    hadm_id = ids.id_range(starts["hadm_id"], n)
    died = rows["hospital_expire_flag"].fillna(0).to_numpy(dtype=int)

    # One PATIENTS row per patient: gender and dob of the first admission, death from the last.
    per_patient = times.assign(gender=rows["gender"].to_numpy()).groupby("patient", sort=True).agg(
        gender=("gender", "first"), dob=("dob", "first"), dod=("dod", "max"), dod_hosp=("dod_hosp", "max"),
        dod_ssn=("dod_ssn", "max"), expire_flag=("expire_flag", "max"),
    )
    patients = pd.DataFrame({
        "row_id": ids.id_range(starts["row_id"], len(per_patient)),
        "subject_id": starts["subject_id"] + per_patient.index.to_numpy(dtype=np.int64),
        "gender": per_patient["gender"].to_numpy(),
        "dob": per_patient["dob"].to_numpy(),
        "dod": per_patient["dod"].to_numpy(),
        "dod_hosp": per_patient["dod_hosp"].to_numpy(),
        "dod_ssn": per_patient["dod_ssn"].to_numpy(),
        "expire_flag": per_patient["expire_flag"].to_numpy(),
    })

    discharge = sample_values(vocabularies["discharge_location"], n, rng, default="HOME")
    discharge = np.where(died == 1, DEAD_DISCHARGE_LOCATION, discharge)
    admissions = pd.DataFrame({
        "row_id": ids.id_range(starts["row_id"], n),
        "subject_id": subject_id,
        "hadm_id": hadm_id,
        "admittime": times["admittime"].to_numpy(),
        "dischtime": times["dischtime"].to_numpy(),
        "deathtime": times["deathtime"].to_numpy(),
        "admission_type": _column_or_null(rows, "admission_type"),
        "admission_location": _column_or_null(rows, "admission_location"),
        "discharge_location": discharge,
        "insurance": rows["insurance"].to_numpy(),
        "language": _languages(rows, vocabularies, rng),
        "religion": sample_values(vocabularies["religion"], n, rng),
        "marital_status": _unknown_as_null(rows, "marital_status"),
        "ethnicity": _ethnicities(rows, vocabularies, rng),
        "edregtime": times["edregtime"].to_numpy(),
        "edouttime": times["edouttime"].to_numpy(),
        "diagnosis": sample_values(vocabularies["diagnosis"], n, rng),
        "hospital_expire_flag": died,
        "has_chartevents_data": (rows["icu_stays"].to_numpy(dtype=int) > 0).astype(int),
    })

    diagnosis_records = [
        (subject_id[i], hadm_id[i], seq, code)
        for i, row_codes in enumerate(codes)
        for seq, code in enumerate(row_codes, start=1)
    ]
    diagnoses = pd.DataFrame(diagnosis_records, columns=["subject_id", "hadm_id", "seq_num", "icd9_code"])
    diagnoses.insert(0, "row_id", ids.id_range(starts["row_id"], len(diagnoses)))

    stay_position = position.loc[stays["row"]].to_numpy()
    icustays = pd.DataFrame({
        "row_id": ids.id_range(starts["row_id"], len(stays)),
        "subject_id": subject_id[stay_position],
        "hadm_id": hadm_id[stay_position],
        "icustay_id": ids.id_range(starts["icustay_id"], len(stays)),
        "dbsource": stays["dbsource"].to_numpy(),
        "first_careunit": stays["first_careunit"].to_numpy(),
        "last_careunit": stays["last_careunit"].to_numpy(),
        "first_wardid": stays["first_wardid"].to_numpy(),
        "last_wardid": stays["last_wardid"].to_numpy(),
        "intime": stays["intime"].to_numpy(),
        "outtime": stays["outtime"].to_numpy(),
        "los": stays["los"].to_numpy(),
    })
    return {"patients": patients, "admissions": admissions, "diagnoses_icd": diagnoses, "icustays": icustays}


def _column_or_null(rows: pd.DataFrame, column: str) -> np.ndarray:
    return rows[column].to_numpy(dtype=object) if column in rows.columns else np.array([None] * len(rows), dtype=object)


def _unknown_as_null(rows: pd.DataFrame, column: str) -> np.ndarray:
    """Turn the mart's UNKNOWN (a missing value) back into the raw table's NULL."""
    values = _column_or_null(rows, column)
    return np.array([None if value == "UNKNOWN" else value for value in values], dtype=object)


def _languages(rows: pd.DataFrame, vocabularies: dict, rng: np.random.Generator) -> np.ndarray:
    """UNKNOWN becomes NULL, kept codes stay, OTHER becomes a frequent code outside the kept list."""
    values = _unknown_as_null(rows, "language")
    other = values == "OTHER"
    values[other] = sample_values(vocabularies["other_language"], int(other.sum()), rng, default=GENERIC_OTHER_LANGUAGE)
    return values


def _ethnicities(rows: pd.DataFrame, vocabularies: dict, rng: np.random.Generator) -> np.ndarray:
    groups = rows["ethnicity_group"].astype(str).to_numpy()
    values = np.empty(len(rows), dtype=object)
    for group in np.unique(groups):
        where = groups == group
        vocabulary = vocabularies.get(f"ethnicity:{group}")
        if vocabulary is None:
            raise InputDataError(
                f"Generated ethnicity_group {group!r} is not a group of dbt_project/seeds/seed_ethnicity_groups.csv."
            )
        values[where] = sample_values(vocabulary, int(where.sum()), rng)
    return values


# -- writing -------------------------------------------------------------------------------

def _raw_types(con, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = 'raw' and table_name = ? order by ordinal_position",
        [table],
    ).fetchall()


def _write(con, generation_id: str, tables: dict, final_rows: pd.DataFrame, gen_columns, fallbacks: int) -> None:
    schema = f"synthetic_{generation_id}"
    gen_table = f"synthetic.{generation_table(generation_id)}"
    gen_types = con.execute(
        "select column_name, data_type from information_schema.columns where table_schema = 'synthetic' and table_name = ? order by ordinal_position",
        [generation_table(generation_id)],
    ).fetchall()

    con.execute("begin transaction")
    try:
        con.execute(f"create schema if not exists {schema}")
        for name in DECODED_TABLES:
            con.execute(f"drop table if exists {schema}.{name}")
        for name, frame in tables.items():
            if frame is None:
                con.execute(f"create table {schema}.{name} as select * from raw.{name}")
                continue
            columns = _raw_types(con, name)
            con.register("decoded_frame", frame)
            select = ", ".join(f"cast({column} as {dtype}) as {column}" for column, dtype in columns)
            con.execute(f"create table {schema}.{name} as select {select} from decoded_frame")
            con.unregister("decoded_frame")

        con.register("final_rows", final_rows.reset_index(drop=True))
        select = ", ".join(f"cast({column} as {dtype}) as {column}" for column, dtype in gen_types)
        con.execute(f"create or replace table {gen_table} as select {select} from final_rows")
        con.unregister("final_rows")
        con.execute("update ml.generations set code_fallbacks = ? where generation_id = ?", [int(fallbacks), generation_id])
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise

