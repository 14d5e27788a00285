"""Canonical links are adopted only when plausible for an article (pipeline level).

A CMS that points every page's canonical link at the homepage or at a section page must
not turn different stories into `duplicate_url`; a page claiming a stored article's URL as
its canonical with another text is its own article. True canonical duplicates (the same
story under tracking parameters, an AMP or print copy) stay duplicates. Pages are served
by a local HTTP server; every test runs on SQLite and PostgreSQL and checks the accounting.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from support.stories import STORIES, canonical_link, story_page

from etl.config import load_sources
from etl.pipeline import (
    RunOptions,
    ingest,
    stage_discover,
    stage_fetch_extract,
    stage_load,
    stage_validate,
)
from etl.warehouse.schema import article_duplicates, articles, ingest_runs

# Data Docs are never read here (the validation results stay in the warehouse); building
# them would be most of a small run's CPU.
QUIET = RunOptions(workers=1, data_docs=False)


def sources_file(tmp_path: Path, lists: dict[str, list[str]]) -> Path:
    path = tmp_path / "sources.yml"
    entries = "".join(
        f"- {{name: {name}, kind: urls, language: en, urls: [{', '.join(map(repr, urls))}]}}\n"
        for name, urls in lists.items())
    path.write_text(
        "http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: false, "
        "timeout_s: 2, retries: 0}\n"
        f"sources:\n{entries}")
    return path


def serve(server: HTTPServer, path: str, story: str, head: str = "",
          extra: list[str] | None = None) -> str:
    server.expect_request(path).respond_with_data(
        story_page(story.title(), [*STORIES[story], *(extra or [])], head),
        content_type="text/html")
    return server.url_for(path)


def run_rows(warehouse, run_id: str) -> list[dict]:
    with warehouse.engine.connect() as conn:
        return [dict(r) for r in conn.execute(
            select(ingest_runs).where(ingest_runs.c.run_id == run_id)).mappings()]


def assert_accounted(warehouse, run_id: str) -> dict[str, int]:
    """discovered == sum of outcomes for every source of the run; returns the totals."""
    totals = {"discovered": 0, "loaded": 0, "duplicates": 0, "rejected": 0, "failed": 0,
              "not_modified": 0}
    rows = run_rows(warehouse, run_id)
    assert rows
    for row in rows:
        outcomes = [row[k] for k in ("loaded", "duplicates", "rejected", "failed",
                                     "not_modified")]
        assert row["discovered"] == sum(outcomes), row
        for key in totals:
            totals[key] += row[key]
    return totals


def canonical_notes(warehouse, run_id: str) -> dict[str, int]:
    """The refused-canonical counters of the run's dedup stage, summed over its sources."""
    notes: dict[str, int] = {}
    for row in run_rows(warehouse, run_id):
        for stage in row["stage_stats"]:
            if stage["stage"] == "dedup_exact":
                for reason, count in (stage.get("notes") or {}).items():
                    notes[reason] = notes.get(reason, 0) + count
    return notes


def stored_canonicals(warehouse) -> dict[str, str]:
    with warehouse.engine.connect() as conn:
        return {url: canonical for url, canonical in conn.execute(
            select(articles.c.url, articles.c.canonical_url))}


# Ways a CMS names the site root as every page's canonical (relative to the server's base).
HOMEPAGE_FORMS = {
    "slash": lambda base: canonical_link(base + "/"),
    "og_url_bare_host": lambda base: f"<meta property='og:url' content='{base}'>",
    "query": lambda base: canonical_link(base + "/?lang=en"),
    "index_document": lambda base: canonical_link(base + "/index.php"),
    "relative": lambda base: canonical_link("/"),
}


@pytest.mark.parametrize("form", HOMEPAGE_FORMS)
def test_homepage_canonical_does_not_merge_different_stories(httpserver, warehouse,
                                                             tmp_path, form):
    head = HOMEPAGE_FORMS[form](httpserver.url_for("/").rstrip("/"))
    names = ["ferry", "bakery", "observatory", "marathon", "orchestra"]
    urls = [serve(httpserver, f"/news/{name}", name, head) for name in names]
    sources = load_sources(sources_file(tmp_path, {"site": urls}))
    ingest(sources, warehouse, run_id="root-1", options=QUIET)

    totals = assert_accounted(warehouse, "root-1")
    assert (totals["discovered"], totals["loaded"], totals["duplicates"]) == (5, 5, 0)
    assert canonical_notes(warehouse, "root-1") == {"canonical_is_root": 5}
    # Stored under their own URL, not the homepage.
    assert stored_canonicals(warehouse) == {u: u for u in urls}


