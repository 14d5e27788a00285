import hashlib

import pytest
from support.stories import STORIES

from etl.dedup.canonical import CanonicalTracker, is_site_root
from etl.dedup.exact import ExactDedupStage
from etl.records import Article, Dropped, Outcome
from etl.warehouse.load import article_id_for


def art(url: str, text_hash: str, canonical: str | None = None) -> Article:
    return Article(url=url, source="s", canonical_url=canonical or url, text_sha256=text_hash,
                   text="t", title="t")


class StoredRows:
    """The stored side of one load transaction, as given rows and texts."""

    def __init__(self, rows=(), texts=None) -> None:
        self.rows = rows
        self.lookup_texts = texts

    def matching(self, *_keys) -> list[dict]:
        return [dict(r) for r in self.rows]

    def texts(self, article_ids) -> dict[str, str]:
        return self.lookup_texts(article_ids) if self.lookup_texts else {}


class Checker:
    """The exact stage checking batches against the same stored rows."""

    def __init__(self, stored=(), texts=None, tracker=None, run_id="r2") -> None:
        self.drops: list[Dropped] = []
        self.stage = ExactDedupStage(self.drops.append, run_id=run_id, canonicals=tracker)
        self.stored = StoredRows(stored, texts)
        self.resets: list[tuple[str, str, str]] = []

    def __call__(self, batch) -> list[Article]:
        checked = self.stage.check(list(batch), self.stored)
        self.resets = checked.canonical_resets
        return checked.kept

    @property
    def stats(self):
        return self.stage.stats

    def take_canonical_resets(self) -> list[tuple[str, str, str]]:
        """The canonical resets of the last batch checked."""
        return self.resets


def run(batch, stored=(), run_id="r2"):
    check = Checker(stored, run_id=run_id)
    return check(batch), check.drops


def test_in_batch_repeats_by_canonical_url_and_text() -> None:
    kept, drops = run([art("https://a/1", "h1"), art("https://a/1?utm_source=x", "h2",
                                                     "https://a/1"), art("https://b/9", "h1")])
    assert [a.url for a in kept] == ["https://a/1"]
    assert [(d.outcome, d.duplicate_kind, d.duplicate_of) for d in drops] == [
        (Outcome.DUPLICATE, "url", article_id_for("https://a/1")),
        (Outcome.DUPLICATE, "text", article_id_for("https://a/1"))]


def test_against_the_warehouse_unchanged_is_not_modified() -> None:
    stored = [{"article_id": "A", "url": "https://a/1", "canonical_url": "https://a/1",
               "text_sha256": "h1", "cluster_id": None, "run_id": "r1"}]
    kept, drops = run([art("https://a/1", "h1"), art("https://c/2", "h1"),
                       art("https://a/1", "h9")], stored)
    assert kept == []
    assert [(d.outcome, d.reasons) for d in drops] == [
        (Outcome.NOT_MODIFIED, ["unchanged"]), (Outcome.DUPLICATE, ["duplicate_text"]),
        (Outcome.DUPLICATE, ["duplicate_url"])]


def test_retry_of_the_same_run_forwards_what_it_already_stored() -> None:
    stored = [{"article_id": "A", "url": "https://a/1", "canonical_url": "https://a/1",
               "text_sha256": "h1", "cluster_id": None, "run_id": "r1"}]
    kept, drops = run([art("https://a/1", "h1")], stored, run_id="r1")
    assert [a.url for a in kept] == ["https://a/1"] and drops == []


# --- Canonical links: adopted only when plausible (etl.dedup.canonical) ---------------


@pytest.mark.parametrize(("url", "root"), [
    ("https://example.com", True), ("https://example.com/", True),
    ("https://example.com/?lang=en&page=1", True), ("https://example.com/index.html", True),
    ("https://example.com/Default.aspx", True), ("https://example.com/home/", True),
    ("https://example.com/news/", False), ("https://example.com/2026/11/ferry", False),
    ("https://example.com/?p=123#x", True), ("https://example.com/homes-for-sale", False),
    ("file:///data/index.html", False), ("not a url", False),
])
def test_site_root(url: str, root: bool) -> None:
    assert is_site_root(url) is root


def story(url: str, name: str, canonical: str | None = None, extra: str = "") -> Article:
    body = "\n".join(STORIES[name]) + extra
    return Article(url=url, source="s", canonical_url=canonical or url, text=body, title=name,
                   text_sha256=hashlib.sha256(body.encode()).hexdigest())


def stage_with(stored=(), texts=None, tracker=None, run_id="r2"):
    check = Checker(stored, texts, tracker, run_id)
    return check, check.drops


def row_of(article: Article, run_id: str = "r1", canonical: str | None = None) -> dict:
    return {"article_id": article_id_for(article.url), "url": article.url,
            "canonical_url": canonical or article.canonical_url,
            "text_sha256": article.text_sha256, "cluster_id": None, "run_id": run_id}


def test_a_root_canonical_is_refused_and_counted() -> None:
    stage, drops = stage_with()
    batch = [story(f"https://example.com/news/{n}", n, "https://example.com/")
             for n in ("ferry", "bakery", "wetland")]
    kept = list(stage(batch))
    assert drops == [] and [a.canonical_url for a in kept] == [a.url for a in batch]
    assert stage.stats.notes == {"canonical_is_root": 3}


