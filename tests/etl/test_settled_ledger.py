"""Nothing lost between fetch and load: a page whose fetch was recorded in the fetch ledger
but whose load never committed is fetched again, never answered from its validators.

The site answers 304 to any request that presents a page's ETag or Last-Modified, so a
ledger that trusted validators from a fetch whose outcome was never recorded would end the
page `not_modified` for good. Two ways to get there, on SQLite and PostgreSQL:
- the Airflow staged path: an extract chunk task fails after the ledger was written and
  Airflow retries it (same run id);
- the CLI path: the load transaction fails (a database trigger refuses the insert) after
  the ledger was written, and the run is retried with the same run id, or the next run
  comes.
Once a page's outcome is recorded, its validators serve the next run (a 304 positive
control), and every run's counts add up."""

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

from etl.config import load_sources
from etl.fetch.http import Fetcher
from etl.fetch.ledger import FetchLedger
from etl.fetch.stage import FetchStage
from etl.pipeline import (
    RunOptions,
    ingest,
    stage_discover,
    stage_fetch_extract,
    stage_load,
    stage_validate,
)
from etl.records import OUTCOME_COLUMNS as COLUMNS_BY_OUTCOME
from etl.records import Article, Dropped, Outcome
from etl.warehouse.load import write_batch
from etl.warehouse.schema import articles, fetch_ledger, ingest_runs

OUTCOME_COLUMNS = tuple(COLUMNS_BY_OUTCOME.values())  # ingest_runs outcome columns
# Data Docs are never read here (the validation results stay in the warehouse).
QUIET = RunOptions(workers=1, data_docs=False)
LAST_MODIFIED = "Mon, 30 Nov 2026 08:00:00 GMT"
# Three stories, and a copy of the first under another URL: it ends `duplicate`, so it is
# fetched again by later runs (only stored URLs are skipped) and shows the 304 path.
SLUGS = ("ferry", "bakery", "bridge", "ferry-copy")


class ConditionalSite:
    """Story pages with an ETag and Last-Modified that answer 304 to a request presenting
    either; `requests` logs (slug, sent validators, status) of every page request."""

    def __init__(self, server: HTTPServer) -> None:
        self.requests: list[tuple[str, bool, int]] = []
        for slug in SLUGS:
            headline, text = STORIES[slug.removesuffix("-copy")]
            html = page(headline, [text])
            etag = f'"{hashlib.sha256(f"{slug}{html}".encode()).hexdigest()[:16]}"'
            server.expect_request(f"/news/{slug}").respond_with_handler(
                lambda request, slug=slug, html=html, etag=etag:
                self._respond(request, slug, html, etag))

    def _respond(self, request: Request, slug: str, html: str, etag: str) -> Response:
        sent = {request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since")}
        validators = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        if sent & {etag, LAST_MODIFIED}:
            self.requests.append((slug, True, 304))
            return Response(status=304, headers=validators)
        self.requests.append((slug, bool(sent - {None}), 200))
        return Response(html, content_type="text/html", headers=validators)

    def since(self, start: int) -> list[tuple[str, bool, int]]:
        return sorted(self.requests[start:])


@pytest.fixture
def site(server: HTTPServer, tmp_path: Path, monkeypatch) -> tuple[ConditionalSite, Path]:
    """The pages, and a sources file whose one feed source lists them (dated yesterday)."""
    monkeypatch.setenv("NEWS_ETL_ARCHIVE_ROOT", str(tmp_path / "archive"))
    pages = ConditionalSite(server)
    server.expect_request("/feed.xml").respond_with_data(
        feed(server.url_for("").rstrip("/"), list(SLUGS)), content_type="application/rss+xml")
    path = local_sources(tmp_path, name="wire", kind="feed",
                         location=server.url_for("/feed.xml"),
                         fields=", language: en, min_words: 20", timeout_s=10)
    return pages, path


def run_counts(warehouse, run_id: str) -> tuple[int, ...]:
    """(discovered, loaded, duplicates, rejected, failed, not_modified); checks they add up."""
    with warehouse.engine.connect() as conn:
        [run] = conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == run_id)
                             ).mappings().all()
    assert run["discovered"] == sum(run[c] for c in OUTCOME_COLUMNS), dict(run)
    return (run["discovered"], *(run[c] for c in OUTCOME_COLUMNS))


