"""Progress from the first second of a run: a live line in a terminal (a real pty), and
counts in the logs when not in one (Airflow task logs, cron), through `news-etl ingest`."""

from __future__ import annotations

import logging
import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.local_site import serve_site
from support.operator import clear_environment
from werkzeug import Response

import etl.progress
from etl.cli import main

CLI = Path(sys.executable).parent / "news-etl"
FEED_DELAY_S = 2.0  # a slow feed: discovery shows its clock before it has found anything


@pytest.fixture(autouse=True)
def _here(monkeypatch, tmp_path):
    clear_environment(monkeypatch)
    monkeypatch.chdir(tmp_path)


def slow_site(httpserver) -> str:
    serve_site(httpserver)
    feed = httpserver.url_for("/feed.xml")
    fast = f"{feed}?fast"
    import urllib.request

    body = urllib.request.urlopen(fast).read()  # the feed as serve_site serves it

    def slowly(_request):
        time.sleep(FEED_DELAY_S)
        return Response(body, content_type="application/rss+xml")

    httpserver.clear()
    httpserver.expect_request("/slow.xml").respond_with_handler(slowly)
    serve_site(httpserver)
    return httpserver.url_for("/slow.xml")


def sources_file(tmp_path: Path, feed: str) -> Path:
    path = tmp_path / "sources.yml"
    path.write_text(
        "http: {allow_hosts: [127.0.0.1], obey_robots: false, min_delay_s: 0, retries: 0}\n"
        f"sources:\n- {{name: local, kind: feed, location: '{feed}'}}\n")
    return path


def test_logs_counts_at_the_start_periodically_and_at_the_end(migrated_warehouse_url, tmp_path,
                                                              httpserver, caplog,
                                                              monkeypatch) -> None:
    monkeypatch.setattr(etl.progress, "LOG_EVERY_S", 0.5)
    sources = sources_file(tmp_path, slow_site(httpserver))
    caplog.set_level(logging.INFO, logger="etl.progress")
    assert main(["ingest", str(sources), "--warehouse", migrated_warehouse_url,
                 "--workers", "1", "--no-data-docs"]) == 0  # docs: never read here
    lines = [r.getMessage() for r in caplog.records if r.name == "etl.progress"]
    assert lines[0] == ("local: discovered 0 · fetched 0 · extracted 0 · validated 0 · "
                        "loaded 0 · dropped 0 · 0s (started)"), lines
    # While the feed is slow to answer, the count says so, again and again.
    waiting = [line for line in lines[1:] if line.startswith("local: discovered 0 ")]
    assert len(waiting) >= 2, lines
    assert re.fullmatch(r"local: discovered 3 · fetched 2 · extracted 2 · validated 2 · "
                        r"loaded 2 · dropped 1 · \d+s \(done\)", lines[-1]), lines


def test_a_terminal_shows_a_live_line_from_the_first_second(tmp_path, httpserver,
                                                           sqlite_template) -> None:
    sources = sources_file(tmp_path, slow_site(httpserver))
    # A copy of the migrated template: the child process does not replay the migrations.
    shutil.copyfile(sqlite_template, tmp_path / "warehouse.db")
    warehouse = f"sqlite:///{tmp_path / 'warehouse.db'}"
    env = {"PATH": str(CLI.parent), "HOME": str(tmp_path), "GX_ANALYTICS_ENABLED": "false",
           "TERM": "xterm", "NEWS_ETL_DATA_DOCS": "false"}  # docs: never read here
    master, slave = pty.openpty()
    proc = subprocess.Popen([str(CLI), "ingest", str(sources), "--warehouse", warehouse,
                             "--workers", "1"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    seen = b""
    first_line_at = feed_answered_at = None
    started = time.monotonic()
    try:
        while time.monotonic() - started < 240:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
                if first_line_at is None and b"local: discovered 0" in seen:
                    first_line_at = time.monotonic()
            if feed_answered_at is None and any("slow.xml" in r.path for r, _ in
                                                httpserver.log):
                feed_answered_at = time.monotonic()
            if proc.poll() is not None and not ready:
                break
    finally:
        proc.wait(timeout=60)
        os.close(master)
    text = seen.decode("utf-8", "replace")
    assert proc.returncode == 0, text[-2000:]
    # The line was on screen before discovery had found anything, and redrawn in place.
    assert first_line_at is not None and feed_answered_at is not None, text[-2000:]
    assert first_line_at < feed_answered_at
    redraws = re.findall(r"\r\x1b\[Klocal: discovered 0 · fetched 0 · [^\r]*· (\d+)s", text)
    assert len(redraws) >= 3 and int(redraws[-1]) >= 1, text[-2000:]
    assert re.search(r"local: discovered 3 · fetched 2 · extracted 2 · validated 2 · "
                     r"loaded 2 · dropped 1 · \d+s\r?\n", text), text[-2000:]
