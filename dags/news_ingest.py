"""news_ingest: sources → fetch → extract → validate → dedup → load, on a schedule or on demand.

Tasks only wire etl functions together and pass references (source names, staging
folders) through XCom, never article data. Heavy libraries are imported inside tasks.
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


def _planned(sources: list[str] | None) -> list[str]:
    """plan_sources' list; a clear failure, not a TypeError, when it produced none."""
    if sources is None:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException("plan_sources did not produce the run's sources")
    return sources


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
    def check_params(params: dict | None = None) -> None:
        """Validate the trigger conf before any work: an unknown key or source name, or a
        broken sources.yml, fails the run at once, with the reason, without retries."""
        from airflow.sdk.exceptions import AirflowFailException

        from etl.config import ConfigError

        context = get_current_context()
        declared = set(context["dag"].params.keys())
        unknown = sorted(set(context["dag_run"].conf or {}) - declared)
        if unknown:
            raise AirflowFailException(
                f"unknown parameter(s) {unknown} in the run's conf; known: {sorted(declared)}")
        try:
            _sources().select(list((params or {}).get("sources") or []))
        except ConfigError as exc:  # configuration is not transient: retrying cannot help
            raise AirflowFailException(f"bad run configuration: {exc}") from None

    @task
    def plan_sources(params: dict | None = None) -> list[str]:
        """Which sources this run reads (each once, in the order asked): on a scheduled
        run only those due by their poll state; the others go to XCom `not_due`, and the
        load task lists them in the run's summary."""
        from airflow.sdk.exceptions import AirflowFailException
        from news_settings import settings
        from warehouse_hook import WarehouseHook

        from etl.config import ConfigError
        from etl.pipeline.polls import due_only_for, not_due_to_json, plan_sources, utc_now

        params = params or {}
        context = get_current_context()
        names = list(dict.fromkeys(params.get("sources") or []))
        due_only = due_only_for(getattr(context.get("dag_run"), "run_type", None),
                                params.get("due_only"))
        warehouse = WarehouseHook().get_warehouse(settings()) if due_only else None
        try:
            due, not_due = plan_sources(_sources(), names, warehouse, due_only=due_only,
                                        now=utc_now())
        except ConfigError as exc:  # sources.yml changed since check_params
            raise AirflowFailException(f"bad run configuration: {exc}") from None
        for skip in not_due:
            print(f"{skip.source}: not due ({skip.reason})")
        context["ti"].xcom_push(key="not_due", value=not_due_to_json(not_due))
        return due

    @task(map_index_template="{{ source_name }}")
    def discover(source_name: str, params: dict | None = None) -> int:
        """Find one source's items and split them into chunks (a feed that is down fails
        this task only)."""
        from news_settings import staging_root

        from etl.pipeline import stage_discover

        context = get_current_context()
        context["source_name"] = source_name  # type: ignore[typeddict-unknown-key]
        source = _sources().select([source_name])[0]
        return len(stage_discover(source, context["run_id"], staging_root(),
                                  _options(params or {})))

    @task(trigger_rule="all_done")
    def plan_chunks(sources: list[str]) -> list[str]:
        """Every chunk folder discovered, whichever sources failed."""
        from news_settings import staging_root

        from etl.pipeline import staged_chunks

        return staged_chunks(get_current_context()["run_id"], staging_root(),
                             _planned(sources))

    # Each chunk is fetched and extracted by its own task; the news_fetch pool bounds how
    # many run at once across all runs, whatever the number of workers.
    @task(map_index_template="{{ chunk_label }}", pool="news_fetch")
    def extract(chunk: str, params: dict | None = None) -> str:
        """Fetch (web sources) and extract one chunk of a source."""
        from news_settings import settings
        from warehouse_hook import WarehouseHook

        from etl.pipeline import stage_fetch_extract

        context = get_current_context()
        path = Path(chunk)
        label = f"{path.parent.name}/{path.name}"
        context["chunk_label"] = label  # type: ignore[typeddict-unknown-key]
        source = _sources().select([path.parent.name])[0]
        return stage_fetch_extract(chunk, source, context["run_id"], _options(params or {}),
                                   WarehouseHook().get_warehouse(settings()))

    @task
    def validate(chunk: str) -> str:
        """Great Expectations suite on the chunk's batches; rejects are quarantined."""
        from news_settings import settings

        from etl.pipeline import stage_validate

        source = _sources().select([Path(chunk).parent.name])[0]
        min_words = source.min_words if source.min_words is not None else settings().min_words
        return stage_validate(chunk, {source.name: min_words})

    @task(trigger_rule="all_done")
    def load(sources: list[str]) -> dict:
        """Dedup and load every source's chunks in one serial step (the dedup decisions
        need one writer); records failed sources and chunks too, so the counts add up, and
        each source's poll (etl.polling)."""
        from news_settings import run_options, settings, staging_root
        from warehouse_hook import WarehouseHook

        from etl.pipeline import stage_load
        from etl.pipeline.polls import not_due_from_json, with_not_due

        context = get_current_context()
        summary = stage_load(context["run_id"], staging_root(),
                             _planned(sources), WarehouseHook().get_warehouse(settings()),
                             options=run_options())
        skipped = context["ti"].xcom_pull(task_ids="plan_sources", key="not_due")
        return with_not_due(summary, not_due_from_json(skipped)).as_dict()

    @task(outlets=[ARTICLES])
    def publish(summary: dict) -> dict:
        """Emit the articles Asset event with the run's counts for downstream DAGs."""
        get_current_context()["outlet_events"][ARTICLES].extra = {
            "run_id": summary["run_id"], **summary["totals"]}
        print(f"run {summary['run_id']}: {summary['totals']}")
        return summary["totals"]

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

    names = plan_sources()
    check_params() >> names
    chunks = plan_chunks(names)
    discover.expand(source_name=names) >> chunks
    validated = validate.expand(chunk=extract.expand(chunk=chunks))
    summary = load(names)
    validated >> summary
    publish(summary) >> check_sources(summary)


news_ingest()
