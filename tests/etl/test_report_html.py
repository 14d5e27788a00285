"""`news-etl report --html OUT`: one self-contained page per run, from the warehouse tables,
on SQLite and PostgreSQL. (tests/browser/ renders it in Chromium.)"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select
from support.report_site import COPY_TITLE, HOSTILE_TITLE, write_sources

from etl.cli import main
from etl.report_data import Cluster, Member, RunPoint, RunView, SourceView
from etl.report_html import render_html, report_path, write_run_report
from etl.warehouse import Warehouse
from etl.warehouse.schema import article_failures, article_rejects, ingest_runs


class _Text(HTMLParser):
    """The page's visible text (not its <style>), and every URL it would load."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.loads: list[str] = []
        self._skip = False

    def handle_starttag(self, tag, attrs):
        self._skip = tag in ("style", "script")
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe") and attrs.get("src"):
            self.loads.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.loads.append(attrs["href"])

    def handle_endtag(self, tag):
        self._skip = False

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def page_text(html: str) -> tuple[str, list[str]]:
    parser = _Text()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split()), parser.loads


def ingest(url: str, sources: Path) -> None:
    assert main(["ingest", str(sources), "--warehouse", url, "--workers", "1"]) == 0


@pytest.fixture
def cli_env(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GX_ANALYTICS_ENABLED", "false")
    monkeypatch.setenv("NEWS_ETL_DATA_DOCS_DIR", str(tmp_path / "docs"))
    monkeypatch.setenv("NEWS_ETL_ARCHIVE_ROOT", str(tmp_path / "archive"))
    monkeypatch.delenv("NEWS_ETL_WAREHOUSE_URL", raising=False)
    return tmp_path


@pytest.mark.slow  # two ingests per warehouse
def test_two_runs_as_one_page(migrated_warehouse_url, cli_env, capsys):
    sources = write_sources(cli_env / "in")
    ingest(migrated_warehouse_url, sources)
    ingest(migrated_warehouse_url, sources)  # unchanged files: a second point in the series
    out = cli_env / "out" / "run.html"
    assert main(["report", "--warehouse", migrated_warehouse_url, "--html", str(out)]) == 0
    assert f"HTML report: {out.resolve()}" in capsys.readouterr().out
    html = out.read_text(encoding="utf-8")
    text, loads = page_text(html)
    assert loads == []  # nothing fetched: no script, stylesheet, image or font by URL
    assert "<script" not in html  # the hostile title is text, not markup

    wh = Warehouse(migrated_warehouse_url)
    with wh.engine.connect() as conn:
        runs = conn.execute(select(ingest_runs).order_by(ingest_runs.c.started_at)).mappings()
        runs = list(runs)
        first, latest = runs[0]["run_id"], runs[-1]["run_id"]
        rejects = conn.execute(select(article_rejects.c.reasons)
                               .where(article_rejects.c.run_id == latest)).scalars().all()
        failures = conn.execute(select(article_failures.c.reason)
                                .where(article_failures.c.run_id == latest)).scalars().all()
    wh.dispose()
    assert f"Run {latest}" in text
    # Per source: its status and its outcome counts, as the warehouse has them.
    for run in (r for r in runs if r["run_id"] == latest):
        counts = " ".join(str(run[c]) for c in ("discovered", "loaded", "duplicates",
                                                "rejected", "failed", "not_modified"))
        assert f"{run['source']} {run['status']} discovered loaded duplicates rejected " \
               f"failed not modified {counts}" in text, text
    # Each outcome with a count has a bar segment of its share (4 items: 1 rejected = 25%).
    assert re.search(r'width:25\.000%;background:#ef6c00" title="rejected: 1"', html)
    # Reject reasons (their expectation names) and failure reasons.
    assert rejects and failures
    for name in {n for value in rejects for n in value}:
        assert name in text
    for reason in failures:
        assert reason in text
    # The time series holds both runs, oldest first, this one in bold in the table.
    assert html.count("<g><title>") == 2
    table = text[text.index("started run"):]
    assert table.index(latest) < table.index(first)  # newest first under the chart
    assert re.search(r"<svg class=\"history\"[^>]*aria-label=\"outcomes of the last 2 runs\"",
                     html)
    # The near-duplicate the first run found is the first run's; this run's copy is
    # recorded again (a duplicate each time it is read), so a cluster shows here too.
    assert "Near-duplicate clusters" in text
    assert f"river-wire: {COPY_TITLE}" in text and "similarity" in text
    assert "Island ferry back on its winter timetable kept: harbour-desk" in text


def test_the_run_report_sits_beside_its_data_docs(migrated_warehouse_url, cli_env):
    ingest(migrated_warehouse_url, write_sources(cli_env / "in"))
    wh = Warehouse(migrated_warehouse_url)
    with wh.engine.connect() as conn:
        run_id = conn.execute(select(ingest_runs.c.run_id)).scalars().first()
    path = write_run_report(wh, run_id, cli_env / "docs")
    with wh.engine.connect() as conn:
        stats = conn.execute(select(ingest_runs.c.stage_stats)
                             .where(ingest_runs.c.source == "harbour-desk")).scalar_one()
    wh.dispose()
    assert path == report_path(cli_env / "docs", run_id)
    assert path.parent.parent == cli_env / "docs"
    html = path.read_text(encoding="utf-8")
    # Links to each source's Data Docs are relative, so the folder can be moved or served.
    links = re.findall(r'<a href="([^"]+)">Data Docs', html)
    assert sorted(links) == ["harbour-desk/index.html", "river-wire/index.html"]
    assert all((path.parent / link).is_file() for link in links)
    # The stage funnel, as ingest_runs.stage_stats records it: 4 items read, 2 out.
    stats = json.loads(stats) if isinstance(stats, str) else stats
    funnel = " → ".join(f"{s['stage']} {s['received']}" for s in stats)
    assert stats[0]["received"] == 4 and stats[-1]["forwarded"] == 2
    assert f"stages: {funnel} → out 2" in page_text(html)[0]


def test_no_run_no_page(migrated_warehouse_url, cli_env, capsys):
    out = cli_env / "run.html"
    assert main(["report", "--warehouse", migrated_warehouse_url, "--html", str(out)]) == 1
    assert "no runs recorded yet" in capsys.readouterr().out
    assert not out.exists()
    wh = Warehouse(migrated_warehouse_url)
    assert write_run_report(wh, "no-such-run", cli_env / "docs") is None
    wh.dispose()


def test_every_value_from_the_web_is_escaped():
    hostile = "<img src=x onerror=alert(1)>"
    view = RunView(
        run_id=f"manual__{hostile}", started_at=datetime(2026, 3, 1, tzinfo=UTC),
        finished_at=None,
        sources=[SourceView(source="s<1>", status="all_failed", discovered=2,
                            counts={"loaded": 0, "duplicates": 0, "rejected": 1, "failed": 1,
                                    "not_modified": 0},
                            error=f"boom {hostile}",
                            reject_reasons=[("expect_x[title]", 1, f"title {hostile}")],
                            failure_reasons=[("http_error", 1, f"HTTP 500 {hostile}")])],
        history=[RunPoint(f"manual__{hostile}", None, {"loaded": 0, "duplicates": 0,
                                                       "rejected": 1, "failed": 1,
                                                       "not_modified": 0})],
        clusters=[Cluster("c1", HOSTILE_TITLE, "s<1>",
                          [Member("s<2>", "https://example.org/a?b=1&c=2", hostile, "near",
                                  0.9)])])
    html = render_html(view)
    assert "<img" not in html and "<script" not in html and "<b>ends" not in html
    text, loads = page_text(html)
    assert loads == []
    assert f"boom {hostile}" in text and f"HTTP 500 {hostile}" in text
    assert "s<1> all_failed" in text and HOSTILE_TITLE in text
