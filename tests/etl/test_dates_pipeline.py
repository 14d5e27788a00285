"""No invented date, end to end: a feed of HTML pages on 127.0.0.1 → fetch → extract →
validate → dedup → load, on SQLite and PostgreSQL, through the streaming (CLI) path and the
staged (Airflow) path.

Every page loads. Those that state no usable date — a copyright line only, an impossible
value, a bare year, a date days ahead, a feed hint that does not parse — are stored with
published_at and date_source NULL; the refused statements are counted by reason in the
extract stage's notes (ingest_runs.stage_stats); the outcomes add up to what was discovered.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from etl.config import load_sources
from etl.extract.metadata.dates import DATE_IN_FUTURE, DATE_INCOMPLETE, DATE_UNPARSEABLE
from etl.pipeline import (
    RunOptions,
    ingest,
    stage_discover,
    stage_fetch_extract,
    stage_load,
    stage_validate,
)
from etl.sources.feeds import parse_json_feed, parse_xml_feed
from etl.warehouse.schema import articles, ingest_runs

# One story per page: near-identical texts would be near-duplicates of each other.
STORIES = {
    "copyright": "The harbour committee met on Tuesday evening to discuss the winter ferry "
                 "timetable and the repairs to the old wooden pier on the north side of the "
                 "bay. Residents of the two islands asked for an earlier first crossing.",
    "impossible": "A bakery on the market square has started selling bread made from grain "
                  "grown in the valley, after three farmers agreed to mill their harvest "
                  "together. The owner says customers queue before seven every morning.",
    "year-only": "The town library will open on Sunday afternoons from next month, the "
                 "culture committee decided unanimously after students complained that the "
                 "reading rooms were overcrowded during the examination weeks.",
    "future": "Volunteers planted four hundred oak saplings along the river embankment on "
              "Saturday, replacing trees lost in the spring floods. The forestry office will "
              "water them through the summer and count the survivors in autumn.",
    "hours-ahead": "The regional rail operator confirmed that night trains between the two "
                   "valley towns will run every thirty minutes from the winter timetable, a "
                   "change commuter groups have requested for three years.",
    "control": "A retired teacher has catalogued every bird species seen in the marshes "
               "since records began, publishing a field guide with drawings by pupils of "
               "the village school. The first printing sold out within a week.",
    "hinted": "The swimming pool reopens after a two-year renovation with a new roof, solar "
              "panels that heat the water, and a shallow basin for children. Season tickets "
              "go on sale at the town hall from Monday morning.",
}


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def html_page(slug: str, title: str, head: str = "", footer: str = "") -> str:
    body = "".join(f"<p>{sentence}.</p>" for sentence in STORIES[slug].split(". "))
    return (f"<html lang='en'><head><meta charset='utf-8'><title>{title}</title>{head}</head>"
            f"<body><article><h1>{title}</h1><p>{title}.</p>{body}</article>"
            f"<footer>{footer}</footer></body></html>")


def published(value: str) -> str:
    return f'<meta property="article:published_time" content="{value}">'


def pages(now: datetime) -> dict[str, tuple[str, str | None]]:
    """slug → (page, the feed entry's <pubDate> text or None)."""
    recent = now - timedelta(days=2)
    return {
        # copyright line only; the feed's date does not parse (feedparser rolled it into 2027)
        "copyright": (html_page("copyright", "Copyright only",
                                footer="<p>© Example News 2009-2024</p>"),
                      "2026-13-45T25:61"),
        "impossible": (html_page("impossible", "Impossible date",
                                 published("2026-13-45T25:61")),
                       "Mon, 45 Foo 2026 25:61:00 GMT"),
        "year-only": (html_page("year-only", "Year only", "<meta name='date' content='2025'>"),
                      "2025"),
        "future": (html_page("future", "Days ahead",
                             published(iso(now + timedelta(days=3)))), None),
        "hours-ahead": (html_page("hours-ahead", "Hours ahead",
                                  published(iso(now + timedelta(hours=5)))), None),
        "control": (html_page("control", "Stated date", published(iso(recent))), None),
        "hinted": (html_page("hinted", "Hint only"),
                   recent.strftime("%a, %d %b %Y %H:%M:%S GMT")),
    }


def serve(server: HTTPServer, now: datetime) -> None:
    base = server.url_for("").rstrip("/")
    items = []
    for slug, (body, pub_date) in pages(now).items():
        server.expect_request(f"/news/{slug}").respond_with_data(body, content_type="text/html")
        date = f"<pubDate>{pub_date}</pubDate>" if pub_date else ""
        items.append(f"<item><title>{slug}</title><link>{base}/news/{slug}</link>{date}</item>")
    server.expect_request("/feed.xml").respond_with_data(
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Local</title>"
        f"<link>{base}</link>{''.join(items)}</channel></rss>",
        content_type="application/rss+xml")


def sources_file(tmp_path: Path, server: HTTPServer) -> Path:
    path = tmp_path / "sources.yml"
    path.write_text(
        "http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: false, "
        "timeout_s: 5, retries: 0}\n"
        f"sources:\n- {{name: local-news, kind: feed, location: "
        f"'{server.url_for('/feed.xml')}', language: en, min_words: 20}}\n")
    return path


def check_run(warehouse, run_id: str, now: datetime) -> None:
    with warehouse.engine.connect() as conn:
        run = conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == run_id)
                           ).mappings().one()
        rows = {r.url.rsplit("/", 1)[1]: r for r in conn.execute(
            select(articles.c.url, articles.c.published_at, articles.c.date_source))}
    outcomes = ("loaded", "duplicates", "rejected", "failed", "not_modified")
    assert run["discovered"] == sum(run[c] for c in outcomes) == 7
    assert run["loaded"] == 7, ("an undated article still loads", dict(run))
    for slug in ("copyright", "impossible", "year-only", "future"):
        assert (rows[slug].published_at, rows[slug].date_source) == (None, None), slug
    assert rows["hours-ahead"].date_source == "og"
    assert rows["control"].date_source == "og"
    assert rows["hinted"].date_source == "hint"
    stored = rows["control"].published_at
    stored = stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored
    assert stored == (now - timedelta(days=2)).replace(microsecond=0)
    [extract] = [s for s in run["stage_stats"] if s["stage"] == "extract"]
    dates = {k: v for k, v in extract["notes"].items() if not k.startswith("charset_")}
    assert dates == {DATE_UNPARSEABLE: 1, DATE_INCOMPLETE: 1, DATE_IN_FUTURE: 1}


