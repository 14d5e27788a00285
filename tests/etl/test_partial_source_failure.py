"""A source that fails part-way: what it read before the failure still reaches an outcome.

A WARC source whose second archive is corrupt has already handed the first archive's pages
to the later steps (extraction window, validation and load batches) when the failure is
raised. Those pages must be loaded (or otherwise accounted for) and the source recorded as
`source_failed` — never counted as discovered and then lost with the in-flight batch.
Checked on the streaming (CLI) and the staged (Airflow) paths, on both warehouses.
"""

from __future__ import annotations

import io
import random
from pathlib import Path

import pytest
from sqlalchemy import func, select
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from etl.config import SourceConfig
from etl.pipeline import (
    RunOptions,
    ingest_source,
    stage_discover,
    stage_fetch_extract,
    stage_load,
    stage_validate,
)
from etl.sources import SourceError
from etl.warehouse.schema import articles, ingest_runs

TOPICS = ["ferry timetable", "fish market", "lighthouse repairs"]


def _body(topic: str) -> str:
    """A text of its own per page: words drawn at random per topic, so the pages are not
    near-duplicates of each other."""
    rng = random.Random(topic)
    words = ["harbour", "crew", "tide", "quay", "council", "boat", "weather", "cargo", "net",
             "pier", "storm", "market", "price", "keeper", "lamp", "engine", "route", "dock"]
    return " ".join(rng.choice(words) for _ in range(150)) + "."


def _good_warc(path: Path) -> None:
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for i, topic in enumerate(TOPICS):
        html = (f"<html lang='en'><head><title>Harbour {topic}</title></head><body>"
                f"<article><h1>Harbour {topic}</h1><p>{_body(topic)}</p></article>"
                "</body></html>").encode()
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")],
                                   protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            f"http://harbour.example/story-{i}", "response", payload=io.BytesIO(html),
            http_headers=headers, warc_headers_dict={"WARC-Date": "2026-11-30T12:00:00Z"}))
    path.write_bytes(buf.getvalue())


@pytest.fixture
def failing_source(tmp_path: Path) -> SourceConfig:
    folder = tmp_path / "archives"
    folder.mkdir()
    _good_warc(folder / "a-good.warc.gz")
    (folder / "b-corrupt.warc").write_bytes(bytes(range(256)) * 4)  # no archive format
    return SourceConfig(name="harbour", kind="warc", location=str(folder), language="en",
                        min_words=10)


def _options(tmp_path: Path) -> RunOptions:
    return RunOptions(workers=1, archive_root=str(tmp_path / "archive"),
                      data_docs_dir=tmp_path / "docs")


def _run_row(warehouse, run_id: str) -> dict:
    with warehouse.engine.connect() as conn:
        return dict(conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == run_id))
                    .mappings().one())


def _assert_read_pages_loaded(warehouse, run_id: str) -> None:
    row = _run_row(warehouse, run_id)
    assert row["status"] == "source_failed" and "b-corrupt" in row["error"]
    assert row["discovered"] == len(TOPICS)
    assert row["loaded"] == len(TOPICS)
    assert row["discovered"] == (row["loaded"] + row["duplicates"] + row["rejected"]
                                 + row["failed"] + row["not_modified"])
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(articles)).scalar() == len(TOPICS)


def test_streaming_run_loads_what_was_read_before_the_failure(
        warehouse, failing_source: SourceConfig, tmp_path: Path) -> None:
    report = ingest_source(failing_source, warehouse, "run-partial", _options(tmp_path))
    assert report.status == "source_failed"
    assert report.balanced, report.as_dict()
    _assert_read_pages_loaded(warehouse, "run-partial")


def test_staged_run_stages_and_loads_what_was_read_before_the_failure(
        warehouse, failing_source: SourceConfig, tmp_path: Path) -> None:
    options, root = _options(tmp_path), tmp_path / "staging"
    with pytest.raises(SourceError, match="b-corrupt"):  # fails the discover task only
        stage_discover(failing_source, "run-staged", root, options)
    chunks = sorted((root / "run-staged" / "harbour").glob("chunk-*"))
    assert chunks, "the pages read before the failure were not staged"
    for chunk in chunks:
        stage_validate(stage_fetch_extract(str(chunk), failing_source, "run-staged", options,
                                           warehouse))
    summary = stage_load("run-staged", root, ["harbour"], warehouse, options=options)
    assert all(r.balanced for r in summary.reports), summary.as_dict()
    _assert_read_pages_loaded(warehouse, "run-staged")


def test_a_record_warcio_cannot_parse_fails_the_source_with_a_message(tmp_path: Path) -> None:
    """A response record without a target URI makes warcio itself raise AttributeError:
    that is an unreadable file (SourceError naming it), never a crash of the run."""
    from etl.sources.warc import discover_warc

    bad = tmp_path / "no-target.warc"
    bad.write_bytes(b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 20\r\n\r\n"
                    b"HTTP/1.1 200 OK\r\n\r\nx")
    source = SourceConfig(name="harbour", kind="warc", location=str(bad))
    with pytest.raises(SourceError, match=r"no-target\.warc is not a readable WARC"):
        list(discover_warc(source, None))
