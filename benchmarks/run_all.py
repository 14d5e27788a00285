"""Run every benchmark script and assemble BENCHMARKS.md at the repository root.

    .venv/bin/python benchmarks/run_all.py [--only throughput,load] [--full]
        [--wait-quiet 1.5 --max-wait 600] [--extra NAME="--flag value"] [--out BENCHMARKS.md]

Each script prints a markdown report and writes it to --out; BENCHMARKS.md gets one
section per script with the exact command, the date, the core count and the load average
before and after (the machine is often shared: figures taken under load are slower).
Scripts left out with --only keep their previous section from the existing BENCHMARKS.md,
each stating the date it was produced; hand-written sections (between
`<!-- bench:NAME -->` markers, NAME not a script) are kept verbatim. --full runs the slow
sizes (dedup_scale with 1M signatures).
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import REPO, fmt_load, load_average, wait_for_quiet

# name → (script, default arguments, arguments added by --full)
BENCHMARKS: dict[str, tuple[str, list[str], list[str]]] = {
    "metadata": ("metadata.py", [], []),
    "dedup_quality": ("dedup_quality.py", [], []),
    "dedup_scale": ("dedup_scale.py", ["--sizes", "10000,100000"],
                    ["--sizes", "10000,100000,1000000"]),
    "load": ("load.py", [], []),
    "load_fts_options": ("load_fts_options.py", [], []),
    "throughput": ("throughput.py", [], []),
    "throughput_cpu": ("throughput_cpu.py", ["--sizes", "100,1000"], []),
    "throughput_scheduler": ("throughput_scheduler.py", [], []),
    "airflow_floor": ("airflow_floor.py", [], []),
    "warc_compression": ("warc_compression.py", [], []),
    "polling_scale": ("polling_scale.py", [], []),
}
_SECTION = re.compile(r"<!-- bench:(\w+) -->\n(.*?)<!-- /bench:\1 -->", re.S)
# A report may open with a summary table between these markers: it is copied to the
# "summary" section at the top of the file.
_SUMMARY = re.compile(r"<!-- summary -->\n(.*?)<!-- /summary -->", re.S)


def lift_summary(sections: dict[str, str], name: str) -> None:
    match = _SUMMARY.search(sections.get(name, ""))
    if match:
        sections["summary"] = (
            "## Summary\n\nOut-of-fold figures are the estimate for publishers the rules never "
            f"saw; the `{name}` section below has the details, per fold and per rule.\n\n"
            + match.group(1))


def previous_sections(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    return {m.group(1): m.group(2) for m in _SECTION.finditer(path.read_text())}


def run_one(name: str, args: list[str]) -> str:
    script = REPO / "benchmarks" / BENCHMARKS[name][0]
    with tempfile.NamedTemporaryFile(suffix=".md", delete=False) as handle:
        out = Path(handle.name)
    cmd = [str(REPO / ".venv" / "bin" / "python"), str(script), *args, "--out", str(out)]
    shown = " ".join(shlex.quote(c) for c in cmd[:-2]).replace(str(REPO) + "/", "")
    before = load_average()
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    result = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = load_average()
    body = out.read_text().strip() if out.exists() and out.stat().st_size else ""
    out.unlink(missing_ok=True)
    if result.returncode != 0 or not body:
        body = (f"**failed** (exit {result.returncode}):\n\n```\n"
                f"{(result.stderr or result.stdout)[-3000:]}\n```")
    header = (f"## {name}\n\n"
              f"- command: `{shown} --out FILE`\n"
              f"- run: {started.strftime('%Y-%m-%d %H:%M UTC')}, {wall:.0f} s, "
              f"{os.cpu_count()} cores, load average (1/5/15 min) {fmt_load(before)} before, "
              f"{fmt_load(after)} after\n\n")
    return header + body + "\n"


def assemble(sections: dict[str, str]) -> str:
    parts = [
        "# Benchmarks\n",
        f"Assembled by `.venv/bin/python benchmarks/run_all.py` (`make bench`) on "
        f"{datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')}, machine with "
        f"{os.cpu_count()} cores. Every section states the command that produced it, when, "
        "and the load average it ran under: this machine is shared, and timings taken at a "
        "load above the core count are slower than on a quiet machine.\n",
    ]
    # Generated sections in a fixed order, then hand-written ones (e.g. the analysis of
    # where the time goes), which are kept verbatim from the previous file.
    first = ["summary"] if "summary" in sections else []
    for name in [*first, *BENCHMARKS, *(n for n in sections if n not in [*BENCHMARKS, *first])]:
        if name in sections:
            parts.append(f"<!-- bench:{name} -->\n{sections[name]}<!-- /bench:{name} -->\n")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    parser.add_argument("--full", action="store_true", help="slow sizes too (1M signatures)")
    parser.add_argument("--extra", action="append", default=[],
                        help='more arguments for one script: NAME="--flag value"')
    parser.add_argument("--wait-quiet", type=float, default=0.0,
                        help="before each script, wait until the 1-min load is below this")
    parser.add_argument("--max-wait", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=REPO / "BENCHMARKS.md")
    parser.add_argument("--assemble-only", action="store_true",
                        help="run nothing: rewrite the file from its current sections")
    args = parser.parse_args(argv)
    names = args.only.split(",") if args.only else list(BENCHMARKS)
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s) {sorted(unknown)}")
    extra: dict[str, list[str]] = {}
    for item in args.extra:
        name, _, flags = item.partition("=")
        extra.setdefault(name, []).extend(shlex.split(flags))

    sections = previous_sections(args.out)
    for name in [] if args.assemble_only else names:
        _, default, full = BENCHMARKS[name]
        if args.wait_quiet:
            wait_for_quiet(args.wait_quiet, args.max_wait)
        print(f"running {name} …", file=sys.stderr, flush=True)
        sections[name] = run_one(name, (full if args.full and full else default)
                                 + extra.get(name, []))
        lift_summary(sections, name)
        args.out.write_text(assemble(sections))  # partial results survive an interruption
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
