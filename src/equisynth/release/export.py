"""`export`: write a versioned release folder of one generation, after the release gates pass.

The folder is written under a staging name beside its final place and renamed at the end, so
a failure at any step leaves neither a partial folder nor an index entry behind.
"""

import datetime as dt
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from equisynth.config import ExportSettings, Settings, load_settings
from equisynth.errors import ConfigError, EquisynthError
from equisynth.release.checksums import write_sums
from equisynth.release.datacard import render_datacard
from equisynth.release.datacite import build_datacite
from equisynth.release.gates import GateResult, run_gates, validation_summary
from equisynth.release.index import INDEX_FILE, IndexEntry, insert_release, recorded_release, render_index, replace_index
from equisynth.release.manifest import (
    MANIFEST_FILE,
    evaluation_summary,
    generation_record,
    model_run_record,
    rebalance_plan,
    software,
    source_data,
    write_json,
    parse_json_columns,
)
from equisynth.release.naming import DATASET_DESCRIPTIONS, check_version, dataset_label, rebalancing_tokens, release_name
from equisynth.release.tables import RELEASE_TABLES, check_synthetic_tables, write_table_csv
from equisynth.warehouse import connect

log = logging.getLogger(__name__)

GENERATION_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{2,40}$")
DATACARD_FILE = "README.md"
DATACITE_FILE = "datacite.json"
SUBJECTS = ["synthetic data", "MIMIC-III", "multimorbidity", "critical care", "electronic health records", "algorithmic fairness"]


class ReleaseRejectedError(EquisynthError):
    """A generation failed one or more release gates and no waiver was given."""


@dataclass
class ReleaseReport:
    """Outcome of one export: the release folder, the SHA-256 of each file and the gate results."""

    name: str
    path: Path
    version: str
    generation_id: str
    created_at: str
    row_counts: dict[str, int]
    files: dict[str, str]
    manifest_sha256: str
    gates: list[GateResult] = field(default_factory=list)
    waiver: str | None = None

    @property
    def failed_gates(self) -> list[GateResult]:
        return [gate for gate in self.gates if not gate.passed]


def _check_arguments(generation_id: str, force: bool, waiver: str | None) -> None:
    if not GENERATION_ID_PATTERN.match(generation_id):
        raise ConfigError(f"Generation id {generation_id!r} is invalid: it must match {GENERATION_ID_PATTERN.pattern}.")
    if force and not (waiver and waiver.strip()):
        raise ConfigError('--force needs --waiver "reason": the reason is recorded in the manifest and the data card.')
    if waiver and not force:
        raise ConfigError("--waiver applies only together with --force.")


def _rejection_message(generation_id: str, failed: list[GateResult]) -> str:
    lines = [f"Generation {generation_id} cannot be released: {len(failed)} release check(s) failed."]
    for gate in failed:
        line = f"  - {gate.name}: {gate.reason}"
        if gate.examples:
            line += f" Examples: {', '.join(gate.examples)}."
        lines.append(line)
    lines.append(
        'Fix the cause, or release anyway with the reason recorded: `equisynth export --force --waiver "reason"`, '
        'or `equisynth run --from export --waiver "reason"`.'
    )
    return "\n".join(lines)


def _rebalancing_text(spec: dict | None, mode: str) -> str:
    if not spec:
        return "not rebalanced" if mode != "counts" else "requested counts per condition"
    by = " x ".join(str(column) for column in spec.get("by", []))
    return f"rebalanced to {spec.get('target', 'custom')} shares by {by}" if by else f"rebalanced ({spec.get('target', 'custom')})"


def _render_title(template: str, **values: str) -> str:
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            f"export.title {template!r} is invalid ({exc}). Allowed placeholders: "
            + ", ".join("{" + key + "}" for key in values)
            + "."
        ) from exc


def _write_tables(con, generation_id: str, folder: Path, also_gzip: bool) -> tuple[dict[str, int], list[str]]:
    row_counts: dict[str, int] = {}
    files: list[str] = []
    for layout in RELEASE_TABLES:
        rows, written = write_table_csv(con, layout, generation_id, folder, also_gzip)
        row_counts[layout.file_name] = rows
        files.extend(written)
    return row_counts, files


