"""Release gates: checks that a generation must pass before any of it leaves the warehouse.

Each gate returns a GateResult. `reason` and `details` hold only aggregate figures, because
they are written into a forced release's manifest and data card. `examples` may hold real
values (an id, a date, a rare code) to help the user find the problem, and is only shown
locally, never written to a release.
"""

import logging
from dataclasses import dataclass, field

import duckdb

from equisynth.release.tables import ADMISSIONS, ICUSTAYS, ID_COLUMNS, PATIENT_TABLES, PATIENTS, synthetic_schema
from equisynth.warehouse import table_exists

log = logging.getLogger(__name__)

# Privacy metrics of quality.evaluation_metrics (subgroup 'overall') that the gates read.
REQUIRED_PRIVACY_METRICS = (
    "exact_match_rate_synthetic",
    "exact_match_rate_holdout",
    "dcr_p5_synthetic",
    "dcr_p5_holdout",
    "mia_auc",
)

MART = "mm_admission_features"
MAX_EXAMPLES = 5


@dataclass
class GateResult:
    name: str
    passed: bool
    reason: str
    details: dict = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def public(self) -> dict:
        """Gate outcome without `examples`, for the manifest and the data card."""
        return {"name": self.name, "passed": self.passed, "reason": self.reason, "details": self.details}


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> list[str]:
    rows = con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position",
        [schema, table],
    ).fetchall()
    return [row[0] for row in rows]


# --- validation -----------------------------------------------------------------------------------

def validation_summary(con: duckdb.DuckDBPyConnection, generation_id: str) -> dict:
    """Summarise the latest Great Expectations run of each suite and table of the generation."""
    if not table_exists(con, "quality", "validation_results"):
        return {"runs": [], "expectations": 0, "failed": 0, "failed_expectations": []}

    runs = con.execute(
        """
        with runs as (
            select suite, table_name, validation_id, max(run_time) as run_time
            from quality.validation_results
            where generation_id = ?
            group by suite, table_name, validation_id
        ),

        latest as (
            select *, row_number() over (
                partition by suite, table_name order by run_time desc, validation_id desc
            ) as recency
            from runs
        )

        select l.suite, l.table_name, l.validation_id, l.run_time,
               count(*) as expectations,
               count(*) filter (where not v.success) as failed
        from latest l
        join quality.validation_results v
          on v.validation_id = l.validation_id and v.suite = l.suite and v.table_name = l.table_name
        where l.recency = 1
        group by all
        order by l.suite, l.table_name
        """,
        [generation_id],
    ).fetchall()

    failed_expectations = con.execute(
        """
        with latest as (
            select suite, table_name, arg_max(validation_id, run_time) as validation_id
            from quality.validation_results
            where generation_id = ?
            group by suite, table_name
        )

        select v.table_name, v.expectation, v.column_name
        from quality.validation_results v
        join latest l using (suite, table_name, validation_id)
        where not v.success
        order by 1, 2, 3
        """,
        [generation_id],
    ).fetchall()

    return {
        "runs": [
            {
                "suite": suite,
                "table_name": table_name,
                "validation_id": validation_id,
                "run_time": run_time.isoformat() if run_time is not None else None,
                "expectations": expectations,
                "failed": failed,
            }
            for suite, table_name, validation_id, run_time, expectations, failed in runs
        ],
        "expectations": sum(row[4] for row in runs),
        "failed": sum(row[5] for row in runs),
        "failed_expectations": [
            {"table_name": table, "expectation": expectation, "column_name": column}
            for table, expectation, column in failed_expectations
        ],
    }


def _latest_validation_passed(con: duckdb.DuckDBPyConnection, generation_id: str, summary: dict) -> bool:
    """Ask the validation module, which owns the rule; fall back to the summary when it is absent."""
    try:
        from equisynth.validation import latest_validation_passed
    except ImportError:
        # NOTE: without equisynth.validation the rule is "the latest run of every suite has no failure".
        return bool(summary["runs"]) and summary["failed"] == 0
    return bool(latest_validation_passed(con, generation_id))


