"""One source's revisit run: the pieces the chain's steps are built with (etl.pipeline.chain,
`RunContext.revisions`).

- the source: the stored articles due (etl.revisit.store), as Articles to fetch;
- fetch: with `RevisitLedger` (conditional GET from the fetch ledger, no skip of loaded
  URLs) and `GoneSink`, which keeps the pages answering 404/410 for the load instead of
  failing them;
- extract: the same extract stage as any run;
- `DetectChanges`: unchanged → not_modified; changed → forwarded, its change noted;
- validate: the same validation; a revision that fails is quarantined (article_rejects)
  and the current version stays;
- load: the same loader with replace_existing (signatures, band keys and full-text search
  follow the new text, as on re-extraction), which calls `write_versions` before a row
  changes and `write_gone` once the stream is over.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from etl.config import SourceConfig
from etl.fetch.ledger import FetchLedger
from etl.pipeline.accounting import OutcomeBuffer, Sink
from etl.records import Article, Dropped, Outcome, Stage
from etl.revisit.changes import Change, compare, same_title
from etl.revisit.schedule import next_revisit
from etl.revisit.store import (
    StoredArticle,
    add_version,
    current_rows,
    due_articles,
    set_article_state,
    stored_text,
    write_schedule,
)
from etl.warehouse import Warehouse

GONE_REASONS = frozenset({"http_404", "http_410"})


class RevisitLedger(FetchLedger):
    """The fetch ledger as a revisit uses it: every due URL is fetched (it is loaded, that
    is the point), the failure backoff does not hold a scheduled revisit back, and a page
    that was unpublished is fetched whole, so its return is seen even when its body is
    the one stored before."""

    def __init__(self, warehouse: Warehouse, source: str, run_id: str,
                 stored: dict[str, StoredArticle]) -> None:
        super().__init__(warehouse, source, run_id=run_id)
        self.stored = stored

    def _unpublished(self, url: str) -> bool:
        item = self.stored.get(url)
        return item is not None and item.unpublished_at is not None

    def already_loaded(self, urls: list[str]) -> set[str]:
        return set()

    def waiting(self, url: str, now: datetime | None = None) -> bool:
        return False

    def validators(self, url: str) -> tuple[str | None, str | None]:
        return (None, None) if self._unpublished(url) else super().validators(url)

    def unchanged(self, url: str, body: bytes) -> bool:
        return False if self._unpublished(url) else super().unchanged(url, body)


class GoneSink:
    """The fetch stage's sink on a revisit: a 404/410 is no failure but an answer (the
    story was pulled); those pages are kept for the load, everything else goes on."""

    def __init__(self, sink: Sink, gone: list[Article]) -> None:
        self.sink = sink
        self.gone = gone
        self.counts = sink.counts

    def __call__(self, dropped: Dropped) -> None:
        if dropped.outcome is Outcome.FAILED and set(dropped.reasons) & GONE_REASONS:
            self.gone.append(dropped.article)
        else:
            self.sink(dropped)


class DetectChanges(Stage):
    """Compare each revisited page's extracted title and text with the stored version."""

    name = "detect_changes"

    def __init__(self, sink: Sink, state: RevisitState) -> None:
        super().__init__(sink)
        self.state = state

    def process(self, items: Iterable[Article]) -> Iterator[Article]:
        for article in items:
            stored = self.state.stored[article.url]
            was_unpublished = stored.unpublished_at is not None
            if (article.text_sha256 == stored.text_sha256 and not was_unpublished
                    and same_title(stored.title, article.title)):
                self.drop(article, Outcome.NOT_MODIFIED, "unchanged_text")
                continue
            change = compare(stored.title, stored_text(self.state.warehouse, stored.article_id),
                             article.title, article.text or "", was_unpublished=was_unpublished)
            if change is None:
                self.drop(article, Outcome.NOT_MODIFIED, "unchanged_text")
                continue
            self.stats.notes[change.kind] += 1
            self.state.changes[article.url] = change
            yield article


class RevisitState:
    """What one source's revisit run knows: the stored articles it read, the changes it
    found, the pages found gone. Built by etl.revisit.run; used by the chain's steps."""

    def __init__(self, warehouse: Warehouse, source: SourceConfig, now: datetime,
                 everything: bool = False) -> None:
        self.warehouse = warehouse
        self.source = source
        self.now = now
        self.everything = everything
        self.stored: dict[str, StoredArticle] = {}
        self.changes: dict[str, Change] = {}
        self.gone: list[Article] = []
        self.versions_written = 0

    def items(self) -> Iterator[Article]:
        """The due stored articles, as items to fetch."""
        for stored in due_articles(self.warehouse, self.source.name, self.source.revisit,
                                   self.now, self.everything):
            self.stored[stored.url] = stored
            yield Article(url=stored.url, source=self.source.name,
                          expected_language=self.source.language)

    # The chain's hooks (etl.pipeline.chain).
    def fetch_ledger(self, warehouse: Warehouse, source: str, run_id: str) -> FetchLedger:
        return RevisitLedger(warehouse, source, run_id, self.stored)

    def fetch_sink(self, sink: Sink) -> GoneSink:
        return GoneSink(sink, self.gone)

    def detect_stage(self, sink: Sink) -> DetectChanges:
        return DetectChanges(sink, self)

    def write_versions(self, conn: Connection, kept: list[Article], run_id: str) -> None:
        """Each replaced article's next version, before its row is overwritten."""
        rows = current_rows(conn, (self.stored[a.url].article_id for a in kept))
        for article in kept:
            current = rows[self.stored[article.url].article_id]
            change = self.changes[article.url]
            number = add_version(conn, current, {
                "fetched_at": article.fetched_at or self.now, "title": article.title,
                "text": article.text or "", "text_sha256": article.text_sha256,
                "change_kind": change.kind, "chars_added": change.chars_added,
                "chars_removed": change.chars_removed, "run_id": run_id})
            set_article_state(conn, current["article_id"], number, None)
            self.versions_written += 1

    def write_gone(self, conn: Connection, run_id: str, sink: OutcomeBuffer) -> int:
        """An `unpublished` version for each page newly found gone (its text kept);
        one already unpublished is not_modified. Returns the versions written."""
        written = 0
        rows = current_rows(conn, (self.stored[a.url].article_id for a in self.gone))
        for article in self.gone:
            current = rows[self.stored[article.url].article_id]
            if current["unpublished_at"] is not None:
                sink(Dropped(article, Outcome.NOT_MODIFIED, "detect_changes",
                             ["still_unpublished"]))
                continue
            when = article.fetched_at or self.now
            number = add_version(conn, current, {
                "fetched_at": when, "title": current["title"], "text": current["text"],
                "text_sha256": current["text_sha256"], "change_kind": "unpublished",
                "chars_added": 0, "chars_removed": 0, "run_id": run_id})
            set_article_state(conn, current["article_id"], number, when)
            written += 1
        self.versions_written += written
        self.gone.clear()
        return written

    def write_schedule(self) -> int:
        """Every article read this run moves on to its next revisit."""
        visits: list[tuple[str, Any]] = [
            (s.article_id, next_revisit(s.ingested_at, self.source.revisit, self.now))
            for s in self.stored.values()]
        return write_schedule(self.warehouse, self.source.name, visits, self.now)
