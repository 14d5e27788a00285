"""news_ingest as a deployment runs it: Airflow's api-server, scheduler, dag-processor and
triggerer as real processes, the LocalExecutor running mapped tasks side by side, metadata
on PostgreSQL (the end-to-end tests' harness, tests/e2e/services.py), SQLite warehouse.

    .venv/bin/python benchmarks/throughput_scheduler.py [--docs 2000] [--parallelism 2]
        [--out FILE]

`airflow dags test` (throughput.py's airflow variant) runs one task at a time in one
process; this measures what a scheduled or triggered run costs: the ceiling (bare
trafilatura on every core) right before, then a one-document run (the fixed cost: task
starts and the scheduler's hand-offs between them) and the --docs run, each triggered over
the REST API and timed from the run's start to its end as Airflow records them. CPU per
component is what every process used over the whole session (psutil), idle loops included.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]  # the e2e harness and its support modules

from _common import fmt_load, load_average, markdown_table, publish_report  # noqa: E402
from throughput_ceiling import run_ceiling  # noqa: E402
from throughput_corpus import build_corpus, load_pages, subset  # noqa: E402
from throughput_runs import PG_ADMIN_URL  # noqa: E402

RUN_TIMEOUT_S = 1800.0


def _seconds(run: dict) -> float:
    start = datetime.fromisoformat(run["start_date"])
    return (datetime.fromisoformat(run["end_date"]) - start).total_seconds()


def _loaded(warehouse: str, run_id: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(warehouse)
    with engine.connect() as conn:
        value = conn.execute(text("SELECT SUM(loaded) FROM ingest_runs WHERE run_id = :r"),
                             {"r": run_id}).scalar()
    engine.dispose()
    return int(value or 0)


def _task_timeline(run: dict, task_instances: list[dict]) -> list[list[str]]:
    """Per task of a run, in the order they started: seconds from the previous task's end
    (or the run's start) to this one's start — the scheduler's and executor's hand-off —
    and from its start to its end (the task process: imports, DAG parse, our work)."""
    def at(value: str) -> datetime:
        return datetime.fromisoformat(value)

    rows, previous_end = [], at(run["start_date"])
    for ti in sorted(task_instances, key=lambda t: t["start_date"]):
        start, end = at(ti["start_date"]), at(ti["end_date"])
        name = ti["task_id"] + (f"[{ti['map_index']}]" if ti["map_index"] >= 0 else "")
        rows.append([name, f"{(start - previous_end).total_seconds():.1f}",
                     f"{(end - start).total_seconds():.1f}"])
        previous_end = max(previous_end, end)
    tail = (at(run["end_date"]) - previous_end).total_seconds()
    rows.append(["(last task's end → run's end)", f"{tail:.1f}", ""])
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=2000)
    parser.add_argument("--parallelism", type=int, default=2,
                        help="AIRFLOW__CORE__PARALLELISM: task processes at once (the cores)")
    parser.add_argument("--chunk-size", type=int,
                        help="NEWS_ETL_CHUNK_SIZE: items per extract task (unset: 200)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()

    from e2e.services import (
        AirflowServices,
        create_database,
        drop_database,
        shared_metadata_template,
    )

    tmp = Path(tempfile.mkdtemp(prefix="news-etl-scheduler-"))
    pages = load_pages()
    paths = build_corpus(tmp / "corpus", pages, args.docs)
    tiny = subset(tmp / "tiny", paths[:1])
    sources = tmp / "sources.yml"
    sources.write_text("sources:\n"
                       f"  - name: tiny\n    kind: files\n    location: {tiny}\n"
                       f"  - name: bench\n    kind: files\n    location: {tmp / 'corpus'}\n")
    template = shared_metadata_template(PG_ADMIN_URL, tmp / "af_migrate")
    metadata_db = f"news_etl_bench_{uuid.uuid4().hex[:10]}"
    create_database(PG_ADMIN_URL, metadata_db, template=template)
    warehouse = f"sqlite:///{tmp / 'warehouse.db'}"
    ceiling_wall, _ = run_ceiling(paths, args.parallelism)
    rows, cpu, tasks = [], {}, []
    try:
        with AirflowServices(
            executor="LocalExecutor", home=tmp / "airflow_home", admin_url=PG_ADMIN_URL,
            metadata_db=metadata_db, warehouse_url=warehouse, sources_file=sources,
            extra_env={"AIRFLOW__CORE__PARALLELISM": str(args.parallelism),
                       "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
                       **({"NEWS_ETL_CHUNK_SIZE": str(args.chunk_size)}
                          if args.chunk_size else {})},
        ) as af:
            af.set_pool("news_fetch", 4, "fetch concurrency")
            af.wait_for_dags(["news_ingest"])
            # As the e2e test does: trigger while paused, let the dag-processor count the
            # queued runs, then unpause, so the scheduler's own hourly run does not go first.
            # max_active_runs=1 runs the two one after the other, in the order triggered.
            # The first run creates the warehouse's schema, once; the second is a run's
            # fixed cost (its document is a duplicate by then: it goes through every task).
            first_run = af.trigger("news_ingest", {"sources": ["tiny"]})
            tiny_run = af.trigger("news_ingest", {"sources": ["tiny"]})
            bench_run = af.trigger("news_ingest", {"sources": ["bench"]})
            af.reparse("news_ingest")
            af.wait_until(lambda: af.metadata_scalar(
                "SELECT exceeds_max_non_backfill FROM dag WHERE dag_id = 'news_ingest'"),
                120, "the dag-processor to count the queued runs")
            af.unpause("news_ingest")
            for name, run_id, docs in (
                    ("one document, new warehouse (creates the schema)", first_run, 1),
                    ("one document (the fixed cost)", tiny_run, 1),
                    (f"{args.docs} documents", bench_run, args.docs)):
                before = load_average()
                started = time.monotonic()
                run = af.wait_for_run("news_ingest", run_id, RUN_TIMEOUT_S)
                wall = _seconds(run)
                ratio = f"{wall / ceiling_wall:.2f}" if docs > 1 else ""
                rows.append([name, docs, f"{wall:.1f}", ratio, _loaded(warehouse, run_id),
                             f"{fmt_load(before)} → {fmt_load(load_average())}",
                             f"{time.monotonic() - started:.0f}"])
                if run_id == tiny_run:
                    tasks = _task_timeline(run, af.task_instances("news_ingest", run_id))
            af.pause("news_ingest")  # no hourly run while the services stop
            cpu = af.cpu_seconds()
    finally:
        drop_database(PG_ADMIN_URL, metadata_db)
    report = (
        f"news_ingest through the scheduler (LocalExecutor, parallelism {args.parallelism}, "
        f"NEWS_ETL_TASK_WORKERS 1, NEWS_ETL_CHUNK_SIZE {args.chunk_size or 'unset (200)'}, "
        f"SQLite warehouse); ceiling right before: "
        f"{ceiling_wall:.1f} s for {args.docs} documents on {args.parallelism} processes.\n\n"
        + markdown_table(["run", "docs", "run start → end s", "ratio to ceiling", "loaded",
                          "load before → after", "waited s"], rows)
        + "\n\nThe second one-document run, task by task (the fixed cost of a run):\n\n"
        + markdown_table(["task", "hand-off s (previous end → start)", "task s (start → end)"],
                         tasks)
        + "\n\nThe one document is the first of the corpus too: the larger run counts it a "
          "duplicate (one more than the CLI runs of throughput.py)."
        + "\n\nCPU seconds per component over the whole session (services idle included): "
        + ", ".join(f"{k} {v}" for k, v in cpu.items())
        + f"\n\nCommand: `.venv/bin/python benchmarks/throughput_scheduler.py --docs "
          f"{args.docs} --parallelism {args.parallelism}"
          + (f" --chunk-size {args.chunk_size}" if args.chunk_size else "") + "`\n")
    publish_report(report, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
