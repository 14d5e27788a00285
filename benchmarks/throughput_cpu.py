"""CPU seconds of the pipeline against the bare-extraction ceiling, load-independent.

Wall-time ratios on a shared 2-core machine swing with the load (BENCHMARKS.md, throughput).
CPU time does not, or much less: `perf stat -e task-clock` counts every process of the run
(CLI, forkserver, workers). When both runs keep the cores busy, the wall ratio cannot be
below the CPU ratio, so this is the floor the throughput targets are held against. Two sizes
split each run into a fixed cost (imports, forkserver warm-up, GX, schema) and a cost per
document.

    .venv/bin/python benchmarks/throughput_cpu.py [--sizes 100,1000] [--out FILE]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import BIN, REPO, fmt_load, load_average, markdown_table, publish_report
from throughput_corpus import build_corpus, load_pages, subset

HERE = Path(__file__).resolve().parent


def cpu_seconds(cmd: list[str], tmp: Path) -> float:
    """Task-clock of `cmd` and every process it starts, in seconds."""
    out = tmp / "perf.txt"
    subprocess.run(["perf", "stat", "-e", "task-clock", "-x,", "-o", str(out), *cmd],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    line = next(x for x in out.read_text().splitlines() if "task-clock" in x)
    return float(line.split(",")[0]) / 1000


def ceiling_cmd(corpus: Path, workers: int) -> list[str]:
    code = (f"import sys; sys.path.insert(0, {str(HERE)!r}); from pathlib import Path; "
            "from throughput_ceiling import run_ceiling; "
            f"run_ceiling(sorted(Path({str(corpus)!r}).glob('*.html')), {workers})")
    return [str(BIN / "python"), "-c", code]


def pipeline_cmd(corpus: Path, tmp: Path, workers: int) -> list[str]:
    sources = tmp / f"{corpus.name}.yml"
    sources.write_text(f"sources:\n  - name: cpu\n    kind: files\n    location: {corpus}\n")
    db = tmp / f"{corpus.name}.db"
    db.unlink(missing_ok=True)
    return [str(BIN / "news-etl"), "ingest", str(sources), "--warehouse", f"sqlite:///{db}",
            "--workers", str(workers), "--json"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if shutil.which("perf") is None:
        print("perf is not installed (Debian: linux-perf)", file=sys.stderr)
        return 1
    sizes = sorted(int(s) for s in args.sizes.split(","))
    tmp = Path(tempfile.mkdtemp(prefix="news-etl-cpu-"))
    before = load_average()
    try:
        paths = build_corpus(tmp / "all", load_pages(), sizes[-1])
        rows, measured = [], {}
        for n in sizes:
            corpus = subset(tmp / f"c{n}", paths[:n])
            ceiling = cpu_seconds(ceiling_cmd(corpus, args.workers), tmp)
            pipeline = cpu_seconds(pipeline_cmd(corpus, tmp, args.workers), tmp)
            measured[n] = (ceiling, pipeline)
            rows.append([n, f"{ceiling:.1f}", f"{pipeline:.1f}", f"{pipeline / ceiling:.2f}"])
        table = markdown_table(["docs", "ceiling CPU s", "pipeline CPU s", "CPU ratio"], rows)
        lines = [f"CPU seconds (perf task-clock, all processes), {args.workers} workers, "
                 f"load {fmt_load(before)} → {fmt_load(load_average())}.", "", table]
        if len(sizes) > 1:
            (n0, (c0, p0)), (n1, (c1, p1)) = (sizes[0], measured[sizes[0]]), \
                (sizes[-1], measured[sizes[-1]])
            per_c, per_p = (c1 - c0) / (n1 - n0), (p1 - p0) / (n1 - n0)
            lines += ["", f"Per document: ceiling {per_c * 1000:.1f} ms, pipeline "
                      f"{per_p * 1000:.1f} ms ({per_p / per_c:.2f}×). Fixed per run: ceiling "
                      f"{c0 - per_c * n0:.1f} s, pipeline {p0 - per_p * n0:.1f} s."]
        command = ".venv/bin/python benchmarks/throughput_cpu.py " + " ".join(
            sys.argv[1:] if argv is None else argv)
        lines += ["", f"Command: `{command.strip()}`"]
        report = "\n".join(lines)
        publish_report(report, args.out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