def check_validation(con: duckdb.DuckDBPyConnection, generation_id: str, summary: dict) -> GateResult:
    if not summary["runs"]:
        return GateResult(
            "validation",
            False,
            "The generation was never validated with Great Expectations. "
            f"Run `equisynth validate --generation {generation_id}`.",
        )

    passed = _latest_validation_passed(con, generation_id, summary)
    details = {"expectations": summary["expectations"], "failed": summary["failed"]}
    if passed:
        return GateResult("validation", True, "The latest Great Expectations validation passed.", details)

    failing = [
        f"{item['table_name']}" + (f".{item['column_name']}" if item["column_name"] else "") + f": {item['expectation']}"
        for item in summary["failed_expectations"]
    ]
    return GateResult(
        "validation",
        False,
        f"The latest Great Expectations validation failed ({summary['failed']} of "
        f"{summary['expectations']} expectations). See the Data Docs of `equisynth validate`.",
        details,
        failing[:MAX_EXAMPLES],
    )


# --- evaluation metrics ---------------------------------------------------------------------------

def privacy_metrics(con: duckdb.DuckDBPyConnection, generation_id: str) -> dict[str, float | None]:
    """Return the latest overall value of each privacy metric the gates read."""
    if not table_exists(con, "quality", "evaluation_metrics"):
        return {}
    rows = con.execute(
        """
        select metric, arg_max(value, evaluated_at)
        from quality.evaluation_metrics
        where generation_id = ? and subgroup = 'overall' and metric in (select unnest(?))
        group by metric
        """,
        [generation_id, list(REQUIRED_PRIVACY_METRICS)],
    ).fetchall()
    return {metric: value for metric, value in rows}


def check_evaluation(generation_id: str, metrics: dict[str, float | None]) -> GateResult:
    missing = [name for name in REQUIRED_PRIVACY_METRICS if metrics.get(name) is None]
    if missing:
        return GateResult(
            "evaluation",
            False,
            f"The evaluation has not been run, or lacks the privacy metric(s) {', '.join(missing)}. "
            f"Run `equisynth evaluate --generation {generation_id}`.",
        )
    return GateResult("evaluation", True, "The evaluation has been run with every privacy metric.")


def check_privacy_metrics(metrics: dict[str, float | None], max_membership_auc: float, dcr_tolerance: float) -> list[GateResult]:
    """Apply the thresholds to the stored exact-match, distance and membership-inference metrics."""
    results = []

    synthetic_rate = metrics.get("exact_match_rate_synthetic")
    holdout_rate = metrics.get("exact_match_rate_holdout")
    if synthetic_rate is None or holdout_rate is None:
        results.append(GateResult("exact_match_metric", False, "Exact-match rates are missing from the evaluation."))
    else:
        details = {"synthetic_rate": synthetic_rate, "holdout_rate": holdout_rate}
        passed = synthetic_rate <= holdout_rate
        verdict = "does not exceed" if passed else "exceeds"
        results.append(
            GateResult(
                "exact_match_metric",
                passed,
                f"Privacy: the share of synthetic rows identical to a training row ({synthetic_rate:.3%}) "
                f"{verdict} the holdout base rate ({holdout_rate:.3%}).",
                details,
            )
        )

    synthetic_p5 = metrics.get("dcr_p5_synthetic")
    holdout_p5 = metrics.get("dcr_p5_holdout")
    if synthetic_p5 is None or holdout_p5 is None:
        results.append(GateResult("dcr", False, "5th-percentile distances to closest record are missing from the evaluation."))
    else:
        floor = holdout_p5 * (1.0 - dcr_tolerance)
        passed = synthetic_p5 >= floor
        relation = "at least" if passed else "below"
        results.append(
            GateResult(
                "dcr",
                passed,
                f"Privacy: the synthetic 5th-percentile distance to closest record ({synthetic_p5:.4f}) is "
                f"{relation} the holdout one ({holdout_p5:.4f}) less the tolerance of {dcr_tolerance:.0%}.",
                {"synthetic_p5": synthetic_p5, "holdout_p5": holdout_p5, "tolerance": dcr_tolerance},
            )
        )

    auc = metrics.get("mia_auc")
    if auc is None:
        results.append(GateResult("membership_inference", False, "The membership-inference AUC is missing from the evaluation."))
    else:
        passed = auc <= max_membership_auc
        relation = "at most" if passed else "above"
        results.append(
            GateResult(
                "membership_inference",
                passed,
                f"Privacy: the membership-inference AUC ({auc:.3f}) is {relation} the maximum of {max_membership_auc:.3f}.",
                {"auc": auc, "max_auc": max_membership_auc},
            )
        )

    return results