def test_a_section_canonical_is_withdrawn_from_every_story_of_the_run() -> None:
    tracker = CanonicalTracker()
    section = "https://example.com/news/"
    first, drops = stage_with(tracker=tracker)
    [ferry] = list(first([story("https://example.com/news/ferry", "ferry", section)]))
    assert ferry.canonical_url == section  # alone so far: adopted
    assert first.take_canonical_resets() == []

    # A later batch (or another source of the run) meets a second story claiming it.
    second, drops = stage_with(tracker=tracker)
    batch = [story("https://example.com/news/bakery", "bakery", section),
             story("https://example.com/news/wetland", "wetland", section)]
    kept = list(second(batch))
    assert drops == [] and [a.canonical_url for a in kept] == [a.url for a in batch]
    assert second.stats.notes == {"canonical_shared": 3}
    assert second.take_canonical_resets() == [
        (article_id_for(ferry.url), section, ferry.url)]


def test_shared_canonical_found_from_rows_an_earlier_attempt_stored() -> None:
    """No tracker knowledge (a retried load task): this run's stored rows count."""
    section = "https://example.com/news/"
    ferry = story("https://example.com/news/ferry", "ferry", section)
    stage, drops = stage_with([row_of(ferry, run_id="r2")], run_id="r2")
    [bakery] = list(stage([story("https://example.com/news/bakery", "bakery", section)]))
    assert bakery.canonical_url == bakery.url and drops == []
    assert stage.stats.notes == {"canonical_shared": 2}
    assert stage.take_canonical_resets() == [(article_id_for(ferry.url), section, ferry.url)]


def test_a_stored_articles_canonical_claimed_with_another_text() -> None:
    ferry = story("https://example.com/news/ferry", "ferry")
    texts = {article_id_for(ferry.url): ferry.text}
    stage, drops = stage_with([row_of(ferry)], texts=lambda ids: {
        i: texts[i] for i in ids if i in texts})
    other = story("https://example.com/news/bakery", "bakery", ferry.url)
    printed = story("https://example.com/print/ferry", "ferry", ferry.url,
                    "\nPrinted from the island news website.")
    kept = list(stage([other, printed]))
    assert [a.url for a in kept] == [other.url] and other.canonical_url == other.url
    assert stage.stats.notes == {"canonical_text_differs": 1}
    [dup] = drops
    assert (dup.article.url, dup.reasons, dup.duplicate_of) == (
        printed.url, ["duplicate_url"], article_id_for(ferry.url))
    assert 0.5 <= dup.similarity < 1.0


def test_same_page_under_tracking_parameters_is_a_duplicate_whatever_its_text() -> None:
    ferry = story("https://example.com/news/ferry", "ferry")
    stage, drops = stage_with([row_of(ferry)])
    updated = story("https://example.com/news/ferry?utm_source=feed", "bakery",
                    "https://example.com/news/ferry")
    assert list(stage([updated])) == []
    assert [(d.reasons, d.duplicate_of) for d in drops] == [
        (["duplicate_url"], article_id_for(ferry.url))]
    assert stage.stats.notes == {}


def test_canonical_decided_for_a_retried_item_too() -> None:
    """A replay (forwarded again) with a root canonical stored by an older version."""
    page = story("https://example.com/news/ferry", "ferry", "https://example.com/")
    stored_row = row_of(page, run_id="r2")
    stage, drops = stage_with([stored_row], run_id="r2")
    [kept] = list(stage([page]))
    assert kept.canonical_url == kept.url and drops == []
    assert stage.take_canonical_resets() == [
        (article_id_for(page.url), "https://example.com/", page.url)]


def test_pages_of_a_story_claiming_its_first_page_leave_the_owner_alone() -> None:
    """Pages 2 and 3 name page 1 as their canonical: page 1 is the owner of that URL, so it
    keeps it; the pages load; a copy of page 1 is still its duplicate."""
    first = story("https://example.com/news/ferry", "ferry")
    texts = {article_id_for(first.url): first.text}
    stage, drops = stage_with([row_of(first, run_id="r2")], run_id="r2",
                              texts=lambda ids: {i: texts[i] for i in ids if i in texts})
    pages = [story(f"https://example.com/news/ferry?page={n}", name, first.url)
             for n, name in ((2, "bakery"), (3, "wetland"))]
    copy = story("https://example.com/amp/news/ferry", "ferry", first.url,
                 "\nOpen the full site for more island news.")
    kept = list(stage([*pages, copy]))
    assert [a.url for a in kept] == [p.url for p in pages]
    assert [a.canonical_url for a in kept] == [p.url for p in pages]
    assert stage.stats.notes == {"canonical_text_differs": 1, "canonical_shared": 1}
    assert stage.take_canonical_resets() == []  # page 1 holds its own URL: nothing to undo
    [dup] = drops
    assert (dup.article.url, dup.reasons, dup.duplicate_of) == (
        copy.url, ["duplicate_url"], article_id_for(first.url))
