"""news_ingest: sources → fetch → extract → validate → dedup → load, on a schedule or on demand.

Tasks only wire etl functions together and pass references (source names, staging
folders) through XCom, never article data. Heavy libraries are imported inside tasks.
Sources are discovered in batches (NEWS_ETL_SOURCES_PER_TASK per task), and no mapped
task has more than NEWS_ETL_MAX_MAPPED_TASKS instances (etl.pipeline.batches), so 10,000
feeds are not 10,000 tasks; each source still gets its own ingest_runs record.
Configuration (sources file, staging, archive, rules) comes from plugins/news_settings.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, setup, task
from news_assets import ARTICLES
from news_settings import retry_delay_s


def _sources():
    from news_settings import sources

    return sources()


def _options(params: dict):
    from news_settings import run_options

    from etl.pipeline import requested_interval

    context = get_current_context()
    # Every entry not seen yet, up to each source's max_age_days; only a backfill
    # (`airflow backfill create`) or `only_interval` keeps to the data interval.
    since, until = requested_interval(
        getattr(context.get("dag_run"), "run_type", None), bool(params.get("only_interval")),
        context.get("data_interval_start"), context.get("data_interval_end"))
    return run_options(max_items=params.get("limit"), since=since, until=until)


def _planned() -> list[str]:
    """plan_sources' sources, flattened; a clear failure, not a TypeError, when it
    produced none. Pulled, not passed: a setup task's direct followers must be
    all_success, and plan_chunks and load (all_done) run whichever sources failed."""
    batches = get_current_context()["ti"].xcom_pull(task_ids="plan_sources")
    if batches is None:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException("plan_sources did not produce the run's sources")
    return [name for batch in batches for name in batch]


def _max_tasks() -> int:
    """At most this many instances of a mapped task: NEWS_ETL_MAX_MAPPED_TASKS, within
    Airflow's max_map_length."""
    from airflow.configuration import conf
    from news_settings import settings

    return min(settings().max_mapped_tasks, conf.getint("core", "max_map_length"))


def _label(items: list[str], name=lambda item: item) -> str:
    """A mapped task's name in the UI: its first item, and how many more."""
    return name(items[0]) + (f" +{len(items) - 1}" if len(items) > 1 else "") if items else "-"


def _by_name(chunks: list[str]) -> dict:
    """The sources of these chunk folders (<run>/<source>/chunk-N), by name."""
    names = list(dict.fromkeys(Path(chunk).parent.name for chunk in chunks))
    return {source.name: source for source in _sources().select(names)}


def _chunk_name(chunk: str) -> str:
    path = Path(chunk)
    return f"{path.parent.name}/{path.name}"