# --- exact copies of real rows, checked in SQL ----------------------------------------------------

def _synthetic_rows_table(con: duckdb.DuckDBPyConnection, generation_id: str) -> str | None:
    """Return the synthetic mart (decoded and rebuilt by dbt), else the generated base rows."""
    schema = synthetic_schema(generation_id)
    if table_exists(con, schema, MART):
        return f'"{schema}"."{MART}"'
    if table_exists(con, "synthetic", f"gen_{generation_id}"):
        return f'synthetic."gen_{generation_id}"'
    return None


def _is_identifier(column: str) -> bool:
    return column in ("row_id", "source") or column.endswith("_id")


def check_exact_matches(con: duckdb.DuckDBPyConnection, generation_id: str, split_id: str | None) -> GateResult:
    """Count synthetic and holdout rows identical to a training row on every shared non-id mart column."""
    name = "exact_match_sql"
    synthetic_table = _synthetic_rows_table(con, generation_id)
    if synthetic_table is None or not table_exists(con, "main", MART):
        return GateResult(
            name,
            False,
            f"Cannot compare synthetic with real rows: main.{MART} or the synthetic rows of generation "
            f"{generation_id} are missing. Run `equisynth build` for the real data and the generation.",
        )

    schema, table = [part.strip('"') for part in synthetic_table.split(".")]
    synthetic_columns = set(_columns(con, schema, table))
    columns = [c for c in _columns(con, "main", MART) if c in synthetic_columns and not _is_identifier(c)]
    if not columns:
        return GateResult(name, False, f"{synthetic_table} shares no columns with main.{MART}.")

    has_split = (
        split_id is not None
        and table_exists(con, "ml", "splits")
        and con.execute("select count(*) from ml.splits where split_id = ?", [split_id]).fetchone()[0] > 0
    )
    if has_split:
        train_filter = "where subject_id in (select subject_id from ml.splits where split_id = $split and part = 'train')"
        holdout_filter = "where subject_id in (select subject_id from ml.splits where split_id = $split and part = 'holdout')"
    else:
        # Without the split every real row counts as training and there is no base rate.
        train_filter = ""
        holdout_filter = "where false"

    column_list = ", ".join(f'"{c}"' for c in columns)
    condition = " and ".join(f'a."{c}" is not distinct from t."{c}"' for c in columns)
    counts = con.execute(
        f"""
        with train as (select distinct {column_list} from main.{MART} {train_filter}),
        holdout as (select {column_list} from main.{MART} {holdout_filter}),
        synthetic as (select {column_list} from {synthetic_table})

        select
            (select count(*) from synthetic),
            (select count(*) from synthetic a semi join train t on {condition}),
            (select count(*) from holdout),
            (select count(*) from holdout a semi join train t on {condition})
        """,
        {"split": split_id} if has_split else {},
    ).fetchone()
    synthetic_rows, synthetic_matches, holdout_rows, holdout_matches = counts

    synthetic_rate = synthetic_matches / synthetic_rows if synthetic_rows else 0.0
    holdout_rate = holdout_matches / holdout_rows if holdout_rows else 0.0
    passed = synthetic_rate <= holdout_rate
    details = {
        "columns_compared": len(columns),
        "synthetic_rows": synthetic_rows,
        "synthetic_rate": synthetic_rate,
        "holdout_rate": holdout_rate,
        "split_found": has_split,
    }
    if passed:
        reason = (
            f"Privacy: {synthetic_rate:.3%} of synthetic rows equal a training row on all {len(columns)} "
            f"compared columns, not above the holdout base rate of {holdout_rate:.3%}."
        )
    else:
        reason = (
            f"Privacy: {synthetic_matches} synthetic rows ({synthetic_rate:.3%}) equal a real training row on all "
            f"{len(columns)} compared columns, above the holdout base rate of {holdout_rate:.3%}."
        )
    return GateResult(name, passed, reason, details)


