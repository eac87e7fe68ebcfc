"""Measure `equisynth.sample.write_sample` time and peak memory for several sizes.

Each size runs in its own Python process, so peak resident memory (ru_maxrss) is that size's
own. Results, with the command and the machine, replace the "Built-in sample" section of
docs/benchmarks.md.

Usage: python bench/bench_sample.py [--sizes 5000 20000 46520] [--out-root /tmp/bench_sample]
"""

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS_MD = REPO_ROOT / "docs" / "benchmarks.md"
SECTION_TITLE = "## Built-in sample"

CHILD = """
import json, resource, sys, time
from pathlib import Path
from equisynth.sample import write_sample
n, out = int(sys.argv[1]), Path(sys.argv[2])
start = time.perf_counter()
counts = write_sample(n, out, seed=0)
seconds = time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
size = sum(p.stat().st_size for p in out.iterdir())
print(json.dumps({"patients": n, "seconds": seconds, "peak_mib": peak_kib / 1024, "bytes": size, "counts": counts}))
"""


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        match = re.search(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.MULTILINE)
        if match:
            cpu = match.group(1).strip()
    memory = "unknown RAM"
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        match = re.search(r"^MemTotal:\s*(\d+) kB", meminfo.read_text(), re.MULTILINE)
        if match:
            memory = f"{int(match.group(1)) / 1024 / 1024:.1f} GiB RAM"
    return f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {cpu}, {memory}, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def run_size(n: int, out_root: Path, summarise_sample: bool) -> dict:
    out = out_root / f"n{n}"
    shutil.rmtree(out, ignore_errors=True)
    result = subprocess.run([sys.executable, "-c", CHILD, str(n), str(out)], check=True, capture_output=True, text=True)
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    if summarise_sample:
        measured["summary"] = summarise(out)
    shutil.rmtree(out, ignore_errors=True)
    return measured


SUMMARY_SQL = """
with adm as (
    select a.*, p.gender,
        date_diff('day', p.dob, a.admittime) / 365.25 as age,
        date_diff('minute', a.admittime, a.dischtime) / 1440.0 as los_days
    from read_csv('{folder}/ADMISSIONS.csv.gz', header = true) as a
    join read_csv('{folder}/PATIENTS.csv.gz', header = true) as p using (subject_id)
),
adults as (select * from adm where admission_type <> 'NEWBORN')
select
    (select count(*) from adm) / (select count(distinct subject_id) from adm) as admissions_per_patient,
    (select median(least(age, 91.4)) from adults) as adult_median_age,
    (select avg((gender = 'M')::int) from adults) as adult_male_share,
    (select avg(hospital_expire_flag) from adults) as adult_hospital_mortality,
    (select median(los_days) from adults) as adult_median_hospital_days,
    (select median(los) from read_csv('{folder}/ICUSTAYS.csv.gz', header = true) where first_careunit <> 'NICU') as adult_median_icu_days,
    (select count(*) from read_csv('{folder}/DIAGNOSES_ICD.csv.gz', header = true, types = {{'ICD9_CODE': 'VARCHAR'}}))
        / (select count(*) from adm) as diagnoses_per_admission
"""

PUBLISHED = {
    "admissions_per_patient": ("admissions per patient", "1.27 (58,976 / 46,520, v1.4 row counts)"),
    "adult_median_age": ("adult median age, years (ages above 89 counted as 91.4)", "65.8"),
    "adult_male_share": ("adult male share", "0.559"),
    "adult_hospital_mortality": ("adult in-hospital mortality", "0.115"),
    "adult_median_hospital_days": ("adult median hospital stay, days", "6.9"),
    "adult_median_icu_days": ("adult median ICU stay, days", "2.1"),
    "diagnoses_per_admission": ("diagnoses per admission", "11.04 (651,047 / 58,976)"),
}


def summarise(folder: Path) -> dict[str, float]:
    """Compute the sample's values of the published figures it is drawn from."""
    import duckdb

    with duckdb.connect() as con:
        row = con.execute(SUMMARY_SQL.format(folder=folder)).fetchdf().iloc[0]
    return {key: float(row[key]) for key in PUBLISHED}


def render(results: list[dict], command: str, load_average: float) -> str:
    lines = [
        SECTION_TITLE,
        "",
        "`equisynth sample` writes a simulated MIMIC-III v1.4 dataset (gzipped CSV). The time is the",
        "wall-clock time of `write_sample` in a fresh process (the import of the package is not",
        "counted); peak memory is the process's maximum resident set size.",
        "",
        f"- Command: `{command}`",
        f"- Machine: {machine()}",
        f"- Measured: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, 1-minute load average "
        f"{load_average:.1f} at the start (other processes share the CPUs, so times vary between runs)",
        "",
        "| patients | admissions | diagnoses | prescriptions | seconds | peak memory (MiB) | size on disk (MiB) |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        c = r["counts"]
        lines.append(
            f"| {r['patients']:,} | {c['ADMISSIONS']:,} | {c['DIAGNOSES_ICD']:,} | {c['PRESCRIPTIONS']:,} "
            f"| {r['seconds']:.1f} | {r['peak_mib']:.0f} | {r['bytes'] / 2**20:.1f} |"
        )
    lines.append("")

    largest = results[-1]
    lines += [
        f"Published figures and the values of the {largest['patients']:,}-patient sample (seed 0), from",
        "`summarise` in bench/bench_sample.py. The published values are the MIMIC-III v1.4 row counts",
        "and Table 2 of Johnson et al., Sci Data 2016;3:160035, as named in `equisynth.sample.figures`.",
        "",
        "| figure | published | sample |",
        "|---|---:|---:|",
    ]
    for key, (label, published) in PUBLISHED.items():
        lines.append(f"| {label} | {published} | {largest['summary'][key]:.3f} |")
    lines.append("")
    return "\n".join(lines)


def replace_section(text: str, section: str) -> str:
    """Replace this benchmark's section of docs/benchmarks.md, leaving other sections as they are."""
    pattern = re.compile(rf"^{re.escape(SECTION_TITLE)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: section + "\n", text, count=1)
    if not text:
        text = "# Benchmarks\n\nMeasured numbers, each with the command and the machine it ran on.\n"
    return text.rstrip("\n") + "\n\n" + section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 20_000, 46_520], help="Numbers of patients to time.")
    parser.add_argument("--out-root", type=Path, default=Path("/tmp/bench_sample"), help="Scratch folder for the samples.")
    parser.add_argument("--no-write", action="store_true", help="Print the results without editing docs/benchmarks.md.")
    args = parser.parse_args()

    load_average = os.getloadavg()[0]
    results = []
    for index, n in enumerate(args.sizes):
        result = run_size(n, args.out_root, summarise_sample=index == len(args.sizes) - 1)
        print(f"{n:>8,} patients: {result['seconds']:.1f} s, peak {result['peak_mib']:.0f} MiB", flush=True)
        results.append(result)

    command = "python bench/bench_sample.py --sizes " + " ".join(str(n) for n in args.sizes)
    section = render(results, command, load_average)
    if args.no_write:
        print(section)
        return
    existing = BENCHMARKS_MD.read_text(encoding="utf-8") if BENCHMARKS_MD.exists() else ""
    BENCHMARKS_MD.parent.mkdir(parents=True, exist_ok=True)
    BENCHMARKS_MD.write_text(replace_section(existing, section), encoding="utf-8")
    print(f"Wrote the results to {BENCHMARKS_MD}")


if __name__ == "__main__":
    main()
