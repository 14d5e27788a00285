"""Scheduled runs lose no late feed entry: every entry not seen yet is taken, up to the
source's max_age_days; older entries, and entries outside an interval a run asked for
(backfills, `only_interval`), are accounted for with their reason. Against a feed served
on 127.0.0.1 whose entries change between runs, on SQLite and PostgreSQL, through the CLI
path (`ingest`) and the Airflow staged path (`stage_*`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from support import dated_feed
from support.dated_feed import STORIES
from support.local_sources import local_sources

from etl.config import ConfigError, load_sources
from etl.pipeline import (
    RunOptions,
    ingest,
    requested_interval,
    stage_discover,
    stage_fetch_extract,
    stage_load,
    stage_validate,
)
from etl.records import OUTCOME_COLUMNS as COLUMNS_BY_OUTCOME
from etl.warehouse.schema import articles, ingest_runs

OUTCOME_COLUMNS = tuple(COLUMNS_BY_OUTCOME.values())  # ingest_runs outcome columns


class Feed(dated_feed.Feed):
    """The feed at /feed.xml, and every story's page."""

    def __init__(self, server: HTTPServer) -> None:
        super().__init__(server)
        dated_feed.serve_stories(server)


def sources_file(tmp_path: Path, server: HTTPServer, extra: str = "") -> Path:
    return local_sources(tmp_path, name="late-news", kind="feed",
                         location=server.url_for("/feed.xml"),
                         fields=f", language: en, min_words: 20{extra}", timeout_s=5)


def run_record(warehouse, run_id: str) -> dict:
    with warehouse.engine.connect() as conn:
        [run] = [dict(r) for r in conn.execute(
            select(ingest_runs).where(ingest_runs.c.run_id == run_id)).mappings()]
    assert run["discovered"] == sum(run[c] for c in OUTCOME_COLUMNS), run
    return run


def left_out(run: dict) -> dict[str, int]:
    """Reasons of the entries the date window left out, from the run's stage stats."""
    [discover] = [s for s in run["stage_stats"] if s["stage"] == "discover"]
    return discover["dropped"]


def loaded_titles(warehouse) -> set[str]:
    with warehouse.engine.connect() as conn:
        return set(conn.execute(select(articles.c.title)).scalars())


@pytest.fixture
def hours() -> list[datetime]:
    """Hourly interval starts: hours[k] .. hours[k + 1] is interval k, the last ending at
    the current hour."""
    top = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return [top - timedelta(hours=6 - k) for k in range(7)]


def quiet(**knobs) -> RunOptions:
    """Inline extraction, no Data Docs: nothing here reads them (the validation results
    stay in the warehouse), and building them is most of a small run's CPU."""
    return RunOptions(workers=1, data_docs=False, **knobs)


def scheduled(hours: list[datetime], k: int, archive: str) -> RunOptions:
    """The options news_ingest gives the scheduled run of interval k."""
    since, until = requested_interval("scheduled", False, hours[k], hours[k + 1])
    return quiet(since=since, until=until, archive_root=archive)


def test_scheduled_runs_load_late_entries_and_account_for_old_ones(server, warehouse,
                                                                   tmp_path, monkeypatch,
                                                                   hours):
    archive = str(tmp_path / "archive")
    hour = hours
    feed = Feed(server)
    sources = load_sources(sources_file(tmp_path, server))

    # Interval 1: the feed shows one entry of that hour.
    feed.entries = [("ferry", hour[1] + timedelta(minutes=10))]
    ingest(sources, warehouse, run_id="hour-1", options=scheduled(hour, 1, archive))
    assert run_record(warehouse, "hour-1")["loaded"] == 1

    # Interval 2: an entry dated in interval 1 shows up one interval late.
    feed.entries.insert(0, ("bakery", hour[1] + timedelta(minutes=40)))
    ingest(sources, warehouse, run_id="hour-2", options=scheduled(hour, 2, archive))
    run = run_record(warehouse, "hour-2")
    assert (run["discovered"], run["loaded"], run["not_modified"]) == (2, 1, 1)

    # The scheduler misses intervals 3 and 4; meanwhile an entry dated in interval 2
    # appears, next to one older than max_age_days (30).
    feed.entries[:0] = [("bridge", hour[2] + timedelta(minutes=5)),
                        ("archive", hour[2] - timedelta(days=40))]
    ingest(sources, warehouse, run_id="hour-5", options=scheduled(hour, 5, archive))
    run = run_record(warehouse, "hour-5")
    assert (run["discovered"], run["loaded"], run["not_modified"]) == (4, 1, 3)
    assert left_out(run) == {"older_than_max_age": 1}
    assert loaded_titles(warehouse) == {STORIES[s][0] for s in ("ferry", "bakery", "bridge")}
    assert not [r for r, _ in server.log if r.path == "/news/archive"]  # never fetched