# --- rare ICD-9 codes -----------------------------------------------------------------------------

def check_rare_codes(con: duckdb.DuckDBPyConnection, generation_id: str, k: int) -> GateResult:
    """Reject ICD-9 codes that fewer than k real patients have.

    A code that no real patient has (count 0) is allowed: the decoder can only have taken it from
    the public ICD-9-CM dictionary, so it reveals nothing about any patient. Codes with 1 to k-1 real
    patients fail, whether the decoder chose them from patients or as a dictionary fallback, because
    ml.generations stores only the number of fallbacks, not which codes they were.
    """
    schema = synthetic_schema(generation_id)
    if not table_exists(con, "raw", "diagnoses_icd"):
        return GateResult("rare_codes", False, "Table raw.diagnoses_icd is missing, so code counts cannot be checked.")

    rows = con.execute(
        f"""
        with real_counts as (
            select upper(trim(icd9_code)) as icd9_code, count(distinct subject_id) as patients
            from raw.diagnoses_icd
            where icd9_code is not null
            group by 1
        ),

        synthetic_codes as (
            select distinct upper(trim(icd9_code)) as icd9_code
            from "{schema}".diagnoses_icd
            where icd9_code is not null
        )

        select s.icd9_code, coalesce(r.patients, 0) as patients
        from synthetic_codes s
        left join real_counts r using (icd9_code)
        order by s.icd9_code
        """
    ).fetchall()

    rare = [code for code, patients in rows if 0 < patients < k]
    dictionary_only = [code for code, patients in rows if patients == 0]
    details = {"codes": len(rows), "codes_below_k": len(rare), "dictionary_only_codes": len(dictionary_only), "k": k}
    if rare:
        return GateResult(
            "rare_codes",
            False,
            f"Privacy: {len(rare)} ICD-9 code(s) in the synthetic DIAGNOSES_ICD are seen in fewer than k={k} "
            f"real patients, so they can point to individuals. Decode with decode.min_patients_per_code of at least "
            f"{k}; where the decoder still needs such a code for a comorbidity flag that no commoner code sets, "
            "the release needs a waiver.",
            details,
            rare[:MAX_EXAMPLES],
        )
    return GateResult(
        "rare_codes",
        True,
        f"Every ICD-9 code is seen in at least k={k} real patients, or in none ({len(dictionary_only)} dictionary-only codes).",
        details,
    )


# --- real identifiers and timestamps --------------------------------------------------------------

def check_real_ids(con: duckdb.DuckDBPyConnection, generation_id: str) -> GateResult:
    """Reject synthetic subject_id, hadm_id or icustay_id values that are real ids.

    The real ids are those of raw.patients, raw.admissions, raw.icustays and raw.diagnoses_icd;
    every other MIMIC-III table refers to these through foreign keys.
    """
    schema = synthetic_schema(generation_id)
    counts: dict[str, int] = {}
    examples: list[str] = []

    for column in ID_COLUMNS:
        real_sources = [
            f'select "{column}" as id from raw."{layout.table}"'
            for layout in PATIENT_TABLES
            if table_exists(con, "raw", layout.table) and column in _columns(con, "raw", layout.table)
        ]
        synthetic_sources = [
            f'select "{column}" as id from "{schema}"."{layout.table}"'
            for layout in PATIENT_TABLES
            if column in layout.columns and table_exists(con, schema, layout.table)
        ]
        if not real_sources or not synthetic_sources:
            continue

        shared = con.execute(
            f"""
            with real_ids as ({" union ".join(real_sources)}),
            synthetic_ids as ({" union ".join(synthetic_sources)})

            select id from synthetic_ids where id is not null
            intersect
            select id from real_ids
            order by 1
            """
        ).fetchall()
        counts[column] = len(shared)
        examples.extend(f"{column}={row[0]}" for row in shared[:MAX_EXAMPLES])

    total = sum(counts.values())
    if total:
        listed = ", ".join(f"{n} {column}" for column, n in counts.items() if n)
        return GateResult(
            "real_ids",
            False,
            f"Privacy: {listed} value(s) of the synthetic tables equal real ids. "
            "Decode the generation again so that synthetic ids lie outside the real id ranges.",
            {"shared_ids": counts},
            examples[:MAX_EXAMPLES],
        )
    return GateResult("real_ids", True, "No synthetic subject_id, hadm_id or icustay_id equals a real one.", {"shared_ids": counts})