@pytest.fixture
def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def test_undated_pages_load_with_null_date_and_counted_reasons(httpserver, warehouse,
                                                                tmp_path, now):
    serve(httpserver, now)
    sources = load_sources(sources_file(tmp_path, httpserver))
    summary = ingest(sources, warehouse, run_id="dates-1",
                     options=RunOptions(workers=1, archive_root=str(tmp_path / "archive")))
    assert summary.reports[0].balanced
    check_run(warehouse, "dates-1", now)


def test_staged_path_merges_the_date_notes_of_its_chunks(httpserver, warehouse, tmp_path,
                                                         now):
    serve(httpserver, now)
    source = load_sources(sources_file(tmp_path, httpserver)).sources[0]
    root = tmp_path / "staging"
    options = RunOptions(workers=1, archive_root=str(tmp_path / "archive"))
    for chunk in stage_discover(source, "dates-staged", root, options, chunk_size=3):
        stage_validate(stage_fetch_extract(chunk, source, "dates-staged", options, warehouse),
                       {source.name: source.min_words})
    [report] = stage_load("dates-staged", root, [source.name], warehouse).reports
    assert report.balanced
    check_run(warehouse, "dates-staged", now)


@pytest.mark.parametrize("value", ["2026-13-45T25:61", "2026-02-30T10:00:00Z", "2025",
                                   "2025-06", "Mon, 45 Foo 2026 25:61:00 GMT", "soon"])
def test_feed_entries_with_no_full_valid_date_are_undated(value: str) -> None:
    """feedparser rounds "2025" to 1 January and rolls "2026-13-45" into 2027; the hint
    must be the entry's own text, parsed strictly, or nothing."""
    rss = (f"<rss version='2.0'><channel><title>t</title><item><title>a</title>"
           f"<link>http://news.example.org/a</link><pubDate>{value}</pubDate></item>"
           f"</channel></rss>").encode()
    atom = (f"<feed xmlns='http://www.w3.org/2005/Atom'><title>t</title><entry><title>a"
            f"</title><link href='http://news.example.org/a'/><published>{value}</published>"
            f"<updated>{value}</updated></entry></feed>").encode()
    json_feed = json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [
        {"url": "http://news.example.org/a", "date_published": value}]}).encode()
    for entries in (parse_xml_feed(rss, "http://news.example.org/"),
                    parse_xml_feed(atom, "http://news.example.org/"),
                    parse_json_feed(json_feed, "http://news.example.org/")):
        assert [e.published for e in entries] == [None]