def test_max_age_days_is_per_source(server, warehouse, tmp_path):
    archive = str(tmp_path / "archive")
    feed = Feed(server)
    now = datetime.now(UTC)
    feed.entries = [("ferry", now - timedelta(days=50)), ("bakery", now - timedelta(days=3)),
                    ("orchard", None)]
    sources = load_sources(sources_file(tmp_path, server, ", max_age_days: 60"))
    ingest(sources, warehouse, run_id="wide", options=quiet(archive_root=archive))
    assert run_record(warehouse, "wide")["loaded"] == 3  # undated entries are always taken

    feed.entries.append(("bridge", now - timedelta(days=3)))
    narrow = load_sources(sources_file(tmp_path, server, ", max_age_days: 2"))
    ingest(narrow, warehouse, run_id="narrow", options=quiet(archive_root=archive))
    run = run_record(warehouse, "narrow")
    assert (run["discovered"], run["loaded"], run["not_modified"]) == (4, 0, 4)
    assert left_out(run) == {"older_than_max_age": 3}  # new or not, over 2 days is too old


# (run_type, only_interval) of the runs that ask for their data interval.
ASKING_FOR_THE_INTERVAL = [("backfill", False), ("scheduled", True), ("manual", True)]


def test_runs_that_ask_for_the_interval_keep_to_it_and_account(server, warehouse, tmp_path,
                                                              hours):
    """Every kind of run that asks for its interval asks for the same (since, until): one
    run per interval stands for them all (the same options give the same run)."""
    archive = str(tmp_path / "archive")
    feed = Feed(server)
    # Interval 1 of a backfill: one entry inside, one before, one after, one undated, and
    # one far older than max_age_days (a backfill asks for its interval, whatever its age).
    feed.entries = [("ferry", hours[1] + timedelta(minutes=1)),
                    ("bakery", hours[1] - timedelta(seconds=1)),
                    ("bridge", hours[2]),  # the interval's end is exclusive
                    ("orchard", None)]
    asked = {requested_interval(run_type, only_interval, hours[1], hours[2])
             for run_type, only_interval in ASKING_FOR_THE_INTERVAL}
    assert asked == {(hours[1], hours[2])}
    [(since, until)] = asked
    sources = load_sources(sources_file(tmp_path, server))
    ingest(sources, warehouse, run_id="backfill-1",
           options=quiet(since=since, until=until, archive_root=archive))
    run = run_record(warehouse, "backfill-1")
    assert (run["discovered"], run["loaded"], run["not_modified"]) == (4, 2, 2)
    assert left_out(run) == {"outside_interval": 2}
    assert loaded_titles(warehouse) == {STORIES["ferry"][0], STORIES["orchard"][0]}

    old = hours[1] - timedelta(days=90)
    feed.entries = [("archive", old + timedelta(minutes=30))]
    asked = {requested_interval(run_type, only_interval, old, old + timedelta(hours=1))
             for run_type, only_interval in ASKING_FOR_THE_INTERVAL}
    assert asked == {(old, old + timedelta(hours=1))}
    [(since, until)] = asked
    ingest(sources, warehouse, run_id="backfill-old",
           options=quiet(since=since, until=until, archive_root=archive))
    assert run_record(warehouse, "backfill-old")["loaded"] == 1


def test_only_backfills_and_only_interval_keep_to_the_interval(hours) -> None:
    start, end = hours[0], hours[1]
    for run_type in ("scheduled", "manual", "asset_triggered", None):
        assert requested_interval(run_type, False, start, end) == (None, None)
    assert requested_interval("backfill", False, start, end) == (start, end)
    assert requested_interval("manual", True, start, end) == (start, end)
    # A run without a data interval has none to keep to.
    assert requested_interval("backfill", True, None, None) == (None, None)
    assert requested_interval("manual", True, end, end) == (None, None)


def test_staged_path_accounts_for_left_out_entries(server, warehouse, tmp_path,
                                                   hours):
    """Airflow: discover records the entries it leaves out; load counts them, and a retried
    discover task records them once."""
    archive = str(tmp_path / "archive")
    feed = Feed(server)
    feed.entries = [("ferry", hours[0]), ("bakery", hours[0] - timedelta(days=45)),
                    ("bridge", None)]
    source = load_sources(sources_file(tmp_path, server)).sources[0]
    root = tmp_path / "staging"
    options = scheduled(hours, 5, archive)
    for _attempt in range(2):  # a retried discover task starts over
        chunks = stage_discover(source, "staged-1", root, options)
    for chunk in chunks:
        stage_validate(stage_fetch_extract(chunk, source, "staged-1", options, warehouse),
                       {source.name: source.min_words})
    [report] = stage_load("staged-1", root, [source.name], warehouse,
                          options=options).reports
    assert report.balanced and report.discovered == 3
    run = run_record(warehouse, "staged-1")
    assert (run["loaded"], run["not_modified"]) == (2, 1)
    assert left_out(run) == {"older_than_max_age": 1}


@pytest.mark.parametrize("value", [0, -3, "soon", 2.5, True])
def test_max_age_days_must_be_a_positive_whole_number(tmp_path, value) -> None:
    path = tmp_path / "sources.yml"
    path.write_text("sources:\n- {name: f1, kind: feed, location: 'http://example.org/rss', "
                    f"max_age_days: {value!r}}}\n".replace("'soon'", "soon")
                    .replace("True", "true"))
    with pytest.raises(ConfigError, match=r"source 'f1': field 'max_age_days'"):
        load_sources(path)


def test_max_age_days_defaults_to_30(tmp_path) -> None:
    path = tmp_path / "sources.yml"
    path.write_text("sources:\n- {name: f1, kind: feed, location: 'http://example.org/rss'}\n")
    assert load_sources(path).sources[0].max_age_days == 30
