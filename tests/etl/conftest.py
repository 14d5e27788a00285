"""Local HTTP servers for the fetch and web-source tests (127.0.0.1 only; no internet)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from etl.config import HttpSettings

LOCAL = ("127.0.0.1", "localhost")


@pytest.fixture(scope="session")
def _shared_server() -> Iterator[HTTPServer]:
    # One server for the session: stopping werkzeug costs ~0.5 s per test.
    srv = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    srv.start()
    yield srv
    srv.clear()
    if srv.is_running():
        srv.stop()


@pytest.fixture
def server(_shared_server: HTTPServer) -> Iterator[HTTPServer]:
    _shared_server.clear()
    yield _shared_server
    _shared_server.clear()


@pytest.fixture
def settings() -> HttpSettings:
    """Fast settings: tiny delays and timeouts, local hosts allowed, robots off."""
    return HttpSettings(
        user_agent="news-etl-test/1.0 (+tests)",
        timeout_s=1.0,
        min_delay_s=0.0,
        max_per_host=4,
        retries=2,
        backoff_s=0.05,
        allow_hosts=LOCAL,
        obey_robots=False,
        workers=4,
    )
