"""Exact deduplication: same URL, same canonical URL, or same normalised text.

Checked inside the batch and against everything the warehouse holds, with one batched
lookup per batch. The first item wins; a later one is recorded as a duplicate of it.
The same URL with the same text as a stored article is `not_modified` (nothing new).
A page's canonical link counts only when it is plausible for an article, and a canonical
match only when the texts agree (etl.dedup.canonical).

The stage runs per batch inside the load transaction (etl.pipeline.loader): it holds the
run's state (stats, URLs forwarded so far, the run's canonical tracker) and is handed the
transaction's view of the stored articles as an argument of each ``check`` call.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from etl.dedup.canonical import CanonicalJudge, CanonicalTracker
from etl.records import Article, DropSink, Outcome, Stage
from etl.warehouse.load import article_id_for


class StoredArticles(Protocol):
    """The articles table as exact dedup reads it (etl.warehouse.load.StoredArticles, bound
    to one load transaction), so this stage knows nothing about SQL."""

    def matching(self, urls: set[str], canonical_urls: set[str], hashes: set[str]
                 ) -> list[dict[str, Any]]:
        """Stored rows (article_id, url, canonical_url, text_sha256, cluster_id, run_id,
        source) with any of these URLs, canonical URLs or text hashes."""
        ...

    def texts(self, article_ids: list[str]) -> dict[str, str]:
        """article_id → stored text."""
        ...


@dataclass
class ExactChecked:
    """What one batch's check decided."""

    kept: list[Article]
    # article_ids of stored articles forwarded to be replaced (re-extraction).
    replacing: set[str] = field(default_factory=set)
    # Stored articles whose canonical was withdrawn (article_id, canonical, own URL), for
    # reset_canonical_urls in this batch's load transaction.
    canonical_resets: list[tuple[str, str, str]] = field(default_factory=list)


class ExactDedupStage(Stage):
    """Exact-duplicate decisions for one run, one batch at a time."""

    name = "dedup_exact"

    def __init__(self, sink: DropSink, run_id: str | None = None,
                 replace_existing: bool = False, canonicals: CanonicalTracker | None = None,
                 similarity_threshold: float | None = None) -> None:
        super().__init__(sink)
        self.run_id = run_id
        # Canonical links: adopted only when plausible (one tracker per run; the
        # near-duplicate threshold to compare a canonical match's texts with).
        self.canonical = CanonicalJudge(self.stats, run_id, canonicals, similarity_threshold)
        # Re-extraction: a stored URL is forwarded so its row is updated in place.
        self.replace_existing = replace_existing
        # URLs this stage forwarded (this attempt): a later batch meeting them again is not
        # a replay of an earlier attempt.
        self._forwarded: set[str] = set()

    def _replay(self, row: dict[str, Any], article: Article) -> bool:
        """Stored by an earlier attempt of this same run, for this same source, and not yet
        met by this attempt: a retried task. The key is (run, source, URL): another source
        of the run that reaches the same URL is a duplicate, not a second load. A row that
        does not say its source is taken as this source's."""
        return (row.get("run_id") == self.run_id
                and row.get("source", article.source) == article.source
                and article.url not in self._forwarded and "replay" not in row)

    def process(self, items: Iterable[Article]) -> Iterator[Article]:
        raise TypeError("ExactDedupStage runs per batch in the load transaction: "
                        "call check(batch, stored)")

    def check(self, batch: list[Article], stored: StoredArticles) -> ExactChecked:
        """Drop the batch's exact duplicates (to the sink) and return what goes on."""
        self.stats.received += len(batch)
        replacing: set[str] = set()
        kept = list(self._decide(batch, stored, replacing))
        self.stats.forwarded += len(kept)
        return ExactChecked(kept, replacing, self.canonical.take_resets())

    def _decide(self, batch: list[Article], stored: StoredArticles, replacing: set[str]
                ) -> Iterator[Article]:
        canonical_keys = self.canonical.lookup_keys(batch)
        rows = stored.matching(
            {a.url for a in batch} | canonical_keys,
            canonical_keys,
            {a.text_sha256 for a in batch if a.text_sha256},
        )
        by_url = {row["url"]: row for row in rows}
        self.canonical.index(rows, stored.texts)
        by_hash = {row["text_sha256"]: row for row in rows}
        for article in batch:
            row = by_url.get(article.url)
            if row is not None and self.replace_existing and "replay" not in row:
                row["replay"] = True
                replacing.add(row["article_id"])
                self.canonical.judge(article, forwarded=True)
                yield article
                continue
            if row is not None and self._replay(row, article):
                # Forward it again so the retry counts it as loaded; the insert is a no-op.
                row["replay"] = True
                self._forwarded.add(article.url)
                self.canonical.judge(article, forwarded=True)
                yield article
                continue
            if row is not None:
                if (row["text_sha256"] == article.text_sha256
                        and row.get("source", article.source) == article.source):
                    self.drop(article, Outcome.NOT_MODIFIED, "unchanged")
                else:
                    # Same URL with new text (an updated story), or stored by another
                    # source: keep the first version.
                    self._duplicate(article, row, "url")
                continue
            match = self.canonical.judge(article)
            if match is not None:
                self._duplicate(article, match[0], "url", match[1])
                continue
            row = by_hash.get(article.text_sha256 or "")
            if row is not None:
                self._duplicate(article, row, "text")
                continue
            # First of its kind: later items of this batch are compared with it.
            entry = {
                "article_id": article_id_for(article.url), "url": article.url,
                "canonical_url": article.canonical_url, "text_sha256": article.text_sha256,
                "cluster_id": article.cluster_id, "run_id": self.run_id,
                "source": article.source, "replay": True,
            }
            self._forwarded.add(article.url)
            by_url[article.url] = entry
            self.canonical.add(entry, article)
            if article.text_sha256:
                by_hash[article.text_sha256] = entry
            yield article

    def _duplicate(self, article: Article, row: dict[str, Any], kind: str,
                   similarity: float = 1.0) -> None:
        article.cluster_id = row.get("cluster_id") or row["article_id"]
        self.drop(
            article, Outcome.DUPLICATE, f"duplicate_{kind}",
            duplicate_of=row["article_id"], duplicate_kind=kind, similarity=similarity,
        )
