"""news_reextract: re-run extract → validate → dedup → load from the raw-page archive.

Manual only. After an upgrade of trafilatura or of the metadata/validation rules, apply
it to history without fetching: pick a source and a range of fetch days.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Param, dag, get_current_context, task


@dag(
    dag_id="news_reextract",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["news", "maintenance"],
    default_args={"retries": 1, "retry_delay": timedelta(minutes=1)},
    params={
        "source": Param("", type="string", minLength=1,
                        description="Source name from sources.yml."),
        "date_from": Param(None, type=["null", "string"], format="date",
                           description="First fetch day (YYYY-MM-DD); empty = all."),
        "date_to": Param(None, type=["null", "string"], format="date",
                         description="Last fetch day (YYYY-MM-DD); empty = all."),
    },
    doc_md=__doc__,
)
def news_reextract():
    @task
    def reextract_source(params: dict | None = None) -> dict:
        """Re-extract the archived pages of one source and update the warehouse."""
        from news_settings import run_options, settings, sources
        from warehouse_hook import WarehouseHook

        from etl.pipeline import reextract

        params = params or {}
        source = sources().select([params["source"]])[0]

        def day(value):
            return datetime.fromisoformat(value) if value else None

        # Archive root, rules and workers (NEWS_ETL_TASK_WORKERS) from the settings.
        options = run_options()
        summary = reextract(WarehouseHook().get_warehouse(settings()), source,
                            since=day(params.get("date_from")), until=day(params.get("date_to")),
                            run_id=get_current_context()["run_id"], options=options)
        print(f"re-extracted {source.name}: {summary.totals()}")
        return summary.totals()

    reextract_source()


news_reextract()
