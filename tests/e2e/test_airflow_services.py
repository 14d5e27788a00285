"""news_ingest → Asset → news_analytics through a real Airflow deployment on 127.0.0.1.

The test starts the api-server, scheduler, dag-processor, triggerer and two Celery workers
(Redis broker, PostgreSQL result backend, metadata DB on PostgreSQL), drives everything
through the REST API (token, pool, unpause, trigger, poll) and checks the warehouse, the
Asset event and the downstream run. Both workers must run mapped tasks — what scaling out
to several hosts relies on. The sources are the seeds plus four one-article sources
(6 mapped extract tasks), and the run must load exactly the articles the CLI path loads
from them. The LocalExecutor deployment is exercised by tests/e2e/test_rest_flow.py (the
documented REST flow, on the same AirflowServices); the Asset chain does not depend on the
executor, so it is checked here once.

Run just these (PostgreSQL and Redis up: `bash .ci/services.sh`), no make needed:
    .venv/bin/pytest tests/e2e/test_airflow_services.py -v     (a few minutes on 2 cores)
    .venv/bin/pytest tests/e2e -m slow -v                      (every end-to-end test)
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from etl.records import OUTCOME_COLUMNS
from etl.warehouse.schema import article_failures, articles, ingest_runs

from ..conftest import PG_ADMIN_URL
from .services import (
    AirflowServices,
    Executor,
    create_database,
    drop_database,
    iter_mapped,
    shared_metadata_template,
    write_sources_file,
)

# The timeout is a backstop only: every wait below has its own, shorter limit, and the
# services are stopped on the way out either way.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

RUN_TIMEOUT_S = 300.0
MAPPED_TASKS = {"extract"}


@dataclass
class Sources:
    file: Path
    expected: dict[str, int]  # articles loaded per source


@dataclass
class ScenarioResult:
    run_id: str
    articles: list[tuple[str, str, str, str]]  # (url, source, title, text_sha256), sorted
    mapped_hosts: dict[tuple[str, int], str]  # (task_id, map_index) → TI hostname
    timings: dict[str, float] = field(default_factory=dict)


@pytest.fixture(scope="session")
def metadata_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An Airflow metadata database migrated once per machine (shared by the xdist workers
    and kept); every variant starts from a copy."""
    return shared_metadata_template(PG_ADMIN_URL, tmp_path_factory.mktemp("af_migrate"))


@pytest.fixture(scope="session")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Sources:
    return Sources(*write_sources_file(tmp_path_factory.mktemp("sources")))


@pytest.fixture
def metadata_db(metadata_template: str) -> Iterator[str]:
    name = f"news_etl_af_{uuid.uuid4().hex[:12]}"
    create_database(PG_ADMIN_URL, name, template=metadata_template)
    yield name
    drop_database(PG_ADMIN_URL, name)  # WITH (FORCE): after the services have stopped anyway


@pytest.fixture(scope="session")
def cli_articles(sources: Sources, tmp_path_factory: pytest.TempPathFactory
                 ) -> list[tuple[str, str, str, str]]:
    """What the CLI path (etl.pipeline.ingest, in process) loads from the same sources:
    the reference both executors must match, row for row."""
    from etl.config import load_sources
    from etl.pipeline import RunOptions, ingest
    from etl.warehouse import Warehouse

    folder = tmp_path_factory.mktemp("cli_reference")
    wh = Warehouse(f"sqlite:///{folder / 'warehouse.db'}")
    options = RunOptions(workers=1, archive_root=str(folder / "archive"), data_docs=False)
    ingest(load_sources(sources.file), wh, names=list(sources.expected), options=options)
    with wh.engine.connect() as conn:
        rows = conn.execute(select(articles.c.url, articles.c.source, articles.c.title,
                                   articles.c.text_sha256).order_by(articles.c.url)).all()
    wh.dispose()
    return sorted(tuple(r) for r in rows)  # in Python: the two databases collate apart


