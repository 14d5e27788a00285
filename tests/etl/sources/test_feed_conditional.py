"""Conditional GET for feed documents, on SQLite and PostgreSQL.

A local feed answers 304 to a request presenting its ETag or Last-Modified. After a run
that read the feed and accounted for every entry, the next run sends both validators,
gets 304 and parses nothing: the feed is one item, not_modified with reason
`feed_not_modified` (discover stage), and the run's counts add up. A feed that changed is
read again; a feed without validators is read every time; a run that left an entry
failed has its feed read in full next time (so that the entry is retried)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from support.dated_feed import STORIES
from support.local_site import feed, page
from support.local_sources import local_sources
from werkzeug import Request, Response

import etl.sources.feeds as feeds_module
from etl.config import load_sources
from etl.pipeline import RunOptions, ingest
from etl.records import OUTCOME_COLUMNS
from etl.warehouse.schema import articles, ingest_runs

LAST_MODIFIED = "Tue, 01 Dec 2026 06:00:00 GMT"


class ConditionalFeed:
    """One RSS feed listing `slugs` (story pages behind it). With `validators`, it sends
    an ETag (of its bytes) and Last-Modified and answers 304 when either comes back.
    `requests` logs (If-None-Match, If-Modified-Since, status) of every feed request."""

    def __init__(self, server: HTTPServer, slugs: list[str], validators: bool = True) -> None:
        self.base = server.url_for("").rstrip("/")
        self.slugs = slugs
        self.validators = validators
        self.requests: list[tuple[str | None, str | None, int]] = []
        self._bodies: dict[tuple[str, ...], str] = {}  # one body per list (feed() dates now)
        server.expect_request("/feed.xml").respond_with_handler(self._respond)
        for slug, (headline, text) in STORIES.items():
            server.expect_request(f"/news/{slug}").respond_with_data(
                page(headline, [text, text.upper()]), content_type="text/html")

    def _respond(self, request: Request) -> Response:
        body = self._bodies.setdefault(tuple(self.slugs), feed(self.base, self.slugs))
        etag = f'"{hashlib.sha256(body.encode()).hexdigest()[:16]}"'
        sent = (request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since"))
        headers = {"ETag": etag, "Last-Modified": LAST_MODIFIED} if self.validators else {}
        # RFC 9110 13.2.2: If-None-Match, when sent, decides; If-Modified-Since only without.
        if self.validators and (sent[0] == etag if sent[0] else sent[1] == LAST_MODIFIED):
            self.requests.append((*sent, 304))
            return Response(status=304, headers=headers)
        self.requests.append((*sent, 200))
        return Response(body, content_type="application/rss+xml", headers=headers)


@pytest.fixture
def sources_path(server: HTTPServer, tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("NEWS_ETL_ARCHIVE_ROOT", str(tmp_path / "archive"))
    return local_sources(tmp_path, name="wire", kind="feed",
                         location=server.url_for("/feed.xml"),
                         fields=", language: en, min_words: 20", timeout_s=10)


@pytest.fixture
def parses(monkeypatch) -> list[str]:
    """Every feed document handed to the feed parser (by base URL)."""
    seen: list[str] = []
    real = feeds_module.parse_xml_feed

    def counting(body: bytes, base_url: str):
        seen.append(base_url)
        return real(body, base_url)

    monkeypatch.setattr(feeds_module, "parse_xml_feed", counting)
    return seen


def run(warehouse, sources_path: Path, run_id: str) -> tuple[tuple[int, ...], dict]:
    """Ingest once; (discovered, loaded, duplicates, rejected, failed, not_modified) from
    the run record (checked to add up) and the discover stage's drops by reason."""
    summary = ingest(load_sources(sources_path), warehouse, run_id=run_id,
                     options=RunOptions(workers=1, data_docs=False))
    [report] = summary.reports
    assert report.balanced
    with warehouse.engine.connect() as conn:
        [row] = conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == run_id)
                             ).mappings().all()
    columns = tuple(OUTCOME_COLUMNS.values())
    assert row["discovered"] == sum(row[c] for c in columns), dict(row)
    [discover] = [s for s in report.stage_stats if s["stage"] == "discover"]
    return (row["discovered"], *(row[c] for c in columns)), dict(discover["dropped"])


