"""Hostile inputs generated here (never downloaded) and helpers to check what a run made
of them: one outcome and a clear reason per item, and accounting that adds up."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import inspect, select, text
from support.local_site import STORY, page

from etl.warehouse import Warehouse
from etl.warehouse.schema import (
    article_duplicates,
    article_failures,
    article_rejects,
    articles,
    ingest_runs,
)

BIG_BYTES = 50 * 1024 * 1024  # over the default 10 MB cap


def _article(title: str, extra: str = "") -> str:
    return page(title, [*STORY[:3], extra] if extra else STORY[:3])


def hostile_pages() -> dict[str, bytes]:
    """Small hostile bodies by name (the 50 MB page is built separately: it is slow)."""
    valid = _article("Night trains every thirty minutes").encode()
    mixed = (b"<html><head><title>Mixed</title></head><body><article><h1>Mixed</h1><p>"
             + STORY[0].encode() + " café crème".encode() + b"</p><p>"
             + STORY[1].encode("latin-1") + " Stra\xdfe".encode("latin-1") + b"</p><p>"
             + STORY[2].encode() + b"</p></article></body></html>")
    return {
        "empty": b"",
        "png": b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)) * 8,
        "pdf": b"%PDF-1.7\n1 0 obj\n<< /Length 2048 >>\nstream\n" + bytes(range(256)) * 8
               + b"\nendstream\nendobj\n%%EOF\n",
        "gzip": gzip.compress(valid, mtime=0),
        "nested": b"<html><body>" + b"<div>" * 100_000 + b"deep " * 200
                  + b"</div>" * 100_000 + b"</body></html>",
        "invalid_utf8": valid.replace(b"thirty minutes", b"thirty \xff\xfe\xc3\x28 minutes", 1),
        "mixed_encodings": mixed,
        "js_only": b"<html><head><script>" + b"var a = 1; " * 5000
                   + b"</script></head><body><script>document.write('<p>hi</p>')</script>"
                   + b"</body></html>",
        "paywall": page("Subscribe", ["This article is for subscribers only. Please log in or "
                                      "subscribe to keep reading our journalism today."]
                        ).encode(),
        "block_page": b"<html><head><title>403 Forbidden</title></head><body><h1>Access "
                      b"denied</h1><p>Your request was blocked by our security service."
                      b"</p></body></html>",
    }


def big_page() -> bytes:
    para = ("<p>" + " ".join(f"word{i}" for i in range(150)) + "</p>\n").encode()
    body = para * (BIG_BYTES // len(para) + 1)
    return b"<html><head><title>Huge</title></head><body><article>" + body + \
        b"</article></body></html>"


def outcomes(warehouse: Warehouse, run_id: str) -> dict[str, tuple[str, str]]:
    """url → (outcome, reason) for every item of a run that left a row."""
    found: dict[str, tuple[str, str]] = {}
    with warehouse.engine.connect() as conn:
        for (url,) in conn.execute(select(articles.c.url).where(articles.c.run_id == run_id)):
            found[url] = ("loaded", "")
        for url, reason in conn.execute(select(article_failures.c.url, article_failures.c.reason)
                                        .where(article_failures.c.run_id == run_id)):
            found[url] = ("failed", reason)
        for url, reasons in conn.execute(select(article_rejects.c.url, article_rejects.c.reasons)
                                         .where(article_rejects.c.run_id == run_id)):
            found[url] = ("rejected", ",".join(reasons))
        for url, kind in conn.execute(select(article_duplicates.c.url, article_duplicates.c.kind)
                                      .where(article_duplicates.c.run_id == run_id)):
            found[url] = ("duplicate", kind)
    return found


def assert_balanced(warehouse: Warehouse, run_id: str) -> list[dict[str, Any]]:
    """discovered = loaded + duplicates + rejected + failed + not_modified, per source."""
    with warehouse.engine.connect() as conn:
        runs = [dict(r) for r in conn.execute(
            select(ingest_runs).where(ingest_runs.c.run_id == run_id)).mappings()]
    assert runs, f"no ingest_runs rows for {run_id}"
    for run in runs:
        parts = (run["loaded"], run["duplicates"], run["rejected"], run["failed"],
                 run["not_modified"])
        assert run["discovered"] == sum(parts), run
        assert run["finished_at"] is not None, run
    return runs


def warehouse_text(warehouse: Warehouse) -> Iterator[str]:
    """Every value of every table, as text (to prove something never landed)."""
    with warehouse.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                yield " ".join(str(v) for v in row)


@pytest.fixture
def http_settings_yaml() -> str:
    """Fast, local-only HTTP settings for sources files."""
    return ("http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: false, "
            "timeout_s: 2, retries: 0, workers: 4}\n")


@pytest.fixture
def serve_hostile(httpserver: HTTPServer) -> HTTPServer:
    """Every hostile page at /h/<name> as text/html; the block page with status 403."""
    for name, body in hostile_pages().items():
        status = 403 if name == "block_page" else 200
        httpserver.expect_request(f"/h/{name}").respond_with_data(
            body, status=status, content_type="text/html; charset=utf-8")
    httpserver.expect_request("/h/valid").respond_with_data(
        _article("Library opens on Sundays", "An extra line so the text differs.").encode(),
        content_type="text/html")
    return httpserver


def write_file(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path
