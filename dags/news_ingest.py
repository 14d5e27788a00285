"""news_ingest: sources → fetch → extract → validate → dedup → load, on a schedule or on demand.

Tasks only wire etl functions together and pass references (source names, staging
folders) through XCom, never article data. Heavy libraries are imported inside tasks.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import Param, dag, get_current_context, task
from news_assets import ARTICLES

REPO_ROOT = Path(__file__).resolve().parent.parent
SOURCES_FILE = os.environ.get("NEWS_ETL_SOURCES_FILE", str(REPO_ROOT / "seeds" / "sources.yml"))


def _sources():
    from etl.config import load_sources

    return load_sources(SOURCES_FILE)


def _options(params: dict):
    from etl.pipeline import RunOptions

    context = get_current_context()
    since, until = context.get("data_interval_start"), context.get("data_interval_end")
    if params.get("ignore_interval") or not since or not until or since >= until:
        since = until = None  # manual runs have an empty interval: take every date
    # Inside Airflow, parallelism is Airflow's job (mapped tasks, worker slots): a process
    # pool per task would oversubscribe the cores. NEWS_ETL_TASK_WORKERS raises it.
    workers = int(os.environ.get("NEWS_ETL_TASK_WORKERS", "1"))
    return RunOptions(max_items=params.get("limit"), since=since, until=until, workers=workers)


@dag(
    dag_id="news_ingest",
    schedule="@hourly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["news", "ingest"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    params={
        "sources": Param([], type="array", items={"type": "string"},
                         description="Source names from sources.yml; empty = all sources."),
        "limit": Param(None, type=["null", "integer"], minimum=1,
                       description="At most this many items per source."),
        "ignore_interval": Param(False, type="boolean",
                                 description="Discover dated feed/sitemap items from any date."),
    },
    doc_md=__doc__,
)
def news_ingest():
    @task
    def plan_sources(params: dict | None = None) -> list[str]:
        """Which sources this run reads (validated against sources.yml)."""
        return [s.name for s in _sources().select(list((params or {}).get("sources") or []))]

    # The news_fetch pool bounds how many sources fetch at once across all runs.
    @task(map_index_template="{{ source_name }}", pool="news_fetch")
    def extract(source_name: str, params: dict | None = None) -> str:
        """Discover, fetch and extract one source into the staging folder."""
        from warehouse_hook import WarehouseHook

        from etl.pipeline import stage_extract, staging_root

        context = get_current_context()
        context["source_name"] = source_name  # type: ignore[typeddict-unknown-key]
        source = _sources().select([source_name])[0]
        run_id = context["run_id"]
        return stage_extract(source, run_id, staging_root(), _options(params or {}),
                             WarehouseHook().get_warehouse())

    @task
    def validate(folder: str) -> str:
        """Great Expectations suite on the source's batches; rejects are quarantined."""
        from etl.pipeline import stage_validate

        source_name = Path(folder).name
        source = _sources().select([source_name])[0]
        return stage_validate(folder, {source.name: source.min_words} if source.min_words
                              else None)

    @task(trigger_rule="all_done")
    def load(sources: list[str]) -> dict:
        """Dedup and load every source (also records sources whose extract failed)."""
        from warehouse_hook import WarehouseHook

        from etl.pipeline import stage_load, staging_root

        summary = stage_load(get_current_context()["run_id"], staging_root(), sources,
                             WarehouseHook().get_warehouse())
        return summary.as_dict()

    @task(outlets=[ARTICLES])
    def publish(summary: dict) -> dict:
        """Emit the articles Asset event with the run's counts for downstream DAGs."""
        get_current_context()["outlet_events"][ARTICLES].extra = {
            "run_id": summary["run_id"], **summary["totals"]}
        print(f"run {summary['run_id']}: {summary['totals']}")
        return summary["totals"]

    names = plan_sources()
    validated = validate.expand(folder=extract.expand(source_name=names))
    summary = load(names)
    validated >> summary
    publish(summary)


news_ingest()