def run_ingest_scenario(af: AirflowServices, sources: Sources,
                        warehouse_url: str) -> ScenarioResult:
    """Trigger news_ingest over the REST API and check everything it should cause."""
    timings: dict[str, float] = {}
    start = time.monotonic()
    af.set_pool("news_fetch", 8, "Bounds concurrent fetch tasks across all runs")
    af.wait_for_dags(["news_ingest", "news_analytics"])
    timings["dags_parsed"] = time.monotonic() - start

    # Trigger while news_ingest is still paused, then wait until the dag-processor has
    # recorded that the DAG is at max_active_runs=1 (it does when it parses the file: asked
    # to at once). Otherwise unpausing makes the scheduler create the hourly run at once
    # (catchup=False still runs the latest interval), which would start first and leave our
    # run nothing to load.
    run_id = af.trigger("news_ingest", {"sources": list(sources.expected)})
    af.reparse("news_ingest")
    af.wait_until(lambda: af.metadata_scalar(
        "SELECT exceeds_max_non_backfill FROM dag WHERE dag_id = 'news_ingest'"),
        120, "the dag-processor to count the queued run against max_active_runs")
    af.unpause("news_analytics")
    af.unpause("news_ingest")
    timings["unpaused"] = time.monotonic() - start
    run = af.wait_for_run("news_ingest", run_id, RUN_TIMEOUT_S)
    timings["ingest_done"] = time.monotonic() - start
    # Pause again: the scheduler now creates the hourly run, whose tasks would only
    # compete with news_analytics for the two cores (and slow the shutdown down).
    af.pause("news_ingest")
    assert run["run_type"] == "manual" and run["conf"]["sources"] == list(sources.expected)

    tis = af.task_instances("news_ingest", run_id)
    assert {t["state"] for t in tis} == {"success"}, tis
    mapped = {(t["task_id"], t["map_index"]): t["hostname"] for t in iter_mapped(tis, MAPPED_TASKS)}
    assert sorted(k for k in mapped if k[0] == "extract") == [
        ("extract", i) for i in range(len(sources.expected))]
    assert len(mapped) == len(sources.expected)

    # The warehouse: every source's articles, and each source's run record adds up.
    total = sum(sources.expected.values())
    engine = create_engine(warehouse_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(articles.c.url, articles.c.source, articles.c.title,
                                       articles.c.text_sha256).order_by(articles.c.url)).all()
            runs = conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == run_id)
                                ).mappings().all()
            failures = conn.execute(select(article_failures.c.source, article_failures.c.reason,
                                           article_failures.c.detail).limit(10)).all()
    finally:
        engine.dispose()
    loaded = {name: sum(1 for r in rows if r.source == name) for name in sources.expected}
    assert loaded == sources.expected, f"items that failed: {failures}"
    assert {r["source"]: r["loaded"] for r in runs} == sources.expected
    for r in runs:
        assert r["status"] == "success", dict(r)
        assert r["discovered"] == sum(r[col] for col in OUTCOME_COLUMNS.values()), dict(r)

    # The load task published the Asset; the event triggered a news_analytics run.
    events = af.api("GET", "/api/v2/assets/events", params={
        "source_dag_id": "news_ingest", "source_run_id": run_id}).json()["asset_events"]
    assert len(events) == 1, events
    event = events[0]
    assert event["name"] == "news_articles" and event["source_task_id"] == "load"
    assert event["extra"]["run_id"] == run_id and event["extra"]["loaded"] == total

    def analytics_run() -> dict[str, Any] | None:
        # The run our event created is listed in the event's created_dagruns.
        current = next(e for e in af.api("GET", "/api/v2/assets/events", params={
            "source_run_id": run_id}).json()["asset_events"] if e["id"] == event["id"])
        created = [r for r in current["created_dagruns"] if r["dag_id"] == "news_analytics"]
        return created[0] if created else None

    created = af.wait_until(analytics_run, 120, "news_analytics to be triggered by the Asset")
    downstream = af.wait_for_run("news_analytics", created["run_id"], RUN_TIMEOUT_S)
    timings["analytics_done"] = time.monotonic() - start
    assert downstream["run_type"] == "asset_triggered"
    assert _ts(downstream["queued_at"]) >= _ts(event["timestamp"])
    listed = {r["dag_run_id"]: r for r in af.dag_runs("news_analytics")}
    assert listed[created["run_id"]]["state"] == "success"
    upstream = af.api("GET", f"/api/v2/dags/news_analytics/dagRuns/{created['run_id']}"
                      "/upstreamAssetEvents").json()["asset_events"]
    assert event["id"] in {e["id"] for e in upstream}
    return ScenarioResult(run_id, sorted(tuple(r) for r in rows), mapped, timings)


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _run(executor: Executor, tmp_path: Path, metadata_db: str, warehouse_url: str,
         sources: Sources) -> ScenarioResult:
    started = time.monotonic()
    with AirflowServices(executor=executor, home=tmp_path / "airflow_home",
                         admin_url=PG_ADMIN_URL, metadata_db=metadata_db,
                         warehouse_url=warehouse_url, sources_file=sources.file) as af:
        startup = time.monotonic() - started
        result = run_ingest_scenario(af, sources, warehouse_url)
        stopping = time.monotonic()
    result.timings = {"startup": startup, **result.timings,
                      "shutdown": time.monotonic() - stopping,
                      "overall": time.monotonic() - started}
    print(f"{executor} seconds: { {k: round(v) for k, v in result.timings.items()} }\n"
          f"mapped task hosts: {result.mapped_hosts}")
    return result


@pytest.mark.long(210)
def test_celery_executor_spreads_mapped_tasks_over_two_workers(
    tmp_path: Path, metadata_db: str, pg_database: str, sources: Sources,
    cli_articles: list[tuple[str, str, str, str]],
) -> None:
    result = _run("CeleryExecutor", tmp_path, metadata_db, pg_database, sources)
    hosts = set(result.mapped_hosts.values())
    assert len(hosts) == 2, result.mapped_hosts
    assert {h.split("@", 1)[0] for h in hosts} == {"w1", "w2"}
    assert result.articles == cli_articles