def check_real_timestamps(con: duckdb.DuckDBPyConnection, generation_id: str) -> GateResult:
    """Reject synthetic timestamps equal to any timestamp or date of any raw MIMIC-III table.

    The decoder redraws synthetic times against the same set, so a generation it decoded passes.
    raw.load_manifest is left out: its load times are not patient data.
    """
    schema = synthetic_schema(generation_id)
    real_columns = con.execute(
        """
        select table_name, column_name
        from information_schema.columns
        where table_schema = 'raw' and table_name <> 'load_manifest'
          and (data_type like 'TIMESTAMP%' or data_type = 'DATE')
        order by 1, 2
        """
    ).fetchall()
    if not real_columns:
        return GateResult("real_timestamps", False, "The raw schema has no timestamp column, so real timestamps cannot be checked.")

    real_sources = [f'select cast("{column}" as timestamp) as ts from raw."{table}"' for table, column in real_columns]
    con.execute(
        f"create or replace temp table release_real_timestamps as "
        f"select distinct ts from ({' union all '.join(real_sources)}) where ts is not null"
    )

    counts: dict[str, int] = {}
    examples: list[str] = []
    for layout in (PATIENTS, ADMISSIONS, ICUSTAYS):
        for column in layout.timestamp_columns:
            equal = con.execute(
                f"""
                select try_cast(s."{column}" as timestamp) as ts
                from "{schema}"."{layout.table}" s
                semi join release_real_timestamps r on try_cast(s."{column}" as timestamp) = r.ts
                order by 1
                """
            ).fetchall()
            if equal:
                counts[f"{layout.table}.{column}"] = len(equal)
                examples.extend(f"{layout.table}.{column}={row[0]}" for row in equal[:MAX_EXAMPLES])

    con.execute("drop table if exists release_real_timestamps")

    if counts:
        listed = ", ".join(f"{column} ({n})" for column, n in counts.items())
        return GateResult(
            "real_timestamps",
            False,
            f"Privacy: synthetic timestamps equal real ones in {listed}. "
            "Decode the generation again: the decoder redraws timestamps that equal real ones.",
            {"equal_timestamps": counts},
            examples[:MAX_EXAMPLES],
        )
    return GateResult("real_timestamps", True, "No synthetic timestamp equals a real one.", {"equal_timestamps": {}})


# --- all gates ------------------------------------------------------------------------------------

def run_gates(
    con: duckdb.DuckDBPyConnection,
    generation_id: str,
    split_id: str | None,
    max_membership_auc: float,
    dcr_tolerance: float,
    k: int,
    validation: dict,
) -> list[GateResult]:
    """Run every gate; the caller decides whether failures block the release."""
    metrics = privacy_metrics(con, generation_id)
    results = [
        check_validation(con, generation_id, validation),
        check_evaluation(generation_id, metrics),
        *check_privacy_metrics(metrics, max_membership_auc, dcr_tolerance),
        check_exact_matches(con, generation_id, split_id),
        check_rare_codes(con, generation_id, k),
        check_real_ids(con, generation_id),
        check_real_timestamps(con, generation_id),
    ]
    for result in results:
        log.info("Gate %s: %s", result.name, "passed" if result.passed else "FAILED")
    return results
