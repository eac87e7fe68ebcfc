"""Write the built-in sample: patients are drawn and written in batches, so memory stays flat."""

import json
import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from equisynth.errors import EquisynthError
from equisynth.loader.discovery import SAMPLE_MARKER
from equisynth.sample import diagnoses, prescriptions, tables
from equisynth.sample.admissions import draw_admissions
from equisynth.sample.patients import draw_patients
from equisynth.sample.writer import GzipCsvWriter

log = logging.getLogger(__name__)

TABLES = [
    "PATIENTS", "ADMISSIONS", "ICUSTAYS", "DIAGNOSES_ICD", "D_ICD_DIAGNOSES", "PROCEDURES_ICD",
    "D_ICD_PROCEDURES", "PRESCRIPTIONS", "SERVICES", "TRANSFERS",
]
COLUMNS = {
    **tables.COLUMNS,
    "DIAGNOSES_ICD": diagnoses.DIAGNOSES_COLUMNS,
    "PROCEDURES_ICD": diagnoses.PROCEDURES_COLUMNS,
    "D_ICD_DIAGNOSES": diagnoses.DICTIONARY_COLUMNS,
    "D_ICD_PROCEDURES": diagnoses.DICTIONARY_COLUMNS,
    "PRESCRIPTIONS": prescriptions.COLUMNS,
}

# Patients per batch. Output depends on it (each batch has its own random stream), so it is fixed.
BATCH_PATIENTS = 5_000
FIRST_SUBJECT_ID = 1
FIRST_HADM_ID = 100_001
FIRST_ICUSTAY_ID = 200_001
MAX_PATIENTS = 10_000_000


def _with_row_ids(fields: dict, writer: GzipCsvWriter) -> dict:
    n = len(next(iter(fields.values())))
    first = writer.rows + 1
    return {"ROW_ID": np.arange(first, first + n).astype(str), **fields}


def _write_batch(rng: np.random.Generator, writers: dict[str, GzipCsvWriter], first_subject: int, n: int, ids: dict[str, int]) -> None:
    patients = draw_patients(rng, first_subject, n)
    admissions = draw_admissions(rng, patients, ids["hadm"])
    ids["hadm"] += len(admissions.hadm_id)
    subject = patients.subject_id[admissions.patient]

    writers["PATIENTS"].write(tables.patient_rows(rng, patients, admissions, writers["PATIENTS"].rows + 1))
    writers["ADMISSIONS"].write(tables.admission_rows(rng, patients, admissions, writers["ADMISSIONS"].rows + 1))

    icustays, icustay_id, moves = tables.icu_rows(rng, patients, admissions, writers["ICUSTAYS"].rows + 1, ids["icustay"])
    ids["icustay"] += int((icustay_id >= 0).sum())
    writers["ICUSTAYS"].write(icustays)
    for name, fields in moves.items():
        writers[name].write(_with_row_ids(fields, writers[name]))

    writers["DIAGNOSES_ICD"].write(_with_row_ids(diagnoses.diagnosis_rows(rng, admissions, subject), writers["DIAGNOSES_ICD"]))
    writers["PROCEDURES_ICD"].write(_with_row_ids(diagnoses.procedure_rows(rng, admissions, subject), writers["PROCEDURES_ICD"]))
    writers["PRESCRIPTIONS"].write(_with_row_ids(prescriptions.prescription_rows(rng, admissions, subject, icustay_id), writers["PRESCRIPTIONS"]))


def write_sample(
    n_patients: int,
    out_dir: Path,
    seed: int = 0,
    progress: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Write a simulated MIMIC-III v1.4 sample of n_patients patients as NAME.csv.gz files.

    The same n_patients and seed give byte-identical files. Files are written to a staging
    folder next to out_dir and moved into out_dir only when every table is complete. Existing
    files of the same names in out_dir are replaced. `progress` is called with the number of
    patients written so far. Returns the number of rows per table.
    """
    if not isinstance(n_patients, (int, np.integer)) or isinstance(n_patients, bool) or not 1 <= n_patients <= MAX_PATIENTS:
        raise EquisynthError(f"Invalid number of patients {n_patients!r}: give a whole number from 1 to {MAX_PATIENTS:,}.")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise EquisynthError(f"Invalid seed {seed!r}: give a whole number of 0 or more.")
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise EquisynthError(f"Output folder {out_dir} is an existing file: give a folder path for --out.")

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.staging-", dir=out_dir.parent))
    log.info("Writing a simulated MIMIC-III sample of %d patients (seed %d) to %s", n_patients, seed, out_dir)
    try:
        counts = _write_tables(n_patients, seed, staging, progress)
        out_dir.mkdir(parents=True, exist_ok=True)
        _write_marker(staging, n_patients, seed)
        for name in TABLES:
            (staging / f"{name}.csv.gz").replace(out_dir / f"{name}.csv.gz")
        (staging / SAMPLE_MARKER).replace(out_dir / SAMPLE_MARKER)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    log.info("Wrote %s", ", ".join(f"{name} {rows:,}" for name, rows in counts.items()))
    return counts


def _write_marker(folder: Path, n_patients: int, seed: int) -> None:
    """Mark the folder as simulated, so the loader records it as the sample, not the full release."""
    marker = {
        "simulated": True,
        "description": "equisynth built-in sample: simulated patients in MIMIC-III v1.4's layout, not research data.",
        "patients": int(n_patients),
        "seed": int(seed),
    }
    (folder / SAMPLE_MARKER).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")


def _write_tables(n_patients: int, seed: int, folder: Path, progress: Callable[[int], None] | None) -> dict[str, int]:
    writers = {name: GzipCsvWriter(folder / f"{name}.csv.gz", COLUMNS[name]) for name in TABLES}
    try:
        writers["D_ICD_DIAGNOSES"].write(diagnoses.diagnosis_dictionary())
        writers["D_ICD_PROCEDURES"].write(diagnoses.procedure_dictionary())

        ids = {"hadm": FIRST_HADM_ID, "icustay": FIRST_ICUSTAY_ID}
        for batch, first in enumerate(range(0, n_patients, BATCH_PATIENTS)):
            n = min(BATCH_PATIENTS, n_patients - first)
            rng = np.random.default_rng([seed, batch])
            _write_batch(rng, writers, FIRST_SUBJECT_ID + first, n, ids)
            if progress is not None:
                progress(first + n)
    finally:
        for writer in writers.values():
            writer.close()
    return {name: writer.rows for name, writer in writers.items()}
