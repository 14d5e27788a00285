"""Re-extraction replaces an article's near-duplicate signature and band keys with its text.

A page is loaded, then re-extracted from the archive with a new boilerplate rule, so its
stored text changes a lot. Copies of the NEW text must then be near duplicates of it and
copies of the OLD text must load: the near-duplicate index describes the text the
warehouse holds. Text, signature and band keys change in one transaction, or not at all.
Every test runs on SQLite and PostgreSQL, against pages served by a local HTTP server.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select, text
from support.stories import ARCHIVE_NOTES, STORIES, story_page

from etl.config import SourceConfig, load_sources
from etl.dedup.minhash import band_keys, signature, signature_to_bytes
from etl.pipeline import RunOptions, ingest, reextract
from etl.warehouse.load import article_id_for
from etl.warehouse.schema import (
    article_bands,
    article_duplicates,
    article_signatures,
    articles,
    ingest_runs,
)

FERRY = STORIES["ferry"]
# The archived page: the story plus a long "Archive note" block, longer than the story.
OLD_PAGE = [*FERRY, *ARCHIVE_NOTES]
NOTES_RULE = re.compile(r"^Archive note")


def options(tmp_path: Path) -> RunOptions:
    """Loads and re-extractions of one test share its archive; no Data Docs (never read
    here: the validation results stay in the warehouse)."""
    return RunOptions(workers=1, archive_root=str(tmp_path / "archive"), data_docs=False)


def sources_file(tmp_path: Path, name: str, urls: list[str], extra: str = "") -> Path:
    path = tmp_path / f"{name}.yml"
    path.write_text(
        "http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: false, "
        "timeout_s: 2, retries: 0}\n"
        f"sources:\n- {{name: {name}, kind: urls, language: en, "
        f"urls: [{', '.join(map(repr, urls))}]{extra}}}\n")
    return path


def serve(server: HTTPServer, path: str, title: str, paragraphs: list[str]) -> str:
    server.expect_request(path).respond_with_data(story_page(title, paragraphs),
                                                  content_type="text/html")
    return server.url_for(path)


def load_ferry(server: HTTPServer, warehouse, tmp_path: Path, extra: str = "") -> tuple[
        SourceConfig, str]:
    """Run 1: the ferry page with its archive notes is loaded; returns the source, URL."""
    url = serve(server, "/news/ferry", "Island ferry back on its timetable", OLD_PAGE)
    sources = load_sources(sources_file(tmp_path, "island", [url], extra))
    summary = ingest(sources, warehouse, run_id="load-1", options=options(tmp_path))
    assert summary.reports[0].outcomes["loaded"] == 1
    return sources.sources[0], url


def stored(warehouse, url: str) -> tuple[str, bytes | None, set[int]]:
    """(text, signature bytes, band keys) the warehouse holds for one article."""
    article_id = article_id_for(url)
    with warehouse.engine.connect() as conn:
        body = conn.execute(select(articles.c.text).where(articles.c.url == url)).scalar_one()
        sig = conn.execute(select(article_signatures.c.signature).where(
            article_signatures.c.article_id == article_id)).scalar_one_or_none()
        keys = set(conn.execute(select(article_bands.c.band_key).where(
            article_bands.c.article_id == article_id)).scalars())
    return body, (bytes(sig) if sig is not None else None), keys


def index_of(body: str) -> tuple[bytes | None, set[int]]:
    """What the near-duplicate index must hold for a text."""
    sig = signature(body)
    return (signature_to_bytes(sig), set(band_keys(sig))) if sig is not None else (None, set())


def ingest_copies(server: HTTPServer, warehouse, tmp_path: Path) -> dict[str, str]:
    """Run 2: a near copy of the re-extracted text and a near copy of the archived one."""
    urls = {
        "new": serve(server, "/syndicated/ferry", "Ferry returns", [
            "Island Herald | Transport desk", *FERRY, "Share this story with your friends."]),
        "old": serve(server, "/archive-copy/ferry", "Ferry returns (archive)", [
            *OLD_PAGE, "Share this story with your friends."]),
    }
    ingest(load_sources(sources_file(tmp_path, "copies", list(urls.values()))), warehouse,
           run_id="copies-1", options=options(tmp_path))
    with warehouse.engine.connect() as conn:
        run = conn.execute(select(ingest_runs).where(ingest_runs.c.run_id == "copies-1")
                           ).mappings().one()
    assert run["discovered"] == sum(run[k] for k in (
        "loaded", "duplicates", "rejected", "failed", "not_modified"))
    return urls


def test_copies_are_judged_against_the_reextracted_text(httpserver, warehouse, tmp_path):
    source, url = load_ferry(httpserver, warehouse, tmp_path)
    old_text, old_sig, old_keys = stored(warehouse, url)
    assert "Archive note" in old_text and (old_sig, old_keys) == index_of(old_text)

    httpserver.clear()  # re-extraction reads the archive, not the site
    summary = reextract(warehouse, replace(source, boilerplate=(NOTES_RULE,)),
                        run_id="reextract-1", options=options(tmp_path))
    report = summary.reports[0]
    assert report.balanced and report.outcomes["loaded"] == 1
    new_text, new_sig, new_keys = stored(warehouse, url)
    assert "Archive note" not in new_text and "winter timetable" in new_text
    # The index holds exactly the new text's signature and bands, nothing of the old.
    assert (new_sig, new_keys) == index_of(new_text)
    assert old_keys != new_keys
    with warehouse.engine.connect() as conn:
        assert conn.execute(select(article_signatures)).all().__len__() == 1
        assert set(conn.execute(select(article_bands.c.band_key)).scalars()) == new_keys

    copies = ingest_copies(httpserver, warehouse, tmp_path)
    with warehouse.engine.connect() as conn:
        dups = {r.url: r for r in conn.execute(select(article_duplicates))}
        loaded = set(conn.execute(select(articles.c.url)).scalars())
    assert set(dups) == {copies["new"]}
    assert (dups[copies["new"]].kind, dups[copies["new"]].duplicate_of) == (
        "near", article_id_for(url))
    assert loaded == {url, copies["old"]}


def test_a_text_too_short_to_judge_drops_the_old_signature(httpserver, warehouse, tmp_path):
    """The re-extracted text falls below the near-check minimum: no signature at all."""
    source, url = load_ferry(httpserver, warehouse, tmp_path, ", min_words: 10")
    httpserver.clear()
    rules = (NOTES_RULE, re.compile(r"^Passengers who"), re.compile(r"^The operator said"))
    reextract(warehouse, replace(source, boilerplate=rules), run_id="reextract-short",
              options=options(tmp_path))
    new_text, new_sig, new_keys = stored(warehouse, url)
    assert signature(new_text) is None and (new_sig, new_keys) == (None, set())

    copies = ingest_copies(httpserver, warehouse, tmp_path)
    with warehouse.engine.connect() as conn:
        loaded = set(conn.execute(select(articles.c.url)).scalars())
    assert copies["old"] in loaded  # nothing left that holds the old text


def _refuse_band_inserts(warehouse) -> None:
    """A fault in the middle of the load transaction: writing band keys fails."""
    with warehouse.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text(
                "CREATE FUNCTION refuse_bands() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'injected fault: band keys'; END $$"))
            conn.execute(text("CREATE TRIGGER refuse_bands BEFORE INSERT ON article_bands "
                              "FOR EACH ROW EXECUTE FUNCTION refuse_bands()"))
        else:
            conn.execute(text("CREATE TRIGGER refuse_bands BEFORE INSERT ON article_bands "
                              "BEGIN SELECT RAISE(ABORT, 'injected fault: band keys'); END"))


def test_text_and_index_change_together_or_not_at_all(httpserver, warehouse, tmp_path):
    source, url = load_ferry(httpserver, warehouse, tmp_path)
    before = stored(warehouse, url)
    httpserver.clear()
    _refuse_band_inserts(warehouse)
    with pytest.raises(Exception, match="injected fault"):
        reextract(warehouse, replace(source, boilerplate=(NOTES_RULE,)),
                  run_id="reextract-fault", options=options(tmp_path))
    assert stored(warehouse, url) == before  # old text, old signature, old bands
