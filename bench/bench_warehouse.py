"""Measure the time and peak memory of sample -> load -> dbt build at full MIMIC-III size.

Each step runs in its own Python process (`write_sample`, `load_raw`, `dbt_runner.build`), so the
peak resident memory (ru_maxrss) is that step's own and the package import is not timed. With
`--repeats N` the load and the build run N times on fresh warehouses and the minimum time is
kept, because other processes share the CPUs. Results, with the command and the machine, replace
the "Warehouse: load and dbt build" section of docs/benchmarks.md. The last warehouse is kept
(default /tmp/bench_warehouse/wh.duckdb), so bench_generators.py can reuse its mart.

Usage: python bench/bench_warehouse.py [--patients 46520] [--repeats 2] [--work-dir /tmp/bench_warehouse]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sample import machine  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS_MD = REPO_ROOT / "docs" / "benchmarks.md"
SECTION_TITLE = "## Warehouse: load and dbt build"

# One step per process; each prints one JSON line with its seconds, peak memory and counts.
STEPS = {
    "sample": """
from equisynth.sample import write_sample
counts = write_sample(int(arguments["patients"]), Path(arguments["raw"]), seed=0)
""",
    "load": """
from equisynth.loader import load_raw
report = load_raw(Path(arguments["raw"]), Path(arguments["warehouse"]), progress=False)
counts = dict(report.tables)
""",
    "build": """
from equisynth.dbt_runner import build
from equisynth.warehouse import connect
report = build(Path(arguments["warehouse"]))
seconds = time.perf_counter() - start
counts = {kind: sum(outcomes.values()) for kind, outcomes in report.counts.items()}
with connect(Path(arguments["warehouse"]), read_only=True) as con:
    counts["mm_admission_features rows"] = con.execute("select count(*) from main.mm_admission_features").fetchone()[0]
    counts["mm_patients rows"] = con.execute("select count(*) from main.mm_patients").fetchone()[0]