def stored_slugs(warehouse) -> set[str]:
    with warehouse.engine.connect() as conn:
        return {u.rsplit("/", 1)[1] for u in conn.execute(select(articles.c.url)).scalars()}


def ledger_etags(warehouse) -> dict[str, str | None]:
    with warehouse.engine.connect() as conn:
        rows = conn.execute(select(fetch_ledger.c.url, fetch_ledger.c.etag)).all()
    return {url.rsplit("/", 1)[1]: etag for url, etag in rows}


# Every page loaded, the copy a duplicate of its original.
FIRST_RUN = (4, 3, 1, 0, 0, 0)
# The next run: stored pages are not requested (already_loaded), the copy's settled
# validators get a 304; all four not_modified.
NEXT_RUN = (4, 0, 0, 0, 0, 4)


def test_extract_task_retried_after_the_ledger_was_written_loads_every_page(
        site, warehouse, tmp_path):
    pages, sources_path = site
    [source] = load_sources(sources_path).sources
    root, run_id = tmp_path / "staging", "scheduled__crash"
    [chunk] = stage_discover(source, run_id, root)

    # The chunk task dies after fetching and writing the ledger, before it hands its
    # output on (its last write fails), as a killed or crashing worker would.
    (Path(chunk) / "extract.json").mkdir()
    with pytest.raises(OSError):
        stage_fetch_extract(chunk, source, run_id, QUIET, warehouse)
    assert all(ledger_etags(warehouse)[slug] for slug in SLUGS)  # the ledger was written
    (Path(chunk) / "extract.json").rmdir()

    # Airflow retries the task: the pages must be fetched again, not answered with 304.
    before = len(pages.requests)
    stage_fetch_extract(chunk, source, run_id, QUIET, warehouse)
    assert pages.since(before) == sorted((slug, False, 200) for slug in SLUGS)
    stage_validate(chunk, {source.name: source.min_words})
    summary = stage_load(run_id, root, [source.name], warehouse, options=QUIET)
    assert all(r.balanced for r in summary.reports)
    assert run_counts(warehouse, run_id) == FIRST_RUN
    assert stored_slugs(warehouse) == {"ferry", "bakery", "bridge"}

    # The load task retried: the same counts.
    stage_load(run_id, root, [source.name], warehouse, options=QUIET)
    assert run_counts(warehouse, run_id) == FIRST_RUN

    # A later run: the copy's validators are settled now and earn a 304.
    before = len(pages.requests)
    later = "scheduled__later"
    for chunk in stage_discover(source, later, root):
        stage_validate(stage_fetch_extract(chunk, source, later, QUIET,
                                           warehouse), {source.name: source.min_words})
    stage_load(later, root, [source.name], warehouse, options=QUIET)
    assert pages.since(before) == [("ferry-copy", True, 304)]
    assert run_counts(warehouse, later) == NEXT_RUN


CRASH_TRIGGER = {
    "sqlite": ["CREATE TRIGGER crash_load BEFORE INSERT ON articles "
               "BEGIN SELECT RAISE(ABORT, 'load crashed'); END"],
    "postgresql": [
        "CREATE FUNCTION crash_load() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'load crashed'; END $$",
        "CREATE TRIGGER crash_load BEFORE INSERT ON articles "
        "FOR EACH ROW EXECUTE FUNCTION crash_load()"],
}


@pytest.mark.parametrize("retry_id", ["cli-crash", "cli-next"],
                         ids=["same-run-id", "next-run"])
