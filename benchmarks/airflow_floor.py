"""What `airflow dags test` costs before any work of ours: DAGs of no-op tasks.

    .venv/bin/python benchmarks/airflow_floor.py [--rounds 2] [--out FILE]

Two DAGs written to a temp dags folder — one `@task` returning None, and a chain of six —
run with `airflow dags test` on a temp AIRFLOW_HOME (migrated first, not timed), wall and
CPU (user + sys of the command, from os.wait4) of each, best of --rounds. Beside them, the
CPU of importing Great Expectations, which `news_ingest`'s validation needs in any run.
The one-document `news_ingest` run of the throughput benchmark is this floor plus GX plus
our own work.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from _common import BIN, publish_report

DAGS = {
    "noop": """
        @dag(dag_id="noop", schedule=None, start_date=datetime(2026, 1, 1), catchup=False)
        def noop():
            @task
            def one() -> None:
                return None

            one()
        """,
    "noop_chain6": """
        @dag(dag_id="noop_chain6", schedule=None, start_date=datetime(2026, 1, 1),
             catchup=False)
        def noop_chain6():
            @task
            def step(i: int) -> int:
                return i

            value = step.override(task_id="t0")(0)
            for i in range(1, 6):
                value = step.override(task_id=f"t{i}")(value)
        """,
}


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the command and its children)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        dags, home = Path(tmp) / "dags", Path(tmp) / "home"
        dags.mkdir()
        for name, body in DAGS.items():
            (dags / f"{name}.py").write_text(
                "from datetime import datetime\n\nfrom airflow.sdk import dag, task\n\n"
                + textwrap.dedent(body) + f"\n\n{name}()\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
        env.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__DAGS_FOLDER=str(dags),
                   AIRFLOW__CORE__LOAD_EXAMPLES="False", GX_ANALYTICS_ENABLED="false",
                   AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING")
        timed([str(BIN / "airflow"), "db", "migrate"], env)
        for name in DAGS:
            best = min(timed([str(BIN / "airflow"), "dags", "test", name], env)
                       for _ in range(args.rounds))
            rows.append((f"`airflow dags test {name}`", *best))
    gx = [str(BIN / "python"), "-c", "import great_expectations"]
    bare = [str(BIN / "python"), "-c", "pass"]
    gx_best = min(timed(gx, os.environ.copy()) for _ in range(args.rounds))
    bare_best = min(timed(bare, os.environ.copy()) for _ in range(args.rounds))
    rows.append(("`import great_expectations` (beyond a bare interpreter)",
                 gx_best[0] - bare_best[0], gx_best[1] - bare_best[1]))
    lines = [f"Command: `.venv/bin/python benchmarks/airflow_floor.py --rounds {args.rounds}`",
             "", f"Best of {args.rounds} rounds; CPU is user + sys of the command and its "
             "children.", "", "| what | wall s | CPU s |", "|---|---:|---:|"]
    lines += [f"| {what} | {wall:.2f} | {cpu:.2f} |" for what, wall, cpu in rows]
    publish_report("\n".join(lines), args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
