"""Hard or soft: read from the very error text a failing source records, produced here by
real reads from a local server (127.0.0.1) and the local file system."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from etl.config import HttpSettings, SourceConfig
from etl.fetch import Fetcher
from etl.polling import FailureKind, failure_kind
from etl.sources.errors import SourceError
from etl.sources.feeds import discover_feed
from etl.sources.sitemaps import discover_sitemap

HARD, SOFT = FailureKind.HARD, FailureKind.SOFT


def _error(kind: str, location: str, settings: HttpSettings) -> str:
    source = SourceConfig(name="s", kind=kind, location=location, http=settings)
    discover = discover_feed if kind == "feed" else discover_sitemap
    with pytest.raises(SourceError) as caught:
        list(discover(source, Fetcher(settings)))
    return str(caught.value)


@pytest.mark.parametrize(("status", "body", "content_type", "kind"), [
    (404, "missing", "text/plain", HARD),
    (410, "gone", "text/plain", HARD),
    (403, "no", "text/plain", HARD),
    (503, "busy", "text/plain", SOFT),
    (500, "oops", "text/plain", SOFT),
    (429, "slow down", "text/plain", SOFT),
    (200, '{"title": "no items"}', "application/feed+json", HARD),  # not a feed
    (200, "<html><body>no feed here</body></html>", "text/html", HARD),
])
def test_a_failed_feed_is_hard_or_soft(server: HTTPServer, settings: HttpSettings,
                                       status: int, body: str, content_type: str,
                                       kind: FailureKind) -> None:
    server.expect_request("/feed.xml").respond_with_data(body, status=status,
                                                         content_type=content_type)
    error = _error("feed", server.url_for("/feed.xml"), settings)
    assert failure_kind(error) == kind, error


def test_an_unknown_host_is_hard(settings: HttpSettings) -> None:
    # .invalid never resolves (RFC 2606): the fetch guard's DNS lookup fails at once.
    error = _error("feed", "http://feeds.example.invalid/rss", replace(settings, allow_hosts=()))
    assert "dns" in error and failure_kind(error) == HARD


def test_a_refused_connection_and_a_broken_sitemap(server: HTTPServer,
                                                   settings: HttpSettings) -> None:
    server.expect_request("/sitemap.xml").respond_with_data("<urlset><url><loc>",
                                                            content_type="application/xml")
    assert failure_kind(_error("sitemap", server.url_for("/sitemap.xml"), settings)) == HARD
    refused = "source 's': cannot fetch http://127.0.0.1:9/feed: connect (connection refused)"
    assert failure_kind(refused) == SOFT


def test_a_missing_local_feed_is_hard_and_unknown_text_is_soft(tmp_path: Path,
                                                               settings: HttpSettings) -> None:
    error = _error("feed", str(tmp_path / "gone.xml"), settings)
    assert failure_kind(error) == HARD, error
    assert failure_kind("discover step did not run") == SOFT
    assert failure_kind(None) == SOFT