""",
}

CHILD = """
import json, resource, sys, time
from pathlib import Path
arguments = json.loads(sys.argv[1])
start = time.perf_counter()
seconds = None
{body}
seconds = seconds if seconds is not None else time.perf_counter() - start
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "peak_mib": peak_kib / 1024, "counts": counts}}))
"""


def run_step(step: str, arguments: dict) -> dict:
    """Run one step in a fresh interpreter and return its measurements; raise with its stderr on failure."""
    code = CHILD.format(body=STEPS[step])
    result = subprocess.run([sys.executable, "-c", code, json.dumps(arguments)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"Step {step} failed (exit {result.returncode}):\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure(patients: int, repeats: int, work_dir: Path) -> dict:
    """Write one sample, then load and build it `repeats` times; return every run's measurements."""
    raw = work_dir / "raw"
    shutil.rmtree(raw, ignore_errors=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    runs = {"sample": [run_step("sample", {"patients": patients, "raw": str(raw)})], "load": [], "build": []}
    print(f"sample: {runs['sample'][0]['seconds']:.1f} s, peak {runs['sample'][0]['peak_mib']:.0f} MiB", flush=True)

    for repeat in range(repeats):
        warehouse = work_dir / "wh.duckdb"
        shutil.rmtree(work_dir / "dbt", ignore_errors=True)
        for suffix in ("", ".wal"):
            Path(f"{warehouse}{suffix}").unlink(missing_ok=True)
        for step in ("load", "build"):
            measured = run_step(step, {"raw": str(raw), "warehouse": str(warehouse)})
            measured["load_average"] = os.getloadavg()[0]
            runs[step].append(measured)
            print(f"{step} (repeat {repeat + 1}/{repeats}): {measured['seconds']:.1f} s, peak {measured['peak_mib']:.0f} MiB", flush=True)
    return runs


def render(patients: int, runs: dict, command: str, load_averages: list[float]) -> str:
    sample = runs["sample"][0]["counts"]
    build_counts = runs["build"][-1]["counts"]
    lines = [
        SECTION_TITLE,
        "",
        "Full-size run of the warehouse path on the built-in sample: `write_sample` (gzipped CSV),",
        "`load_raw` (DuckDB) and `dbt_runner.build` (`dbt build`: seeds, models and every test). Each step",
        "runs in a fresh process; seconds exclude the package import, and peak memory is the process's",
        "maximum resident set size. Load and build ran on a fresh warehouse each repeat, and the table",
        "gives the minimum and the maximum over the repeats. Other processes shared the two CPUs, so the",
        "times are upper bounds for an idle machine.",
        "",
        f"- Command: `{command}`",
        f"- Machine: {machine()}",
        f"- Measured: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, 1-minute load average "
        f"{min(load_averages):.1f} to {max(load_averages):.1f} during the run",
        f"- Data: {patients:,} patients, {sample['ADMISSIONS']:,} admissions, {sample['DIAGNOSES_ICD']:,} diagnoses, "
        f"{sample['PRESCRIPTIONS']:,} prescriptions; the build made {build_counts['mm_admission_features rows']:,} rows of "
        f"`mm_admission_features` and {build_counts['mm_patients rows']:,} of `mm_patients`",
        f"- dbt nodes per build: " + ", ".join(f"{count} {kind}s" for kind, count in sorted(build_counts.items()) if "rows" not in kind),
        "",
        "| step | repeats | seconds (min) | seconds (max) | peak memory (MiB, max) |",
        "|---|---:|---:|---:|---:|",
    ]
    for step in ("sample", "load", "build"):
        seconds = [r["seconds"] for r in runs[step]]
        peak = max(r["peak_mib"] for r in runs[step])
        lines.append(f"| {step} | {len(seconds)} | {min(seconds):.1f} | {max(seconds):.1f} | {peak:.0f} |")
    total = sum(min(r["seconds"] for r in runs[step]) for step in ("load", "build"))
    lines += ["", f"Load plus build, best of each: {total:.1f} s.", ""]
    return "\n".join(lines)


def replace_section(text: str, title: str, section: str) -> str:
    """Replace the section headed `title` in docs/benchmarks.md, leaving other sections as they are."""
    pattern = re.compile(rf"^{re.escape(title)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: section + "\n", text, count=1)
    if not text:
        text = "# Benchmarks\n\nMeasured numbers, each with the command and the machine it ran on.\n"
    return text.rstrip("\n") + "\n\n" + section


def write_section(title: str, section: str) -> None:
    existing = BENCHMARKS_MD.read_text(encoding="utf-8") if BENCHMARKS_MD.exists() else ""
    BENCHMARKS_MD.parent.mkdir(parents=True, exist_ok=True)
    BENCHMARKS_MD.write_text(replace_section(existing, title, section), encoding="utf-8")
    print(f"Wrote the results to {BENCHMARKS_MD}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=46_520, help="Patients in the sample (46,520 is the size of MIMIC-III v1.4).")
    parser.add_argument("--repeats", type=int, default=2, help="Load and build runs, each on a fresh warehouse; the minimum time is reported.")
    parser.add_argument("--work-dir", type=Path, default=Path("/tmp/bench_warehouse"), help="Scratch folder for the sample and the warehouse (kept afterwards).")
    parser.add_argument("--no-write", action="store_true", help="Print the results without editing docs/benchmarks.md.")
    args = parser.parse_args()

    load_averages = [os.getloadavg()[0]]
    runs = measure(args.patients, args.repeats, args.work_dir)
    load_averages += [r["load_average"] for step in ("load", "build") for r in runs[step]]
    (args.work_dir / "results.json").write_text(json.dumps(runs, indent=2), encoding="utf-8")

    command = f"python bench/bench_warehouse.py --patients {args.patients} --repeats {args.repeats}"
    section = render(args.patients, runs, command, load_averages)
    if args.no_write:
        print(section)
        return
    write_section(SECTION_TITLE, section)


if __name__ == "__main__":
    main()
