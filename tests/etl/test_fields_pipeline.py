"""The extra fields end to end: a feed of original pages on 127.0.0.1 → fetch → extract →
validate → dedup → load, on SQLite and PostgreSQL, through the streaming (CLI) and the
staged (Airflow) paths; the columns read back as extracted, analysts' portable SQL counts
by the publisher's day, and re-extraction rewrites them in place. Migration 0008 adds and
drops the columns with the rows and the SQLite full-text index intact.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select, text

from etl.config import load_sources
from etl.pipeline import (
    RunOptions,
    ingest,
    stage_discover,
    stage_fetch_extract,
    stage_load,
    stage_validate,
)
from etl.pipeline.reruns import reextract
from etl.warehouse import Warehouse
from etl.warehouse.load import EXTRA_COLUMNS
from etl.warehouse.schema import articles

STORIES = {
    "east": "The lighthouse keeper's cottage on the northern cape opened as a small museum "
            "this weekend, with logbooks, lamps and letters donated by three families who "
            "kept the light burning for more than a century.",
    "west": "Night buses between the airport and the old town will run every twenty minutes "
            "from the spring timetable, the transport board decided after a year in which "
            "late flights left travellers waiting for taxis.",
    "live": "The storm reached the coast shortly after midnight; crews closed the harbour "
            "road, the ferries stayed in port and volunteers filled sandbags by the market "
            "hall while the river rose through the morning.",
    "plain": "A group of pupils planted an orchard of forty apple trees behind the primary "
             "school, each class caring for its own row and keeping a diary of the blossom "
             "and the harvest for the village archive.",
}
TEASER = "<p>Subscribe now to continue reading this article.</p>"


def ld(**fields: object) -> str:
    obj = {"@context": "https://schema.org", "@type": "NewsArticle", **fields}
    return f"<script type='application/ld+json'>{json.dumps(obj)}</script>"


def html_page(slug: str, head: str = "", after: str = "") -> str:
    title = f"Story {slug}"
    body = "".join(f"<p>{s}.</p>" for s in STORIES[slug].split("; "))
    return (f"<html lang='en'><head><meta charset='utf-8'><title>{title}</title>{head}</head>"
            f"<body><article><h1>{title}</h1>{body}{after}</article></body></html>")


PAGES = {
    "east": html_page("east", ld(datePublished="2024-05-15T01:00:00+03:00",
                                 dateModified="2024-05-15T09:00:00+03:00",
                                 isAccessibleForFree=False)
                      + "<meta property='og:image' content='/media/cape.jpg'>"),
    "west": html_page("west", "<meta property='article:published_time' "
                              "content='2024-05-14T22:00:00-05:00'>"
                              "<meta property='og:image' content='/static/site-logo.png'>"
                              "<meta name='twitter:image' content='/t/pixel.gif'>",
                      after=TEASER),
    "live": html_page("live", "<script type='application/ld+json'>" + json.dumps(
        {"@context": "https://schema.org", "@type": "LiveBlogPosting",
         "datePublished": "2024-05-14T23:30:00Z", "isAccessibleForFree": True,
         "image": {"@type": "ImageObject", "url": "https://img.example.org/storm.jpg",
                   "width": 1280, "height": 720}}) + "</script>"),
    "plain": html_page("plain", "<meta name='date' content='2024-05-14T10:00:00'>"),
}


def serve(server: HTTPServer) -> str:
    base = server.url_for("").rstrip("/")
    items = []
    for slug, body in PAGES.items():
        server.expect_request(f"/news/{slug}").respond_with_data(body, content_type="text/html")
        items.append(f"<item><title>{slug}</title><link>{base}/news/{slug}</link></item>")
    server.expect_request("/feed.xml").respond_with_data(
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Coast</title>"
        f"<link>{base}</link>{''.join(items)}</channel></rss>",
        content_type="application/rss+xml")
    return base


def sources_file(tmp_path: Path, server: HTTPServer) -> Path:
    path = tmp_path / "sources.yml"
    path.write_text(
        "http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: false, "
        "timeout_s: 5, retries: 0}\n"
        f"sources:\n- {{name: coast-news, kind: feed, location: "
        f"'{server.url_for('/feed.xml')}', language: en, min_words: 20}}\n")
    return path


def utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive (stored in UTC)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def stored(warehouse: Warehouse) -> dict[str, dict]:
    with warehouse.engine.connect() as conn:
        rows = conn.execute(select(articles.c.url, articles.c.published_at,
                                   *(articles.c[c] for c in EXTRA_COLUMNS))).mappings()
        return {r["url"].rsplit("/", 1)[1]: dict(r) for r in rows}


def check_columns(warehouse: Warehouse, base: str) -> None:
    rows = stored(warehouse)
    assert set(rows) == set(PAGES)
    east, west, live, plain = (rows[s] for s in ("east", "west", "live", "plain"))
    assert utc(east["published_at"]) == datetime(2024, 5, 14, 22, 0, tzinfo=UTC)
    assert (east["published_utc_offset_min"], east["published_local_date"]) == (
        180, date(2024, 5, 15))
    assert (utc(east["modified_at"]), east["modified_source"]) == (
        datetime(2024, 5, 15, 6, 0, tzinfo=UTC), "jsonld")
    assert (east["image_url"], east["image_source"]) == (f"{base}/media/cape.jpg", "og")
    assert (east["is_paywalled"], east["paywall_source"]) == (True, "jsonld")
    assert (east["is_liveblog"], east["liveblog_source"]) == (False, "none")

    assert utc(west["published_at"]) == datetime(2024, 5, 15, 3, 0, tzinfo=UTC)
    assert (west["published_utc_offset_min"], west["published_local_date"]) == (
        -300, date(2024, 5, 14))
    assert (west["modified_at"], west["modified_source"]) == (None, None)
    assert (west["image_url"], west["image_source"]) == (None, None)  # logo, pixel refused
    assert (west["is_paywalled"], west["paywall_source"]) == (True, "truncation")

    assert (live["is_liveblog"], live["liveblog_source"]) == (True, "jsonld")
    assert (live["is_paywalled"], live["paywall_source"]) == (False, "jsonld")
    assert (live["image_url"], live["image_source"]) == ("https://img.example.org/storm.jpg",
                                                         "jsonld")
    assert (live["published_utc_offset_min"], live["published_local_date"]) == (
        0, date(2024, 5, 14))

    # No update stated: NULL, not the published date; no zone stated: offset unknown.
    assert (plain["modified_at"], plain["modified_source"]) == (None, None)
    assert (plain["published_utc_offset_min"], plain["published_local_date"]) == (
        None, date(2024, 5, 14))
    assert (plain["is_paywalled"], plain["paywall_source"]) == (None, None)

    # The portable query of docs/fields.md: counted by the publisher's day, east is on the
    # 15th and west on the 14th, the other way round from their UTC days.
    with warehouse.engine.connect() as conn:
        by_day = conn.execute(text(
            "SELECT published_local_date AS day, COUNT(*) AS n FROM articles "
            "WHERE published_local_date IS NOT NULL "
            "GROUP BY published_local_date ORDER BY published_local_date")).all()
        flagged = conn.execute(text(
            "SELECT COUNT(*) FROM articles WHERE is_liveblog = TRUE")).scalar_one()
        in_window = conn.execute(text(
            "SELECT COUNT(*) FROM articles "
            "WHERE published_local_date BETWEEN '2024-05-15' AND '2024-05-31'")).scalar_one()
    assert [(str(day), n) for day, n in by_day] == [("2024-05-14", 3), ("2024-05-15", 1)]
    assert flagged == 1
    assert in_window == 1


@pytest.fixture
def options(tmp_path: Path) -> RunOptions:
    return RunOptions(workers=1, archive_root=str(tmp_path / "archive"))


def test_streaming_path_stores_the_extra_fields(httpserver, warehouse, tmp_path, options):
    base = serve(httpserver)
    summary = ingest(load_sources(sources_file(tmp_path, httpserver)), warehouse,
                     run_id="fields-1", options=options)
    assert summary.reports[0].balanced
    assert summary.totals()["loaded"] == len(PAGES)
    check_columns(warehouse, base)


def test_staged_path_carries_them_through_its_files(httpserver, warehouse, tmp_path, options):
    base = serve(httpserver)
    source = load_sources(sources_file(tmp_path, httpserver)).sources[0]
    root = tmp_path / "staging"
    for chunk in stage_discover(source, "fields-staged", root, options, chunk_size=2):
        stage_validate(stage_fetch_extract(chunk, source, "fields-staged", options, warehouse),
                       {source.name: source.min_words})
    [report] = stage_load("fields-staged", root, [source.name], warehouse).reports
    assert report.balanced
    check_columns(warehouse, base)


def test_reextraction_fills_the_columns_of_rows_loaded_before_them(httpserver, warehouse,
                                                                  tmp_path, options):
    """Rows loaded before migration 0008 hold NULLs; re-extraction from the raw-page archive
    (news_reextract) fills them in place."""
    base = serve(httpserver)
    source = load_sources(sources_file(tmp_path, httpserver)).sources[0]
    ingest(load_sources(sources_file(tmp_path, httpserver)), warehouse, run_id="fields-2",
           options=options)
    with warehouse.begin() as conn:
        conn.execute(articles.update().values({c: None for c in EXTRA_COLUMNS}))
    assert all(row[c] is None for row in stored(warehouse).values() for c in EXTRA_COLUMNS)
    summary = reextract(warehouse, source, run_id="fields-reextract", options=options)
    assert summary.reports[0].balanced
    check_columns(warehouse, base)


def test_migration_0008_adds_and_drops_the_columns(warehouse_url: str) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from etl.warehouse import MIGRATIONS_DIR

    wh = Warehouse(warehouse_url)
    wh.migrate("0007")
    now = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    with wh.begin() as conn:
        conn.execute(text(
            "INSERT INTO articles (article_id, url, canonical_url, source, title, text, "
            "text_sha256, word_count, ingested_at, run_id) VALUES ('a1', 'https://x.example/1', "
            "'https://x.example/1', 's', 'Lighthouse museum', 'keepers logbooks lamps', "
            "'h1', 3, :now, 'r1')"), {"now": now})
    wh.migrate()
    columns = {c["name"] for c in inspect(wh.engine).get_columns("articles")}
    assert set(EXTRA_COLUMNS) <= columns
    with wh.engine.connect() as conn:
        row = conn.execute(select(*(articles.c[c] for c in EXTRA_COLUMNS))).one()
    assert tuple(row) == (None,) * len(EXTRA_COLUMNS)  # old rows: unknown until re-extracted

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with wh.engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0007")
    columns = {c["name"] for c in inspect(wh.engine).get_columns("articles")}
    assert not set(EXTRA_COLUMNS) & columns
    with wh.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM articles")).scalar_one() == 1
        if conn.dialect.name == "sqlite":  # 0007's index still follows the table
            hits = conn.execute(text(
                "SELECT COUNT(*) FROM articles_fts WHERE articles_fts MATCH 'logbooks'"))
            assert hits.scalar_one() == 1
    wh.migrate()
    wh.dispose()
