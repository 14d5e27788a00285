"""news_analytics: after every news_ingest load, refresh the summaries and raise the alarms.

Scheduled on the `news_articles` Asset that news_ingest publishes. The SQL lives in
etl.analytics (tested without Airflow); tasks only pick the warehouse and call it. Two
checks fail the run loudly: a source whose latest run rejected more than the threshold
(the usual sign that a site changed its layout and extraction now yields garbage), and a
source that failed as a whole or failed every item in the triggering ingest run(s)
(`source_failed` / `all_failed` in ingest_runs) or that the polling rule keeps suspended
(every run alarms until a probe resumes it or it leaves the sources file).

Warehouse: the connection `warehouse_default` through the common-sql provider's hook
(PostgresHook for a postgres connection); a type with no SQL provider installed (sqlite)
is read from its URI, as news_ingest does; when it is not defined, the settings'
warehouse_url (NEWS_ETL_WAREHOUSE_URL, else the embedded SQLite default). A connection that
cannot hold the warehouse fails the task at once, without retries, with a one-line message.
The alarms' default Params come from the settings (NEWS_ETL_REJECT_THRESHOLD,
NEWS_ETL_REJECT_MIN_ITEMS, NEWS_ETL_REJECT_WINDOW_HOURS).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, get_current_context, task
from news_assets import ARTICLES
from news_settings import retry_delay_s, settings

CONN_ID = "warehouse_default"


def _warehouse():
    from airflow.providers.common.sql.hooks.sql import DbApiHook
    from airflow.sdk.bases.hook import BaseHook
    from airflow.sdk.exceptions import AirflowFailException
    from warehouse_hook import WarehouseHook

    from etl.warehouse import Warehouse, WarehouseConfigError, check_url

    plain = WarehouseHook(CONN_ID)
    if plain.get_uri() is None:  # not defined: NEWS_ETL_WAREHOUSE_URL, else the default
        return plain.get_warehouse(settings())
    conn = BaseHook.get_connection(CONN_ID)
    try:
        hook = conn.get_hook()
    except Exception:  # no provider installed for this type (e.g. sqlite)
        hook = None
    if not isinstance(hook, DbApiHook):
        # The connection's URI as news_ingest reads it: the same warehouse, or the same
        # one-line failure (no retries) for a type that cannot be one.
        return plain.get_warehouse(settings())
    # The provider builds the SQLAlchemy URL (psycopg 3 for postgres); etl renders it
    # with the password hidden whenever it is logged.
    engine = hook.get_sqlalchemy_engine()
    url = engine.url.render_as_string(hide_password=False)
    try:
        check_url(url)
    except WarehouseConfigError as exc:
        raise AirflowFailException(f"connection {CONN_ID!r}: {exc}") from None
    return Warehouse(url, engine=engine)


def _configured_sources() -> list[str] | None:
    """The sources file's names, for the suspended-source alarm; None (every suspended
    source alarms) when the file cannot be read: news_ingest reports that itself."""
    from news_settings import sources

    try:
        return [s.name for s in sources().sources]
    except Exception as exc:  # a broken file must not hide the alarm
        print(f"sources file not read ({exc}): every suspended source is reported")
        return None


def _triggering_run_ids() -> list[str]:
    """The news_ingest runs whose Asset events started this run (none when run by hand)."""
    events = get_current_context().get("triggering_asset_events", {}).get(ARTICLES, [])
    return [e.extra["run_id"] for e in events if (e.extra or {}).get("run_id")]


@dag(
    dag_id="news_analytics",
    schedule=[ARTICLES],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["news", "analytics"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=retry_delay_s())},
    params={
        "reject_threshold": Param(
            settings().reject_threshold, type="number", minimum=0, maximum=1,
            description="Fail when a source's latest run rejected more than this share."),
        "min_items": Param(
            settings().reject_min_items, type="integer", minimum=1,
            description="Only judge runs that processed at least this many items."),
        "window_hours": Param(
            settings().reject_window_hours, type="integer", minimum=1,
            description="Only judge runs started within this many hours."),
    },
    doc_md=__doc__,
)
def news_analytics():
    @task
    def refresh_summaries() -> dict:
        """Rebuild mv_daily_articles and mv_source_health from their views."""
        from etl import analytics

        for event in get_current_context().get("triggering_asset_events", {}).get(ARTICLES, []):
            print(f"triggered by {event.extra}")
        warehouse = _warehouse()
        try:
            return analytics.refresh_summaries(warehouse)
        finally:
            warehouse.dispose()

    @task
    def check_reject_rates(params: dict | None = None) -> int:
        """Raise (no retry: the data would not change) if any source's reject rate jumped."""
        from airflow.sdk.exceptions import AirflowFailException

        from etl import analytics

        params = params or {}
        warehouse = _warehouse()
        try:
            alerts = analytics.check_reject_rates(
                warehouse, threshold=float(params.get("reject_threshold", 0.5)),
                window=timedelta(hours=int(params.get("window_hours", 168))),
                min_items=int(params.get("min_items", 20)))
        finally:
            warehouse.dispose()
        if alerts:
            raise AirflowFailException(
                "reject rate above threshold (layout change?):\n"
                + "\n".join(f"  - {a}" for a in alerts))
        print("reject rates within threshold for every source")
        return 0

    @task
    def check_source_failures(params: dict | None = None) -> int:
        """Raise (no retry) if a source of the triggering ingest run(s) failed as a whole or
        failed every item (run by hand, each source's latest run in the window is judged),
        or if a source of the sources file is suspended."""
        from airflow.sdk.exceptions import AirflowFailException

        from etl import analytics

        run_ids = _triggering_run_ids()
        names = _configured_sources()
        warehouse = _warehouse()
        try:
            failed = analytics.check_source_failures(
                warehouse, run_ids=run_ids,
                window=timedelta(hours=int((params or {}).get("window_hours", 168))))
            suspended = analytics.check_suspended_sources(warehouse, names)
        finally:
            warehouse.dispose()
        problems = []
        if failed:
            problems.append("source(s) failed:\n" + "\n".join(f"  - {a}" for a in failed))
        if suspended:
            problems.append("source(s) suspended, probed daily until they answer:\n"
                            + "\n".join(f"  - {a}" for a in suspended))
        if problems:
            raise AirflowFailException("\n".join(problems))
        print(f"no failed source in {', '.join(run_ids) or 'the latest runs'}, "
              "no suspended source")
        return 0

    refresh_summaries() >> [check_reject_rates(), check_source_failures()]


news_analytics()