def _write_datacite(path: Path, manifest: dict, title: str, settings: Settings) -> None:
    export_settings = settings.export
    tables = manifest["tables"]
    abstract = (
        f"Synthetic hospital admissions in the MIMIC-III v1.4 table layout "
        f"({', '.join(tables)}), derived from {DATASET_DESCRIPTIONS[manifest['release']['dataset']]} "
        f"by a {manifest['model_run']['model']} generator, {manifest['release']['rebalancing']}. "
        "No row describes a real patient."
    )
    source_rows = "Simulated admissions" if manifest["release"]["dataset"] == "sample" else "Real admissions"
    methods = (
        f"{source_rows} were summarised into one row each (demographics, admission details, length of stay, "
        "ICU use, Elixhauser and Charlson comorbidities, ICD-9 chapter counts) with dbt and DuckDB. A generative "
        "model trained on the training patients sampled new rows, which were decoded into MIMIC-III tables, "
        "validated with Great Expectations and evaluated for fidelity, utility, fairness and privacy on "
        "held-out patients. See README.md and manifest.json."
    )
    formats = ["text/csv"] + (["application/gzip"] if any(name.endswith(".gz") for name in manifest["files"]) else [])
    record = build_datacite(
        title=title,
        version=manifest["release"]["version"],
        creators=export_settings.creators,
        publisher=export_settings.publisher,
        licence=export_settings.licence,
        publication_year=int(manifest["release"]["created_at"][:4]),
        created=manifest["release"]["created_at"][:10],
        abstract=abstract,
        methods=methods,
        dataset=manifest["release"]["dataset"],
        sizes=[f"{rows} rows ({name})" for name, rows in tables.items()],
        formats=formats,
        subjects=SUBJECTS,
    )
    write_json(path, record)


def _rename_into_place(staging: Path, target: Path) -> None:
    if target.exists():
        raise EquisynthError(f"Release folder {target} appeared while exporting; nothing was overwritten.")
    os.rename(staging, target)


@dataclass
class ReleasePlan:
    """Everything decided before any file is written: name, place, descriptions and gate results."""

    generation_id: str
    name: str
    version: str
    out_dir: Path
    dataset: str
    title: str
    rebalancing: str
    created_at: str
    generation: dict
    model_run: dict
    validation: dict
    gates: list[GateResult]
    force: bool
    waiver: str | None
    also_gzip: bool

    @property
    def target(self) -> Path:
        return self.out_dir / self.name


def _plan_release(
    con, generation_id: str, version: str, out_dir: Path, settings: Settings, force: bool, waiver: str | None, also_gzip: bool
) -> ReleasePlan:
    """Name the release, reject an existing version, and run the gates."""
    export_settings = settings.export
    generation = generation_record(con, generation_id)
    model_run = model_run_record(con, generation["run_id"])
    check_synthetic_tables(con, generation_id)
    dataset = dataset_label(con)
    tokens = rebalancing_tokens(generation["mode"], generation["rebalance_spec_json"])
    name = release_name(dataset, model_run["model"], tokens, version)

    target = out_dir / name
    if target.exists():
        raise EquisynthError(
            f"Release {target} already exists, and releases are never overwritten. Give the new one another version: "
            "`equisynth export --version 1.0.1`, or `equisynth run --release-version 1.0.1`."
        )
    recorded = recorded_release(con, out_dir, name)
    if recorded:
        raise EquisynthError(f"Release {name} is already recorded in {recorded}. Export with a new --version.")

    validation = validation_summary(con, generation_id)
    gates = run_gates(
        con,
        generation_id,
        model_run["split_id"],
        max_membership_auc=export_settings.max_membership_auc,
        dcr_tolerance=export_settings.dcr_tolerance,
        k=settings.decode.min_patients_per_code,
        validation=validation,
    )
    failed = [gate for gate in gates if not gate.passed]
    if failed and not force:
        raise ReleaseRejectedError(_rejection_message(generation_id, failed))
    for gate in failed:
        log.warning("Exporting despite failed gate %s (waiver: %s): %s", gate.name, waiver, gate.reason)

    parsed_generation = parse_json_columns(generation)
    rebalancing = _rebalancing_text(parsed_generation.get("rebalance_spec"), generation["mode"])
    title = _render_title(
        export_settings.title,
        dataset=dataset,
        dataset_description=DATASET_DESCRIPTIONS[dataset],
        generator=model_run["model"],
        rebalancing=rebalancing,
        version=version,
        name=name,
    )
    return ReleasePlan(
        generation_id=generation_id,
        name=name,
        version=version,
        out_dir=out_dir,
        dataset=dataset,
        title=title,
        rebalancing=rebalancing,
        created_at=dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        generation=parsed_generation,
        model_run=parse_json_columns(model_run),
        validation=validation,
        gates=gates,
        force=force,
        waiver=waiver if force else None,
        also_gzip=also_gzip,
    )


