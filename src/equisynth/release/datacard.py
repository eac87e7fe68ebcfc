"""The data card (`README.md`) of a release, rendered from a Jinja2 template and the manifest."""

from jinja2 import Environment, StrictUndefined

from equisynth.release.datacite import MIMIC_III_DEMO_DOI, MIMIC_III_DOI, licence_url

AREA_ORDER = ("fidelity", "utility", "fairness", "representation", "privacy")

# Areas whose subgroup figures appear in the card; the others show only `overall`.
SUBGROUP_AREAS = ("fairness", "representation")

TABLE_DESCRIPTIONS = {
    "PATIENTS.csv": "one row per synthetic patient: gender, date of birth, dates of death",
    "ADMISSIONS.csv": "one row per synthetic hospital admission: times, type, location, insurance, language, marital status, ethnicity, in-hospital death",
    "DIAGNOSES_ICD.csv": "ICD-9 diagnosis codes of each synthetic admission, in sequence",
    "ICUSTAYS.csv": "synthetic ICU stays: care units, times, length of stay",
    "D_ICD_DIAGNOSES.csv": "public ICD-9-CM dictionary rows of the codes that DIAGNOSES_ICD uses",
}

TEMPLATE = """\
# {{ title }}

Release `{{ m.release.name }}`, version {{ m.release.version }}, created {{ m.release.created_at[:10] }}.

{% if failed_gate_names %}
**Synthetic data, exported despite failed checks.** The rows come from a generative model, but
the release checks {{ failed_gate_names | join(", ") }} failed (see "Release checks"), so what
those checks test does not hold for this release.
{% else %}
**Synthetic data.** Every row was produced by a generative model. The release checks below found
no copied real record and no id or timestamp equal to a real MIMIC-III one.
{% endif %}
{% if m.waiver %}

> Waiver recorded by the exporter: "{{ m.waiver }}"
{% endif %}

## What it is

A synthetic cohort of hospital admissions in the layout of the MIMIC-III Clinical Database
v1.4 (same file names, upper-case headers and column order), derived from {{ dataset_description }}.
{% if rebalanced %}
It was generated to rebalance {{ by_text }} towards {{ target_text }} shares among
{{ within_text }}, so that under-represented groups can be studied with more rows.
{% else %}
It was sampled from the generator without rebalancing.
{% endif %}

| File | Rows | Content |
|---|---:|---|
{% for file, rows in m.tables.items() %}
| `{{ file }}` | {{ "{:,}".format(rows) }} | {{ table_descriptions.get(file, "") }} |
{% endfor %}

{% if gz_files %}
Each table is also given gzip-compressed (`.csv.gz`, identical content).
{% endif %}
`manifest.json` records how the release was made, `datacite.json` holds DataCite 4 metadata for
a repository deposit, and `SHA256SUMS` the checksum of every file.

## How it was made

1. The MIMIC-III CSVs were loaded into DuckDB and turned by dbt into one row per admission with
   demographics, admission details, length of stay, ICU use, Elixhauser and Charlson comorbidity
   flags and ICD-9 chapter counts. Source fingerprint (SHA-256 over the checksums of
   {{ m.source_data.tables | length }} loaded files): `{{ m.source_data.fingerprint }}`.
2. A {{ m.model_run.model }} generator (run `{{ m.model_run.run_id }}`, seed {{ m.model_run.seed }},
   device {{ m.model_run.device }}) was trained on the training patients of split
   `{{ m.model_run.split_id }}`; held-out patients were kept for evaluation.
3. Generation `{{ m.generation.generation_id }}` (mode `{{ m.generation.mode }}`, seed {{ m.generation.seed }})
   sampled {{ "{:,}".format(m.generation.n_rows or 0) }} rows.
4. The rows were decoded into MIMIC-III tables with ICD-9 codes that at least k = {{ k }} real
   patients have{% if m.generation.code_fallbacks %}, or, {{ m.generation.code_fallbacks }} times, a
   code of the public ICD-9-CM dictionary that no real patient has{% endif %}.
5. The decoded tables were checked with Great Expectations, evaluated against held-out real
   patients, and put through the release checks below.

Software: equisynth {{ m.software.equisynth_version }}, commit `{{ m.software.git_commit }}`.
{% if m.rebalance_plan %}

### Rebalancing plan

Shares of groups with fewer than k = {{ k }} real rows are not shown.

| Group | Real share | Target share | Synthetic rows | Achieved share | Warning |
|---|---:|---:|---:|---:|---|
{% for row in m.rebalance_plan %}
| {{ row.group_label }} | {{ share(row.real_share) }} | {{ share(row.target_share) }} | {{ "{:,}".format(row.synthetic_rows or 0) }} | {{ share(row.achieved_share) }} | {{ row.warning or "" }} |
{% endfor %}
{% endif %}

## Intended uses

- Developing and testing code, SQL and notebooks for MIMIC-III before or without access to it.
- Teaching, and methods research on synthetic data, rebalancing and fairness.
- Exploring under-represented groups with multimorbidity, with findings confirmed on the real data.

## Unsuitable uses

- Clinical decisions, or estimates presented as facts about real patients.
- Re-identification attempts or linkage with other data about MIMIC-III patients.
- Studies that depend on what the model did not learn: exact dates, sequences of events,
  ICD-9 detail beyond the comorbidity flags and chapter counts, and any table not in this release.

## Quality figures

Estimates against held-out real patients, with 95% bootstrap intervals
{%- if m.evaluation.evaluated_at %} (evaluated {{ m.evaluation.evaluated_at[:10] }}){% endif %}.
Figures of subgroups too small to estimate are left out ({{ m.evaluation.omitted_too_small }} in all).
`manifest.json` holds every figure shown here.
{% for area in areas %}

### {{ area | capitalize }}

| Metric | Subgroup | Value | 95% interval |
|---|---|---:|---|
{% for row in metrics_by_area[area] %}
| {{ row.metric }} | {{ row.subgroup }} | {{ number(row.value) }} | {{ interval(row) }} |
{% endfor %}
{% else %}

No evaluation figures were recorded for this generation.
{% endfor %}

## Release checks

| Check | Result | Detail |
|---|---|---|
{% for gate in m.gates %}
| {{ gate.name }} | {{ "passed" if gate.passed else "**FAILED**" }} | {{ gate.reason }} |
{% endfor %}

## Known limits

- The generator learns one row per admission; relations between admissions of one patient and
  the timing within a stay are only as realistic as the decoder's rules.
- Privacy is tested (exact copies, distance to closest record, membership inference, rare codes,
  real ids and dates), not proven: the release carries no formal differential-privacy guarantee.
- Groups with few real patients are learned from few examples; their synthetic rows may be
  less faithful, as the fairness and representation figures show.

## Licence

{% if m.release.dataset == "sample" %}{{ m.licence }} ({{ licence_url }}). It was made from equisynth's built-in
simulated sample, which contains no real patient, so no MIMIC-III terms apply to it.{% else %}{{ m.licence }} ({{ licence_url }}). The MIMIC-III data it was derived from remains under the
terms on which it was obtained from PhysioNet; this release contains no MIMIC-III patient rows.{% endif %}

## How to cite

This dataset: {{ creators_text }} ({{ m.release.created_at[:4] }}). {{ title }} (version {{ m.release.version }}). {{ publisher }}.

{% if m.release.dataset != "sample" %}MIMIC-III: Johnson AEW, Pollard TJ, Mark RG. MIMIC-III Clinical Database (version 1.4). PhysioNet. 2016. doi:{{ mimic_doi }}
{% endif %}{% if m.release.dataset == "mimic3demo" %}

MIMIC-III demo: Johnson A, Pollard T, Mark R. MIMIC-III Clinical Database Demo (version 1.4). PhysioNet. 2019. doi:{{ mimic_demo_doi }}
{% endif %}

equisynth: equisynth {{ m.software.equisynth_version }} (commit {{ m.software.git_commit }}), synthetic MIMIC-III patients that rebalance under-represented groups.

## Verifying the files

```
sha256sum -c SHA256SUMS
equisynth export --verify {{ m.release.name }}
```
"""