@pytest.mark.parametrize("batch_size", [1, 200])
def test_section_canonical_shared_by_stories_of_a_run(httpserver, warehouse, tmp_path,
                                                      batch_size):
    section = httpserver.url_for("/news/")
    names = ["ferry", "bakery", "observatory"]
    urls = [serve(httpserver, f"/news/2026/{n}", n, canonical_link(section)) for n in names]
    # Two sources of one run list pages of the same site.
    sources = load_sources(sources_file(tmp_path, {"front": urls[:1], "local": urls[1:]}))
    ingest(sources, warehouse, run_id="section-1",
           options=replace(QUIET, batch_size=batch_size))

    totals = assert_accounted(warehouse, "section-1")
    assert (totals["discovered"], totals["loaded"], totals["duplicates"]) == (3, 3, 0)
    # The first page's canonical is withdrawn too, once a second story claims it.
    assert canonical_notes(warehouse, "section-1") == {"canonical_shared": 3}
    assert stored_canonicals(warehouse) == {u: u for u in urls}


def test_section_canonical_shared_across_chunks_in_the_staged_path(httpserver, warehouse,
                                                                   tmp_path):
    """The Airflow path: one chunk per item, each fetched and validated on its own, then
    one load step per run."""
    section = httpserver.url_for("/news/")
    names = ["marathon", "wetland", "orchestra"]
    urls = [serve(httpserver, f"/news/2026/{n}", n, canonical_link(section)) for n in names]
    source = load_sources(sources_file(tmp_path, {"site": urls})).sources[0]
    root = tmp_path / "staging"
    options = replace(QUIET, archive=False)
    chunks = stage_discover(source, "staged-1", root, options, chunk_size=1)
    assert len(chunks) == 3
    for chunk in chunks:
        stage_validate(stage_fetch_extract(chunk, source, "staged-1", options, warehouse))
    stage_load("staged-1", root, ["site"], warehouse, batch_size=1, options=options)

    totals = assert_accounted(warehouse, "staged-1")
    assert (totals["discovered"], totals["loaded"], totals["duplicates"]) == (3, 3, 0)
    assert canonical_notes(warehouse, "staged-1") == {"canonical_shared": 3}
    assert stored_canonicals(warehouse) == {u: u for u in urls}


def test_true_canonical_duplicates_stay_duplicates(httpserver, warehouse, tmp_path):
    story_url = httpserver.url_for("/news/ferry")
    own = serve(httpserver, "/news/ferry", "ferry", canonical_link(story_url))
    # Tracking parameters: another URL for the same page.
    tracked = own + "?utm_source=feed&utm_medium=rss"
    # An AMP copy with its own chrome and one more line: a different text hash, same story.
    amp = serve(httpserver, "/amp/news/ferry", "ferry", canonical_link(story_url),
                extra=["Tap here to open the full site for more island news."])
    # A print copy that states the canonical only through og:url.
    printed = serve(httpserver, "/print/news/ferry", "ferry",
                    f"<meta property='og:url' content='{story_url}'>")
    sources = load_sources(sources_file(tmp_path, {"site": [own, tracked, amp, printed]}))
    ingest(sources, warehouse, run_id="true-1", options=QUIET)

    totals = assert_accounted(warehouse, "true-1")
    assert (totals["discovered"], totals["loaded"], totals["duplicates"]) == (4, 1, 3)
    with warehouse.engine.connect() as conn:
        dups = {r.url: r for r in conn.execute(select(article_duplicates))}
    assert set(dups) == {tracked, amp, printed}
    assert {r.kind for r in dups.values()} == {"url"}
    assert dups[printed].similarity == 1.0 and dups[tracked].similarity == 1.0
    assert 0.5 <= dups[amp].similarity < 1.0  # measured, not assumed
    assert canonical_notes(warehouse, "true-1") == {}


def test_page_claiming_a_stored_articles_canonical_with_other_text(httpserver, warehouse,
                                                                   tmp_path):
    ferry = serve(httpserver, "/news/ferry", "ferry")
    sources = load_sources(sources_file(tmp_path, {"site": [ferry]}))
    ingest(sources, warehouse, run_id="claim-1", options=QUIET)

    # A later run: a different story whose CMS copied the ferry page's canonical, and a
    # print copy of the ferry story that legitimately names it.
    other = serve(httpserver, "/news/bakery", "bakery", canonical_link(ferry))
    printed = serve(httpserver, "/print/ferry", "ferry", canonical_link(ferry),
                    extra=["Printed from the island news website."])
    sources = load_sources(sources_file(tmp_path, {"site": [other, printed]}))
    ingest(sources, warehouse, run_id="claim-2", options=QUIET)

    totals = assert_accounted(warehouse, "claim-2")
    assert (totals["discovered"], totals["loaded"], totals["duplicates"]) == (2, 1, 1)
    assert canonical_notes(warehouse, "claim-2") == {"canonical_text_differs": 1}
    assert stored_canonicals(warehouse) == {ferry: ferry, other: other}
    with warehouse.engine.connect() as conn:
        [dup] = conn.execute(select(article_duplicates)).all()
    assert (dup.url, dup.kind) == (printed, "url") and dup.similarity < 1.0