@dag(
    dag_id="news_ingest",
    # Hourly, each run with the hour before it as its data interval (a bare "@hourly" gives
    # Airflow 3 runs an empty interval, and then a backfill or `only_interval` has none).
    schedule=CronTriggerTimetable("@hourly", timezone="UTC", interval=timedelta(hours=1)),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["news", "ingest"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=retry_delay_s())},
    params={
        "sources": Param([], type="array", items={"type": "string"},
                         description="Source names from sources.yml; empty = all sources."),
        "limit": Param(None, type=["null", "integer"], minimum=1,
                       description="At most this many items per source."),
        "only_interval": Param(False, type="boolean",
                               description="Take only feed/sitemap items dated inside the "
                                           "run's data interval (backfills always do)."),
        "due_only": Param(None, type=["null", "boolean"],
                          description="Read only the sources due by their poll state "
                                      "(docs/polling.md). Empty: scheduled runs do, manual "
                                      "runs force the sources they select."),
    },
    doc_md=__doc__,
)
def news_ingest():
    # The run's setup task. Airflow marks every later task upstream_failed when a setup
    # fails, whatever its trigger rule, so plan_chunks and load (all_done) do not run on
    # nothing after a bad trigger.
    @setup
    def plan_sources(params: dict | None = None) -> list[list[str]]:
        """Validate the trigger conf, then plan which sources this run reads, in batches of
        NEWS_ETL_SOURCES_PER_TASK (one discover task each). Unknown keys or source names,
        or a broken sources.yml, fail the run at once, naming every problem
        (etl.pipeline.polls.run_conf_problems), without retries.
        A scheduled run reads only the sources due by their poll state; the others go to
        XCom `not_due`, and the load task lists them in the run's summary."""
        from airflow.sdk.exceptions import AirflowFailException
        from news_settings import settings
        from warehouse_hook import WarehouseHook

        from etl.pipeline.batches import plan_batches
        from etl.pipeline.polls import (
            due_only_for,
            not_due_to_json,
            plan_sources,
            run_conf_problems,
            utc_now,
        )

        context = get_current_context()
        params = params or {}
        names = list(dict.fromkeys(params.get("sources") or []))
        configured, problems = run_conf_problems(
            context["dag_run"].conf or {}, context["dag"].params.keys(), names, _sources)
        if problems or configured is None:  # not transient: retrying cannot help
            raise AirflowFailException("bad run configuration:\n- " + "\n- ".join(problems))
        due_only = due_only_for(getattr(context.get("dag_run"), "run_type", None),
                                params.get("due_only"))
        warehouse = WarehouseHook().get_warehouse(settings()) if due_only else None
        due, not_due = plan_sources(configured, names, warehouse, due_only=due_only,
                                    now=utc_now())
        for skip in not_due:
            print(f"{skip.source}: not due ({skip.reason})")
        context["ti"].xcom_push(key="not_due", value=not_due_to_json(not_due))
        batches = plan_batches(due, settings().sources_per_task, _max_tasks())
        print(f"{len(due)} source(s) to read, in {len(batches)} discover task(s)")
        return batches

    @task(map_index_template="{{ batch_label }}")
    def discover(names: list[str], params: dict | None = None) -> int:
        """Find a batch of sources' items and split them into chunks. A source that fails
        (a feed that is down) is recorded and the others go on; the task then fails, and
        its retry reads only the sources that failed."""
        from news_settings import settings, staging_root
        from warehouse_hook import WarehouseHook

        from etl.pipeline.batches import discover_batch

        context = get_current_context()
        context["batch_label"] = _label(names)  # type: ignore[typeddict-unknown-key]
        # The warehouse: feeds unchanged since their last full read answer 304 and are not
        # parsed, unchanged sitemap children are skipped (as in `news-etl ingest`).
        warehouse = WarehouseHook().get_warehouse(settings())
        try:
            return discover_batch(_sources().select(names), context["run_id"], staging_root(),
                                  _options(params or {}), warehouse=warehouse,
                                  chunk_size=settings().chunk_size)
        finally:
            warehouse.dispose()

    @task(trigger_rule="all_done")
    def plan_chunks() -> list[list[str]]:
        """Every chunk folder discovered, whichever sources failed: one extract task per
        chunk, or several chunks per task when there are more than NEWS_ETL_MAX_MAPPED_TASKS."""
        from news_settings import staging_root

        from etl.pipeline import staged_chunks
        from etl.pipeline.batches import plan_batches

        chunks = staged_chunks(get_current_context()["run_id"], staging_root(), _planned())
        return plan_batches(chunks, 1, _max_tasks())

    # Each batch of chunks is fetched, extracted and validated by its own task (one pass,
    # no hand-over in between); the news_fetch pool bounds how many run at once across all
    # runs, whatever the number of workers.
    @task(map_index_template="{{ chunk_label }}", pool="news_fetch")
    def extract(chunks: list[str], params: dict | None = None) -> list[str]:
        """Fetch (web sources), extract and validate a batch of chunks, each with its
        source's rules; rejects are quarantined by load."""
        from news_settings import settings
        from warehouse_hook import WarehouseHook

        from etl.pipeline import stage_chunk
        from etl.pipeline.batches import run_chunks

        context = get_current_context()
        context["chunk_label"] = _label(chunks, _chunk_name)  # type: ignore[typeddict-unknown-key]
        options, warehouse = _options(params or {}), WarehouseHook().get_warehouse(settings())
        by_name, run_id = _by_name(chunks), context["run_id"]
        # extract.json is a chunk's last record (etl.pipeline.staging): done when it exists.
        return run_chunks(chunks, "extract.json", lambda chunk: stage_chunk(
            chunk, by_name[Path(chunk).parent.name], run_id, options, warehouse))

    @task(trigger_rule="all_done", outlets=[ARTICLES])
    def load() -> dict:
        """Dedup and load every source's chunks in one serial step (the dedup decisions
        need one writer); records failed sources and chunks too, so the counts add up, and
        each source's poll (etl.polling). Then emits the articles Asset event with the
        run's counts for downstream DAGs."""
        from news_settings import run_options, settings, staging_root
        from warehouse_hook import WarehouseHook

        from etl.pipeline import stage_load
        from etl.pipeline.polls import not_due_from_json, with_not_due

        context = get_current_context()
        summary = stage_load(context["run_id"], staging_root(),
                             _planned(), WarehouseHook().get_warehouse(settings()),
                             options=run_options())
        skipped = context["ti"].xcom_pull(task_ids="plan_sources", key="not_due")
        run = with_not_due(summary, not_due_from_json(skipped)).as_dict()
        context["outlet_events"][ARTICLES].extra = {"run_id": run["run_id"], **run["totals"]}
        print(f"run {run['run_id']}: {run['totals']}")
        return run

    @task
    def check_sources(summary: dict) -> None:
        """Fail the run (no retry: the data would not change) when a source failed as a
        whole or every item of a source failed. It runs last, so the other sources'
        articles are loaded and announced first, and Airflow's failure alerting fires.
        First it writes the run's HTML report (etl.report_html) beside its Data Docs."""
        from airflow.sdk.exceptions import AirflowFailException
        from news_settings import settings
        from warehouse_hook import WarehouseHook

        from etl.analytics import failed_sources
        from etl.report_html import write_run_report

        # The run as one offline HTML page beside its Data Docs (never fails the run).
        report = write_run_report(WarehouseHook().get_warehouse(settings()),
                                  summary["run_id"], settings().data_docs_dir)
        if report:
            print(f"run report: file://{report.resolve()}")
        failed = failed_sources(summary["sources"])
        if failed:
            raise AirflowFailException(
                f"{len(failed)} source(s) failed in run {summary['run_id']}:\n"
                + "\n".join(f"  - {r['source']}: {r['status']}: {r['error']}" for r in failed))
        print(f"every source of run {summary['run_id']} completed")

    chunks = plan_chunks()
    discover.expand(names=plan_sources()) >> chunks
    summary = load()
    extract.expand(chunks=chunks) >> summary
    check_sources(summary)


news_ingest()
