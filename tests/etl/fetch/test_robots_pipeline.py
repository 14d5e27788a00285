"""robots.txt (RFC 9309) and the shared limiter through the whole pipeline: every item
ends in one outcome with a reason, the counts add up, and items that failed because the
host's robots.txt (or our Redis) was unavailable are fetched on the next run."""

from __future__ import annotations

import random
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from support.local_site import STORY, feed, page
from support.robots_servers import ClosingRobotsServer
from werkzeug import Request, Response

from etl.config import load_sources
from etl.pipeline import RunOptions, ingest
from etl.warehouse import Warehouse
from etl.warehouse.schema import article_failures, articles, fetch_ledger, ingest_runs

VOCAB = sorted({w.strip(".,").lower() for p in STORY for w in p.split()})


def _article(server: HTTPServer, path: str, seed: int) -> str:
    rng = random.Random(seed)  # distinct texts: no item is a near copy of another
    paragraphs = [" ".join(rng.choice(VOCAB) for _ in range(40)) + "." for _ in range(3)]
    server.expect_request(path).respond_with_data(page(f"Story {seed}", paragraphs),
                                                  content_type="text/html")
    return server.url_for(path)


def _sources(tmp_path: Path, urls: list[str], http: str = "") -> Path:
    listed = "".join(f"\n    - '{u}'" for u in urls)
    path = tmp_path / "sources.yml"
    path.write_text("http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: true, "
                    f"timeout_s: 0.5, retries: 0{http}}}\n"
                    f"sources:\n  - name: web\n    kind: urls\n    language: en\n"
                    f"    min_words: 20\n    urls:{listed}\n")
    return path


def _run(warehouse: Warehouse, run_id: str, source: str = "web") -> dict:
    with warehouse.engine.connect() as conn:
        row = conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == run_id,
                                                     ingest_runs.c.source == source)
                           ).mappings().one()
        failures = conn.execute(select(article_failures.c.url, article_failures.c.reason)
                                .where(article_failures.c.run_id == run_id,
                                       article_failures.c.source == source)).all()
    outcomes = ("loaded", "duplicates", "rejected", "failed", "not_modified")
    assert row["discovered"] == sum(row[o] for o in outcomes), dict(row)
    return {**row, "failures": dict(failures)}


@pytest.fixture
def other_site() -> Iterator[HTTPServer]:
    """A second origin on 127.0.0.1 (another port): robots.txt is per origin."""
    srv = HTTPServer(host="127.0.0.1", port=0)
    srv.start()
    yield srv
    srv.clear()
    srv.stop()


@pytest.fixture
def options(tmp_path: Path) -> RunOptions:
    """Inline extraction; the archive inside the test's folder; no Data Docs (never read
    here: the validation results stay in the warehouse)."""
    return RunOptions(workers=1, data_docs=False, archive_root=str(tmp_path / "archive"),
                      data_docs_dir=str(tmp_path / "docs"))


def test_robots_5xx_fails_that_hosts_items_and_the_next_run_fetches_them(
        server: HTTPServer, other_site: HTTPServer, warehouse: Warehouse, tmp_path: Path,
        options: RunOptions) -> None:
    server.expect_request("/robots.txt").respond_with_data("down", status=503)
    broken = [_article(server, f"/news/{i}", i) for i in range(2)]
    other_site.expect_request("/robots.txt").respond_with_data("", status=404)  # no rules
    fine = _article(other_site, "/news/2", 2)
    # A short robots TTL stands for the hour between two scheduled runs.
    sources = load_sources(_sources(tmp_path, [*broken, fine], ", robots_ttl_s: 0.5"))

    summary = ingest(sources, warehouse, run_id="robots-1", options=options)
    assert summary.reports[0].balanced
    run = _run(warehouse, "robots-1")
    assert (run["discovered"], run["loaded"], run["failed"]) == (3, 1, 2)
    assert run["failures"] == dict.fromkeys(broken, "robots_unavailable")
    assert [r.path for r, _ in server.log] == ["/robots.txt"]  # no page was requested
    with warehouse.engine.connect() as conn:
        ledger = set(conn.execute(select(fetch_ledger.c.url)).scalars())
    assert ledger == {fine}  # the URLs never reached carry no failure and no backoff

    server.clear()
    server.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow:\n",
                                                           content_type="text/plain")
    broken = [_article(server, f"/news/{i}", i) for i in range(2)]
    time.sleep(0.6)
    summary = ingest(sources, warehouse, run_id="robots-2", options=options)
    assert summary.reports[0].balanced
    run = _run(warehouse, "robots-2")
    assert (run["discovered"], run["loaded"], run["not_modified"], run["failed"]) == (3, 2, 1, 0)
    with warehouse.engine.connect() as conn:
        stored = set(conn.execute(select(articles.c.url)).scalars())
    assert stored == {*broken, fine}


