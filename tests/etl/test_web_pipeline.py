"""Web sources end to end against a local news site: feed → fetch → … → warehouse,
with the fetch ledger (skips, backoff, conditional GET), the WARC archive and re-extraction."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from support.local_site import STORY, feed, page, serve_site
from support.local_sources import local_sources
from werkzeug import Response

from etl.config import load_sources
from etl.pipeline import RunOptions, ingest, reextract
from etl.warehouse.schema import articles, fetch_ledger, ingest_runs


@pytest.fixture
def site(httpserver: HTTPServer) -> HTTPServer:
    return serve_site(httpserver)


def sources_file(tmp_path: Path, server: HTTPServer, extra: str = "") -> Path:
    return local_sources(tmp_path, name="local-news", kind="feed",
                         location=server.url_for("/feed.xml"), fields=f", language: en{extra}")


def runs(warehouse, run_id):
    with warehouse.engine.connect() as conn:
        return conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == run_id)
                            ).mappings().one()


def test_feed_run_ledger_archive_and_second_run(site, warehouse, tmp_path):
    archive = str(tmp_path / "archive")
    sources = load_sources(sources_file(tmp_path, site))
    options = RunOptions(workers=1, archive_root=archive)
    first = ingest(sources, warehouse, run_id="web-1", options=options)
    assert first.reports[0].balanced
    run = runs(warehouse, "web-1")
    assert (run["discovered"], run["loaded"], run["failed"]) == (3, 2, 1)
    with warehouse.engine.connect() as conn:
        ledger = {r.url.rsplit("/", 1)[1]: r for r in conn.execute(select(fetch_ledger))}
        stored = conn.execute(select(articles.c.title, articles.c.url)).all()
    assert {t for t, _ in stored} == {"Night trains every thirty minutes",
                                      "Library opens on Sundays"}
    assert ledger["night-trains"].etag == '"v1"' and ledger["night-trains"].last_status == 200
    assert ledger["gone"].last_reason == "http_404" and ledger["gone"].consecutive_failures == 1
    assert ledger["gone"].next_attempt_at is not None
    warcs = list((tmp_path / "archive").rglob("*.warc.gz"))
    assert len(warcs) == 1 and ledger["night-trains"].archive_path == str(warcs[0])

    requests_before = len(site.log)
    second = ingest(sources, warehouse, run_id="web-2", options=options)
    assert second.reports[0].balanced
    run = runs(warehouse, "web-2")
    assert (run["discovered"], run["not_modified"], run["failed"], run["loaded"]) == (3, 2, 1, 0)
    page_requests = [r for r, _ in site.log[requests_before:] if r.path.startswith("/news/")]
    assert page_requests == []  # loaded pages are not fetched again; the 404 waits its backoff


def test_refresh_sends_validators_and_a_304_is_not_modified(site, warehouse, tmp_path):
    archive = str(tmp_path / "archive")
    sources = load_sources(sources_file(tmp_path, site, ", refresh: true"))
    ingest(sources, warehouse, run_id="r-1", options=RunOptions(workers=1, archive_root=archive))
    site.clear()
    base = site.url_for("").rstrip("/")
    site.expect_request("/feed.xml").respond_with_data(
        feed(base, ["night-trains"]), content_type="application/rss+xml")

    def conditional(request):
        if request.headers.get("If-None-Match") == '"v1"':
            return Response(status=304)
        return Response(page("changed", STORY), content_type="text/html")

    site.expect_request("/news/night-trains").respond_with_handler(conditional)
    ingest(sources, warehouse, run_id="r-2", options=RunOptions(workers=1, archive_root=archive))
    run = runs(warehouse, "r-2")
    assert (run["discovered"], run["not_modified"]) == (1, 1)


def test_reextract_updates_history_from_the_archive(site, warehouse, tmp_path):
    archive = str(tmp_path / "archive")
    sources = load_sources(sources_file(tmp_path, site))
    ingest(sources, warehouse, run_id="first", options=RunOptions(workers=1, archive_root=archive))
    site.clear()  # re-extraction must not touch the network
    source = replace(sources.sources[0], boilerplate=(re.compile("^Subscribe"),))
    summary = reextract(warehouse, source, run_id="again",
                        options=RunOptions(workers=1, archive_root=archive))
    report = summary.reports[0]
    assert report.balanced and report.discovered == 2 and report.outcomes["loaded"] == 2
    assert site.log == []
    with warehouse.engine.connect() as conn:
        text = conn.execute(select(articles.c.text).where(
            articles.c.title == "Night trains every thirty minutes")).scalar_one()
        assert conn.execute(select(articles)).all().__len__() == 2
    assert "Subscribe" not in text and "regional council" in text
