"""Time `equisynth run` end to end, on the MIMIC-III demo and on the default built-in sample.

Each run starts in an empty temporary folder with the default settings, so every step runs.
The script records the wall time of the whole command and of each step (from
ml.pipeline_steps) and replaces the "End-to-end run" section of docs/benchmarks.md.

    python bench/bench_run.py [--demo DIR] [--skip-sample]
"""

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "docs" / "benchmarks.md"
SECTION_TITLE = "## End-to-end run"
DEFAULT_DEMO = ROOT.parent / "shared" / "mimic-iii-demo"


def machine() -> str:
    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} CPUs, {cpu}, {memory:.1f} GiB RAM, Python {platform.python_version()}"


def time_run(label: str, arguments: list[str]) -> dict:
    """Run `equisynth run ARGUMENTS` in a fresh folder; return wall time, step times and exit code."""
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    folder = Path(tempfile.mkdtemp(prefix=f"equisynth-bench-{slug}-"))
    command = [str(Path(sys.executable).with_name("equisynth")), "run", *arguments]
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=folder, capture_output=True, text=True)
    seconds = time.perf_counter() - started

    steps = {}
    warehouse = folder / "warehouse" / "equisynth.duckdb"
    if warehouse.exists():
        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            steps = dict(con.execute("select step, seconds from ml.pipeline_steps").fetchall())
        finally:
            con.close()
    if completed.returncode != 0:
        print(completed.stdout[-3000:], completed.stderr[-3000:], sep="\n", file=sys.stderr)
    return {"label": label, "command": " ".join(["equisynth run", *arguments]), "seconds": seconds,
            "steps": steps, "exit_code": completed.returncode}


def render(results: list[dict], load_average: float) -> str:
    step_names = ["sample", "load", "build", "validate-real", "train", "generate",
                  "validate-synthetic", "evaluate", "export"]
    lines = [
        SECTION_TITLE,
        "",
        "`equisynth run` with the default settings, in an empty folder, so every step runs. Targets:",
        "the MIMIC-III demo in under 3 minutes, the default built-in sample (3,000 patients) in",
        "under 5 minutes, on 2 cores. An exit code of 2 with no export time means the run stopped at",
        "the export step because a release check failed;",
        "the total then covers every step before it.",
        "",
        "- Command: `python bench/bench_run.py`",
        f"- Machine: {machine()}",
        f"- Measured: {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, 1-minute load average {load_average:.1f} at the start",
        "",
        "| input | command | exit code | total (s) | " + " | ".join(step_names) + " |",
        "|---|---|---:|---:|" + "---:|" * len(step_names),
    ]
    for result in results:
        cells = [f"{result['steps'][name]:.1f}" if name in result["steps"] else "–" for name in step_names]
        lines.append(
            f"| {result['label']} | `{result['command']}` | {result['exit_code']} | {result['seconds']:.1f} | "
            + " | ".join(cells) + " |"
        )
    lines.append("")
    return "\n".join(lines) + "\n"


def replace_section(text: str, section: str) -> str:
    pattern = re.compile(rf"^{re.escape(SECTION_TITLE)}\n.*?(?=^## |\Z)", re.MULTILINE | re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: section, text)
    return text.rstrip("\n") + "\n\n" + section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo", type=Path, default=Path(os.environ.get("EQUISYNTH_DEMO_DIR", DEFAULT_DEMO)))
    parser.add_argument("--skip-sample", action="store_true", help="Time only the demo run.")
    args = parser.parse_args()

    load_average = os.getloadavg()[0]
    results = []
    if (args.demo / "ADMISSIONS.csv").exists() or (args.demo / "ADMISSIONS.csv.gz").exists():
        demo_run = time_run("MIMIC-III demo", ["--raw", str(args.demo.resolve())])
        # Record the command with the demo folder as a variable.
        demo_run["command"] = "equisynth run --raw $EQUISYNTH_DEMO_DIR"
        results.append(demo_run)
    else:
        print(f"MIMIC-III demo not found at {args.demo}; timing the sample only.", file=sys.stderr)
    if not args.skip_sample:
        results.append(time_run("built-in sample (3,000 patients)", []))

    section = render(results, load_average)
    BENCHMARKS.write_text(replace_section(BENCHMARKS.read_text(encoding="utf-8"), section), encoding="utf-8")
    print(section)


if __name__ == "__main__":
    main()