def _build_manifest(con, plan: ReleasePlan, row_counts: dict[str, int], data_files: list[str], settings: Settings) -> dict:
    k = settings.decode.min_patients_per_code
    validation_passed = next(gate.passed for gate in plan.gates if gate.name == "validation")
    return {
        "release": {
            "name": plan.name,
            "version": plan.version,
            "title": plan.title,
            "created_at": plan.created_at,
            "dataset": plan.dataset,
            "rebalancing": plan.rebalancing,
        },
        "generator": plan.model_run["model"],
        "model_run": plan.model_run,
        "generation": plan.generation,
        "rebalance_plan": rebalance_plan(con, plan.generation_id, k),
        "source_data": {"dataset": plan.dataset, **source_data(con)},
        "software": software(),
        "settings": {
            "min_patients_per_code": k,
            "max_membership_auc": settings.export.max_membership_auc,
            "dcr_tolerance": settings.export.dcr_tolerance,
        },
        "tables": row_counts,
        "files": data_files,
        "validation": {"passed": validation_passed, **plan.validation},
        "evaluation": evaluation_summary(con, plan.generation_id, k),
        "gates": [gate.public() for gate in plan.gates],
        "forced": plan.force,
        "waiver": plan.waiver,
        "licence": settings.export.licence,
    }


def _write_release_files(con, plan: ReleasePlan, folder: Path, settings: Settings) -> tuple[dict[str, int], dict[str, str]]:
    """Write tables, manifest, DataCite record, data card and SHA256SUMS; return row counts and checksums."""
    row_counts, data_files = _write_tables(con, plan.generation_id, folder, plan.also_gzip)
    placeholder = ExportSettings.model_fields["creators"].default
    if settings.export.creators == placeholder:
        log.warning(
            "The release's DataCite record and data card name the placeholder creator %s. Before depositing it, "
            "set [export] creators in equisynth.toml to the people or organisation publishing it.", placeholder,
        )

    manifest = _build_manifest(con, plan, row_counts, data_files, settings)
    write_json(folder / MANIFEST_FILE, manifest)
    _write_datacite(folder / DATACITE_FILE, manifest, plan.title, settings)
    datacard = render_datacard(
        manifest,
        plan.title,
        DATASET_DESCRIPTIONS[plan.dataset],
        settings.decode.min_patients_per_code,
        settings.export.publisher,
        settings.export.creators,
    )
    (folder / DATACARD_FILE).write_text(datacard, encoding="utf-8")

    return row_counts, write_sums(folder)


def _publish(con, staging: Path, plan: ReleasePlan, entry: IndexEntry) -> None:
    """Record the release in ml.releases and index.csv and rename it into place, all or nothing.

    The caller removes `staging` when this raises. Once renamed, a later failure removes the
    release folder, restores index.csv and rolls back ml.releases.
    """
    index_path = plan.out_dir / INDEX_FILE
    index_before = index_path.read_text(encoding="utf-8") if index_path.exists() else None
    index_replaced = renamed = False

    con.begin()
    try:
        insert_release(con, entry)
        replace_index(plan.out_dir, render_index(plan.out_dir, entry))
        index_replaced = True
        _rename_into_place(staging, plan.target)
        renamed = True
        con.commit()
    except BaseException:
        con.rollback()
        if index_replaced:
            if index_before is None:
                index_path.unlink(missing_ok=True)
            else:
                replace_index(plan.out_dir, index_before)
        if renamed:
            shutil.rmtree(plan.target, ignore_errors=True)
        raise


def export(
    warehouse: Path | str | None,
    generation_id: str,
    out: Path | str | None = None,
    version: str | None = None,
    gzip: bool | None = None,
    force: bool = False,
    waiver: str | None = None,
    settings: Settings | None = None,
) -> ReleaseReport:
    """Check the release gates for a generation and write its release folder under `out`.

    `out`, `version` and `gzip` default to the [export] settings (releases, 1.0.0, no gzip).
    Raises ReleaseRejectedError naming each failed gate unless `force` is set with a `waiver`,
    and EquisynthError when a release of the same name already exists.
    """
    settings = settings or load_settings()
    version = check_version(version or settings.export.version)
    out_dir = Path(out if out is not None else settings.export.out).expanduser().resolve()
    also_gzip = settings.export.gzip if gzip is None else gzip
    _check_arguments(generation_id, force, waiver)

    with connect(warehouse) as con:
        plan = _plan_release(con, generation_id, version, out_dir, settings, force, waiver, also_gzip)

        out_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{plan.name}.", suffix=".partial", dir=out_dir))
        try:
            # mkdtemp makes the folder private (0700); a release folder gets the usual permissions.
            staging.chmod(0o755)
            row_counts, sums = _write_release_files(con, plan, staging, settings)
            entry = IndexEntry(
                release_name=plan.name,
                generation_id=generation_id,
                version=version,
                created_at=plan.created_at,
                manifest_sha256=sums[MANIFEST_FILE],
                path=str(plan.target),
            )
            _publish(con, staging, plan, entry)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    log.info("Wrote release %s (%d files)", plan.target, len(sums) + 1)
    return ReleaseReport(
        name=plan.name,
        path=plan.target,
        version=version,
        generation_id=generation_id,
        created_at=plan.created_at,
        row_counts=row_counts,
        files=sums,
        manifest_sha256=entry.manifest_sha256,
        gates=plan.gates,
        waiver=plan.waiver,
    )
