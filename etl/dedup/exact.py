"""Exact deduplication: same URL, same canonical URL, or same normalised text.

Checked inside the batch and against everything the warehouse holds, with one batched
lookup per batch. The first item wins; a later one is recorded as a duplicate of it.
The same URL with the same text as a stored article is `not_modified` (nothing new).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from etl.records import Article, DropSink, Outcome, Stage
from etl.warehouse.load import article_id_for

# (urls, canonical_urls, text hashes) → stored rows with article_id, url, canonical_url,
# text_sha256, cluster_id, run_id. Injected so this stage knows nothing about SQL.
Lookup = Callable[[set[str], set[str], set[str]], list[dict[str, Any]]]


class ExactDedupStage(Stage):
    name = "dedup_exact"

    def __init__(self, sink: DropSink, lookup: Lookup, run_id: str | None = None,
                 replace_existing: bool = False) -> None:
        super().__init__(sink)
        self.lookup = lookup
        self.run_id = run_id
        # Re-extraction: a stored URL is forwarded so its row is updated in place.
        self.replace_existing = replace_existing

    def process(self, items: Iterable[Article]) -> Iterator[Article]:
        batch = list(items)
        stored = self.lookup(
            {a.url for a in batch},
            {a.canonical_url for a in batch if a.canonical_url},
            {a.text_sha256 for a in batch if a.text_sha256},
        )
        by_url = {row["url"]: row for row in stored}
        by_canonical = {row["canonical_url"]: row for row in stored}
        by_hash = {row["text_sha256"]: row for row in stored}
        for article in batch:
            row = by_url.get(article.url)
            if row is not None and self.replace_existing and "replay" not in row:
                row["replay"] = True
                yield article
                continue
            if row is not None and row.get("run_id") == self.run_id and "replay" not in row:
                # Stored by an earlier attempt of this same run (a retried task): forward it
                # again so the retry counts it as loaded; the insert is a no-op.
                row["replay"] = True
                yield article
                continue
            if row is not None:
                if row["text_sha256"] == article.text_sha256:
                    self.drop(article, Outcome.NOT_MODIFIED, "unchanged")
                else:
                    # Same URL, new text (an updated story): keep the first version.
                    self._duplicate(article, row, "url")
                continue
            row = by_canonical.get(article.canonical_url or "")
            if row is not None:
                self._duplicate(article, row, "url")
                continue
            row = by_hash.get(article.text_sha256 or "")
            if row is not None:
                self._duplicate(article, row, "text")
                continue
            # First of its kind: later items of this batch are compared with it.
            entry = {
                "article_id": article_id_for(article.url), "url": article.url,
                "canonical_url": article.canonical_url, "text_sha256": article.text_sha256,
                "cluster_id": article.cluster_id, "run_id": self.run_id, "replay": True,
            }
            by_url[article.url] = entry
            if article.canonical_url:
                by_canonical[article.canonical_url] = entry
            if article.text_sha256:
                by_hash[article.text_sha256] = entry
            yield article

    def _duplicate(self, article: Article, row: dict[str, Any], kind: str) -> None:
        article.cluster_id = row.get("cluster_id") or row["article_id"]
        self.drop(
            article, Outcome.DUPLICATE, f"duplicate_{kind}",
            duplicate_of=row["article_id"], duplicate_kind=kind, similarity=1.0,
        )