@pytest.mark.parametrize("robots", ["404", "401", "500", "429", "timeout", "closed"])
def test_robots_outcomes_through_the_pipeline(server: HTTPServer, sqlite_url: str,
                                              tmp_path: Path, options: RunOptions,
                                              robots: str) -> None:
    closing = ClosingRobotsServer()
    # robots.txt that answers only once the test is over (long after the 0.5 s timeout).
    released, answered = threading.Event(), threading.Event()

    def late(request: Request) -> Response:
        try:
            released.wait(10)
            return Response("late", content_type="text/plain")
        finally:
            answered.set()

    try:
        if robots == "closed":
            urls = [closing.url("/news/a"), closing.url("/news/b")]
        else:
            if robots == "timeout":
                server.expect_request("/robots.txt").respond_with_handler(late)
            else:
                server.expect_request("/robots.txt").respond_with_data(
                    "x", status=int(robots))
            urls = [_article(server, f"/news/{i}", i) for i in range(2)]
        warehouse = Warehouse(sqlite_url)
        summary = ingest(load_sources(_sources(tmp_path, urls)), warehouse, run_id="r",
                         options=options)
        assert summary.reports[0].balanced
        run = _run(warehouse, "r")
        if robots.startswith("4") and robots != "429":  # RFC 9309: no rules
            assert (run["loaded"], run["failed"]) == (2, 0)
        else:  # RFC 9309: complete disallow
            assert (run["loaded"], run["failed"], run["status"]) == (0, 2, "all_failed")
            assert run["failures"] == dict.fromkeys(urls, "robots_unavailable")
            page_requests = closing.paths[1:] + [r.path for r, _ in server.log
                                                 if r.path != "/robots.txt"]
            assert page_requests == []
        warehouse.dispose()
    finally:
        closing.close()
        if robots == "timeout":  # the late answer ends before the next test
            released.set()
            assert answered.wait(10)


def test_a_feed_whose_robots_is_unavailable_fails_its_source(server: HTTPServer,
                                                             sqlite_url: str, tmp_path: Path,
                                                             options: RunOptions) -> None:
    server.expect_request("/robots.txt").respond_with_data("down", status=502)
    base = server.url_for("").rstrip("/")
    server.expect_request("/feed.xml").respond_with_data(feed(base, ["a"]),
                                                         content_type="application/rss+xml")
    path = tmp_path / "sources.yml"
    path.write_text("http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, retries: 0}\n"
                    f"sources:\n- {{name: f, kind: feed, location: '{base}/feed.xml'}}\n")
    warehouse = Warehouse(sqlite_url)
    summary = ingest(load_sources(path), warehouse, run_id="f", options=options)
    [report] = summary.reports
    assert report.balanced and report.status == "source_failed"
    assert "robots_unavailable" in report.error and "robots.txt" in report.error
    assert [r.path for r, _ in server.log] == ["/robots.txt"]
    warehouse.dispose()


def test_redis_down_fails_items_and_sources_clearly(server: HTTPServer, sqlite_url: str,
                                                    tmp_path: Path, options: RunOptions) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{sock.getsockname()[1]}/0"
    urls = [_article(server, f"/news/{i}", i) for i in range(3)]
    base = server.url_for("").rstrip("/")
    path = _sources(tmp_path, urls, f", limiter_url: '{dead}'")
    path.write_text(path.read_text()
                    + f"  - {{name: f, kind: feed, location: '{base}/f.xml'}}\n")
    warehouse = Warehouse(sqlite_url)
    summary = ingest(load_sources(path), warehouse, run_id="d", options=options)
    web, feed_source = summary.reports
    assert web.balanced and feed_source.balanced
    assert web.status == "all_failed" and "limiter_unavailable" in web.error
    assert _run(warehouse, "d")["failures"] == dict.fromkeys(urls, "limiter_unavailable")
    assert _run(warehouse, "d", "f")["discovered"] == 0
    assert feed_source.status == "source_failed"
    assert "limiter_unavailable" in feed_source.error and dead in feed_source.error
    assert server.log == []  # politeness is never skipped
    warehouse.dispose()