def stored(warehouse) -> set[str]:
    with warehouse.engine.connect() as conn:
        return {u.rsplit("/", 1)[1] for u in conn.execute(select(articles.c.url)).scalars()}


def test_unchanged_feed_answers_304_and_is_not_parsed(server, sources_path, warehouse,
                                                      parses):
    site = ConditionalFeed(server, ["ferry", "bakery", "bridge"])
    counts, dropped = run(warehouse, sources_path, "first")
    assert counts == (3, 3, 0, 0, 0, 0) and dropped == {}
    assert site.requests == [(None, None, 200)] and len(parses) == 1

    counts, dropped = run(warehouse, sources_path, "second")
    [(etag, since, status)] = site.requests[1:]
    assert etag and etag.startswith('"') and since == LAST_MODIFIED and status == 304
    assert len(parses) == 1  # nothing parsed
    # The feed itself is the one item of the run: not_modified, feed_not_modified.
    assert counts == (1, 0, 0, 0, 0, 1) and dropped == {"feed_not_modified": 1}
    assert len(server.log) == 1 + 3 + 1  # no story page requested again

    # A third run still earns the 304 (validators kept across a 304).
    counts, dropped = run(warehouse, sources_path, "third")
    assert site.requests[-1][2] == 304 and dropped == {"feed_not_modified": 1}


def test_changed_feed_is_read_again(server, sources_path, warehouse, parses):
    site = ConditionalFeed(server, ["ferry", "bakery"])
    run(warehouse, sources_path, "first")
    site.slugs = ["orchard", "ferry", "bakery"]  # a new entry: new bytes, new ETag
    counts, dropped = run(warehouse, sources_path, "second")
    assert site.requests[-1][0] is not None and site.requests[-1][2] == 200
    assert len(parses) == 2
    assert counts == (3, 1, 0, 0, 0, 2) and dropped == {}  # two already_loaded at fetch
    assert stored(warehouse) == {"ferry", "bakery", "orchard"}
    # The new read is what the next conditional request presents.
    counts, dropped = run(warehouse, sources_path, "third")
    assert site.requests[-1][2] == 304 and counts == (1, 0, 0, 0, 0, 1)


def test_feed_without_validators_is_read_every_time(server, sources_path, warehouse,
                                                   parses):
    site = ConditionalFeed(server, ["ferry", "bakery"], validators=False)
    run(warehouse, sources_path, "first")
    counts, dropped = run(warehouse, sources_path, "second")
    assert site.requests == [(None, None, 200), (None, None, 200)]
    assert len(parses) == 2  # only a 304 spares the parse
    assert counts == (2, 0, 0, 0, 0, 2) and dropped == {}  # entries already_loaded


def test_feed_of_a_run_that_left_an_entry_failed_is_read_in_full(server, sources_path,
                                                                 warehouse, parses):
    site = ConditionalFeed(server, ["ferry", "missing"])  # /news/missing answers 500
    server.expect_request("/news/missing").respond_with_data("down", status=500)
    counts, _ = run(warehouse, sources_path, "first")
    assert counts == (2, 1, 0, 0, 1, 0)
    counts, dropped = run(warehouse, sources_path, "second")
    # No validators sent: the failed entry must be seen again (here: in its backoff).
    assert site.requests[-1] == (None, None, 200) and len(parses) == 2
    assert dropped == {} and counts[0] == 2


@pytest.mark.parametrize("partial", [{"max_items": 1}, {"since": "interval"}],
                         ids=["max-items", "interval"])
