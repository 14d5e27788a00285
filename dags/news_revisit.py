"""news_revisit: stored articles fetched again on their decaying schedule; changes stored as
versions (docs/revisits.md).

Hourly. Each run revisits what is due (etl.revisit: 1 h, 6 h, 24 h, 3 d, 7 d after the first
store by default; `revisit:` per source). Sources are revisited in batches, one mapped task
per batch (never one task per article or feed); each source with something due gets its
`ingest_runs` record like any run, under the run id `revisit__<Airflow run id>`. A manual
run may name sources and ask for every stored article (`all`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import CronTriggerTimetable, Param, dag, get_current_context, task
from news_settings import retry_delay_s

SOURCES_PER_TASK = 25


@dag(
    dag_id="news_revisit",
    schedule=CronTriggerTimetable("@hourly", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    tags=["news", "revisit"],
    default_args={"retries": 2, "retry_delay": timedelta(seconds=retry_delay_s())},
    params={
        "sources": Param([], type="array", items={"type": "string"},
                         description="Source names from sources.yml; empty = all sources."),
        "all": Param(False, type="boolean",
                     description="Revisit every stored article of those sources now, due "
                                 "or not."),
    },
    doc_md=__doc__,
)
def news_revisit():
    @task
    def plan_batches(params: dict | None = None) -> list[list[str]]:
        """The sources that have revisits, in batches of SOURCES_PER_TASK."""
        from news_settings import sources

        from etl.revisit import revisitable

        chosen = sources().select((params or {}).get("sources") or None)
        names = [s.name for s in chosen if revisitable(s)]
        return [names[i:i + SOURCES_PER_TASK] for i in range(0, len(names),
                                                              SOURCES_PER_TASK)]

    @task
    def revisit_batch(names: list[str], params: dict | None = None) -> dict:
        """Revisit one batch of sources (etl.revisit.revisit)."""
        from news_settings import run_options, settings, sources
        from warehouse_hook import WarehouseHook

        from etl.revisit import revisit

        # Prefixed: news_ingest's run of the same hour has the same Airflow run id, and
        # ingest_runs is keyed (run_id, source).
        run_id = f"revisit__{get_current_context()['run_id']}"
        summary = revisit(WarehouseHook().get_warehouse(settings()), sources().select(names),
                          everything=bool((params or {}).get("all")), run_id=run_id,
                          options=run_options())
        print(f"revisited {names}: {summary.totals()}")
        return summary.as_dict()

    @task
    def check_sources(summaries: list[dict]) -> None:
        """Fail the run (and so alert) when a source failed as a whole or every revisit
        of a source failed; the other sources' versions are stored first."""
        from airflow.sdk.exceptions import AirflowFailException

        from etl.analytics import failed_sources

        failed = failed_sources([s for summary in summaries for s in summary["sources"]])
        if failed:
            raise AirflowFailException(
                f"{len(failed)} source(s) failed their revisits:\n"
                + "\n".join(f"  - {r['source']}: {r['status']}: {r['error']}" for r in failed))

    check_sources(revisit_batch.expand(names=plan_batches()))


news_revisit()
