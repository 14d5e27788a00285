"""Exact deduplication: same URL, same canonical URL, or same normalised text.

Checked inside the batch and against everything the warehouse holds, with one batched
lookup per batch. The first item wins; a later one is recorded as a duplicate of it.
The same URL with the same text as a stored article is `not_modified` (nothing new).
A page's canonical link counts only when it is plausible for an article, and a canonical
match only when the texts agree (etl.dedup.canonical).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from etl.dedup.canonical import CanonicalJudge, CanonicalTracker, TextLookup
from etl.records import Article, DropSink, Outcome, Stage
from etl.warehouse.load import article_id_for

# (urls, canonical_urls, text hashes) → stored rows with article_id, url, canonical_url,
# text_sha256, cluster_id, run_id, source. Injected so this stage knows nothing about SQL.
Lookup = Callable[[set[str], set[str], set[str]], list[dict[str, Any]]]


class ExactDedupStage(Stage):
    name = "dedup_exact"

    def __init__(self, sink: DropSink, lookup: Lookup, run_id: str | None = None,
                 replace_existing: bool = False, canonicals: CanonicalTracker | None = None,
                 texts: TextLookup | None = None, similarity_threshold: float | None = None
                 ) -> None:
        super().__init__(sink)
        self.lookup = lookup
        self.run_id = run_id
        # Canonical links: adopted only when plausible (one tracker per run; stored texts
        # to compare a canonical match with; the near-duplicate threshold).
        self.canonical = CanonicalJudge(self.stats, run_id, canonicals, texts,
                                        similarity_threshold)
        # article_ids of this batch's stored articles forwarded for replacement.
        self.replacing: set[str] = set()
        # Re-extraction: a stored URL is forwarded so its row is updated in place.
        self.replace_existing = replace_existing
        # URLs this stage forwarded (this attempt): a later batch meeting them again is not
        # a replay of an earlier attempt.
        self._forwarded: set[str] = set()

    @property
    def texts(self) -> TextLookup | None:
        """Stored texts by article_id (bound to the load transaction by BatchLoader)."""
        return self.canonical.texts

    @texts.setter
    def texts(self, lookup: TextLookup | None) -> None:
        self.canonical.texts = lookup

    def _replay(self, row: dict[str, Any], article: Article) -> bool:
        """Stored by an earlier attempt of this same run, for this same source, and not yet
        met by this attempt: a retried task. The key is (run, source, URL): another source
        of the run that reaches the same URL is a duplicate, not a second load. A row that
        does not say its source is taken as this source's."""
        return (row.get("run_id") == self.run_id
                and row.get("source", article.source) == article.source
                and article.url not in self._forwarded and "replay" not in row)

    def process(self, items: Iterable[Article]) -> Iterator[Article]:
        batch = list(items)
        self.replacing = set()
        canonical_keys = self.canonical.lookup_keys(batch)
        stored = self.lookup(
            {a.url for a in batch} | canonical_keys,
            canonical_keys,
            {a.text_sha256 for a in batch if a.text_sha256},
        )
        by_url = {row["url"]: row for row in stored}
        self.canonical.index(stored)
        by_hash = {row["text_sha256"]: row for row in stored}
        for article in batch:
            row = by_url.get(article.url)
            if row is not None and self.replace_existing and "replay" not in row:
                row["replay"] = True
                self.replacing.add(row["article_id"])
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

    def take_canonical_resets(self) -> list[tuple[str, str, str]]:
        """Stored articles whose canonical was withdrawn (article_id, canonical, own URL),
        for reset_canonical_urls in this batch's load transaction."""
        return self.canonical.take_resets()