def test_a_run_that_takes_part_of_the_feed_is_not_conditional(server, sources_path,
                                                               warehouse, parses, partial):
    from datetime import UTC, datetime, timedelta

    site = ConditionalFeed(server, ["ferry", "bakery"])
    options = ({"max_items": 1} if "max_items" in partial else
               {"since": datetime.now(UTC) - timedelta(hours=1)})  # entries are a day old
    summary = ingest(load_sources(sources_path), warehouse, run_id="partial",
                     options=RunOptions(workers=1, data_docs=False, **options))
    assert summary.reports[0].balanced and stored(warehouse) == (
        {"ferry"} if "max_items" in partial else set())
    # The partial read vouches for nothing: the next run reads the feed in full.
    counts, dropped = run(warehouse, sources_path, "full")
    assert site.requests == [(None, None, 200), (None, None, 200)] and len(parses) == 2
    assert stored(warehouse) == {"ferry", "bakery"} and dropped == {}
    # Now the full read stands: a 304.
    counts, dropped = run(warehouse, sources_path, "next")
    assert site.requests[-1][2] == 304 and dropped == {"feed_not_modified": 1}
    assert counts == (1, 0, 0, 0, 0, 1)


def test_feed_read_by_a_run_that_did_not_finish_well_is_read_in_full(
        server, sources_path, warehouse, parses):
    from sqlalchemy import update

    site = ConditionalFeed(server, ["ferry", "bakery"])
    run(warehouse, sources_path, "first")
    # As if the run that last read the feed had crashed after discovery (still `running`)
    # or failed as a whole: its read vouches for nothing. One set-up serves both: each run
    # below reads the feed in full again, then is marked in its turn.
    for last, status, run_id in (("first", "running", "second"),
                                 ("second", "source_failed", "third")):
        with warehouse.begin() as conn:
            conn.execute(update(ingest_runs).where(ingest_runs.c.run_id == last)
                         .values(status=status))
        reads = len(parses)
        counts, dropped = run(warehouse, sources_path, run_id)
        assert site.requests[-1] == (None, None, 200) and len(parses) == reads + 1, status
        assert counts == (2, 0, 0, 0, 0, 2) and dropped == {}  # entries already_loaded


def staged_run(warehouse, sources_path: Path, run_id: str) -> tuple[int, ...]:
    """What news_ingest's tasks do, in process: discover (with the warehouse, as the DAG's
    discover task gives it), fetch and extract, validate and load each chunk; the counts."""
    from etl.pipeline import stage_fetch_extract, stage_load, stage_validate
    from etl.pipeline.batches import discover_batch
    from etl.pipeline.staging import staged_chunks

    sources = load_sources(sources_path)
    root, options = sources_path.parent / "staging", RunOptions(workers=1, data_docs=False)
    discover_batch(sources.select(["wire"]), run_id, root, options, warehouse=warehouse)
    for chunk in staged_chunks(run_id, root, ["wire"]):
        stage_fetch_extract(chunk, sources.select(["wire"])[0], run_id, options,
                            warehouse=warehouse)
        stage_validate(chunk)
    stage_load(run_id, root, ["wire"], warehouse, options=options)
    with warehouse.engine.connect() as conn:
        [row] = conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == run_id)
                             ).mappings().all()
    return (row["discovered"], *(row[c] for c in OUTCOME_COLUMNS.values()))


def test_the_airflow_tasks_read_an_unchanged_feed_conditionally(server, sources_path,
                                                                warehouse, parses):
    site = ConditionalFeed(server, ["ferry", "bakery", "bridge"])
    assert staged_run(warehouse, sources_path, "scheduled-1") == (3, 3, 0, 0, 0, 0)
    assert staged_run(warehouse, sources_path, "scheduled-2") == (1, 0, 0, 0, 0, 1)
    assert [status for *_, status in site.requests] == [200, 304] and len(parses) == 1