def _share(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _number(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _interval(row: dict) -> str:
    if row.get("ci_low") is None or row.get("ci_high") is None:
        return "–"
    return f"[{row['ci_low']:.3f}, {row['ci_high']:.3f}]"


def _metrics_by_area(metrics: list[dict]) -> dict[str, list[dict]]:
    grouped: dict[str, list[dict]] = {}
    for row in metrics:
        if row["subgroup"] != "overall" and row["area"] not in SUBGROUP_AREAS:
            continue
        grouped.setdefault(row["area"], []).append(row)
    return grouped


def _join_words(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def render_datacard(manifest: dict, title: str, dataset_description: str, k: int, publisher: str, creators: list[str]) -> str:
    """Render README.md from the manifest; every figure in the card comes from the manifest."""
    environment = Environment(
        undefined=StrictUndefined, keep_trailing_newline=True, autoescape=False, trim_blocks=True, lstrip_blocks=True
    )
    template = environment.from_string(TEMPLATE)

    grouped = _metrics_by_area(manifest["evaluation"]["metrics"])
    areas = [area for area in AREA_ORDER if area in grouped] + sorted(set(grouped) - set(AREA_ORDER))
    spec = manifest["generation"].get("rebalance_spec") or {}
    failed = [gate["name"] for gate in manifest["gates"] if not gate["passed"]]

    return template.render(
        m=manifest,
        title=title,
        dataset_description=dataset_description,
        k=k,
        publisher=publisher,
        creators_text="; ".join(creators),
        rebalanced=bool(spec),
        by_text=_join_words([str(column) for column in spec.get("by", [])]) or "the chosen groups",
        target_text=str(spec.get("target", "the chosen")),
        within_text=f"admissions with {spec['within']}" if spec.get("within") else "all admissions",
        table_descriptions=TABLE_DESCRIPTIONS,
        gz_files=[name for name in manifest["files"] if name.endswith(".gz")],
        areas=areas,
        metrics_by_area=grouped,
        failed_gate_names=failed,
        share=_share,
        number=_number,
        interval=_interval,
        licence_url=licence_url(manifest["licence"]),
        mimic_doi=MIMIC_III_DOI,
        mimic_demo_doi=MIMIC_III_DEMO_DOI,
    )
