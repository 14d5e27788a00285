"""Fetch failures as an operator meets them in `news-etl ingest` and `news-etl report`:
one short line, and the fix where there is one (a blocked private address names
allow_hosts). Real sockets on 127.0.0.1: a refused port and a private-address block."""

from __future__ import annotations

import re
import socket

import pytest
from sqlalchemy import create_engine, select
from support.operator import clear_environment

from etl.cli import main
from etl.warehouse.schema import article_failures

NO_WAIT = "obey_robots: false, min_delay_s: 0, retries: 0, timeout_s: 2"


@pytest.fixture(autouse=True)
def _here(monkeypatch, tmp_path):
    clear_environment(monkeypatch)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def failures(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(article_failures.c.reason, article_failures.c.detail)).all()
    engine.dispose()
    return [tuple(r) for r in rows]


def test_a_refused_connection_is_one_short_line(migrated_warehouse_url, tmp_path, closed_port,
                                                capsys) -> None:
    url = migrated_warehouse_url
    sources = tmp_path / "sources.yml"
    sources.write_text(f"http: {{allow_hosts: [127.0.0.1], {NO_WAIT}}}\nsources:\n"
                       f"- {{name: down, kind: urls, urls: ['http://127.0.0.1:{closed_port}/a']}}\n")
    assert main(["ingest", str(sources), "--warehouse", url, "--workers", "1",
                 "--run-id", "r"]) == 3  # every item of the source failed
    expected = f"127.0.0.1:{closed_port}: connection refused"
    assert failures(url) == [("connect", expected)]
    capsys.readouterr()
    assert main(["report", "r", "--warehouse", url]) == 0
    out = capsys.readouterr().out
    assert re.search(rf"^    failed +1  connect: {re.escape(expected)}$", out, re.M), out


def test_a_feed_on_a_refused_port_fails_its_source_in_one_line(sqlite_url, tmp_path,
                                                               closed_port, capsys) -> None:
    sources = tmp_path / "sources.yml"
    sources.write_text(f"http: {{allow_hosts: [127.0.0.1], {NO_WAIT}}}\nsources:\n"
                       f"- {{name: wire, kind: feed, location: "
                       f"'http://127.0.0.1:{closed_port}/feed.xml'}}\n")
    assert main(["ingest", str(sources), "--warehouse", sqlite_url, "--workers", "1"]) == 3
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (f"  wire: source_failed: source 'wire': cannot fetch "
                       f"http://127.0.0.1:{closed_port}/feed.xml: connect "
                       f"(127.0.0.1:{closed_port}: connection refused)")


def test_a_blocked_private_address_names_allow_hosts(migrated_warehouse_url, tmp_path,
                                                     httpserver, capsys) -> None:
    httpserver.expect_request("/a").respond_with_data("<p>never fetched</p>")
    url = migrated_warehouse_url
    page = httpserver.url_for("/a").replace("127.0.0.1", "localhost")
    sources = tmp_path / "sources.yml"
    sources.write_text(f"http: {{{NO_WAIT}}}\nsources:\n"
                       f"- {{name: intranet, kind: urls, urls: ['{page}']}}\n")
    assert main(["ingest", str(sources), "--warehouse", url, "--workers", "1",
                 "--run-id", "r"]) == 3
    [(reason, detail)] = failures(url)
    assert reason == "blocked_address"
    assert detail.startswith("localhost resolves to non-public ")
    assert "add it to allow_hosts" in detail and "NEWS_ETL_ALLOW_HOSTS" in detail
    assert httpserver.log == []  # refused before any request
    capsys.readouterr()
    assert main(["report", "r", "--warehouse", url]) == 0
    assert "blocked_address: localhost resolves to non-public" in capsys.readouterr().out
    # The fix works as the message says (another URL: the failed one waits its backoff).
    sources.write_text(f"http: {{allow_hosts: [localhost], {NO_WAIT}}}\nsources:\n"
                       f"- {{name: intranet, kind: urls, urls: ['{page}?after-the-fix']}}\n")
    main(["ingest", str(sources), "--warehouse", url, "--workers", "1", "--run-id", "r2"])
    assert len(httpserver.log) == 1