def test_cli_run_whose_load_failed_after_the_ledger_was_written_loads_on_retry(
        site, warehouse, retry_id):
    pages, sources_path = site
    sources = load_sources(sources_path)
    options = QUIET
    dialect = warehouse.engine.dialect.name
    with warehouse.begin() as conn:
        for statement in CRASH_TRIGGER[dialect]:
            conn.exec_driver_sql(statement)

    with pytest.raises(Exception, match="load crashed"):  # psycopg raw or wrapped
        ingest(sources, warehouse, run_id="cli-crash", options=options)
    assert stored_slugs(warehouse) == set()
    assert all(ledger_etags(warehouse)[slug] for slug in SLUGS)  # the ledger was written

    with warehouse.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER crash_load" + (" ON articles"
                                                          if dialect == "postgresql" else ""))
    # Run again: with the same run id (`--run-id`), or the next scheduled run.
    before = len(pages.requests)
    summary = ingest(sources, warehouse, run_id=retry_id, options=options)
    assert all(r.balanced for r in summary.reports)
    assert pages.since(before) == sorted((slug, False, 200) for slug in SLUGS)
    assert run_counts(warehouse, retry_id) == FIRST_RUN
    assert stored_slugs(warehouse) == {"ferry", "bakery", "bridge"}

    before = len(pages.requests)
    ingest(sources, warehouse, run_id="cli-later", options=options)
    assert pages.since(before) == [("ferry-copy", True, 304)]
    assert run_counts(warehouse, "cli-later") == NEXT_RUN


def test_forwarded_pages_have_their_ledger_rows_and_only_recorded_outcomes_settle_them(
        server, warehouse, settings):
    """The fetch stage writes a page's ledger row before it forwards the page (a load can
    only settle a row that exists); the load settles loaded, duplicate and rejected pages,
    not failed ones; the next run sends validators for settled rows only."""
    pages = ConditionalSite(server)
    urls = {slug: server.url_for(f"/news/{slug}") for slug in SLUGS}
    dropped: list[Dropped] = []
    fetcher = Fetcher(settings)
    try:
        stage = FetchStage(dropped.append, fetcher,
                           ledger=FetchLedger(warehouse, "wire", run_id="run-1"))
        forwarded = {}
        for article in stage(Article(url=url, source="wire") for url in urls.values()):
            row = ledger_row(warehouse, article.url)
            assert row is not None and row["body_run_id"] == "run-1", article.url
            assert not row["body_settled"]
            forwarded[article.url.rsplit("/", 1)[1]] = article
        assert sorted(forwarded) == sorted(SLUGS) and dropped == []

        loaded = forwarded["ferry"]
        loaded.text = "text"
        loaded.text_sha256 = hashlib.sha256(b"text").hexdigest()
        outcomes = [
            Dropped(forwarded["ferry-copy"], Outcome.DUPLICATE, "dedup_exact",
                    ["duplicate_text"], duplicate_of="x", duplicate_kind="text"),
            Dropped(forwarded["bakery"], Outcome.REJECTED, "validate", ["min_words"]),
            Dropped(forwarded["bridge"], Outcome.FAILED, "extract", ["extract_timeout"]),
        ]
        with warehouse.begin() as conn:
            write_batch(conn, [loaded], outcomes, "run-1")
        assert {slug: ledger_row(warehouse, url)["body_settled"] for slug, url in urls.items()
                } == {"ferry": True, "ferry-copy": True, "bakery": True, "bridge": False}

        # The next run: validators for the settled pages (a 304 each), none for the page
        # whose extraction failed (fetched again in full).
        before = len(pages.requests)
        stage = FetchStage(dropped.append, fetcher,
                           ledger=FetchLedger(warehouse, "wire", run_id="run-2"), refresh=True)
        again = [a.url for a in stage(Article(url=url, source="wire") for url in urls.values())]
    finally:
        fetcher.close()
    assert again == [urls["bridge"]]
    assert pages.since(before) == [("bakery", True, 304), ("bridge", False, 200),
                                   ("ferry", True, 304), ("ferry-copy", True, 304)]
    assert sorted(d.reasons[0] for d in dropped) == ["not_modified"] * 3


def ledger_row(warehouse, url: str) -> dict | None:
    with warehouse.engine.connect() as conn:
        row = conn.execute(select(fetch_ledger).where(fetch_ledger.c.url == url)
                           ).mappings().first()
    return dict(row) if row else None
