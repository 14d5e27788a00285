"""Near-duplicate detection across every run: the same story re-published with small edits.

Runs right after the exact stage, per batch inside the load transaction
(etl.pipeline.loader), so the warehouse never holds two near-copies of one story even when
two loaders run at once (they serialise on PostgreSQL's advisory lock). The stage holds
only the run's settings and stats; the transaction's index (etl.dedup.near_index) is an
argument of each ``check`` call.

How a batch is checked:

1. Each article with at least ``min_words`` tokens gets a MinHash signature and its LSH
   band keys (etl.dedup.near_index.index_entry). Shorter texts are exempt and pass through.
   The signature is the extraction worker's when it was made from the same text with the
   same parameters (etl.dedup.presigned), else computed here: the same decisions either way.
2. ONE lookup per batch fetches the stored articles sharing any band key (an index probe on
   article_bands against all history; NearIndex.candidates).
3. A candidate is confirmed when the estimated Jaccard ``similarity >= threshold``.

Keep rule (deterministic): the first-loaded article wins, so anything already in the
warehouse beats the batch. Inside a batch, eligible items are compared in the order
(earliest ``published_at``, undated last; then the smallest canonical URL; then the page
that canonical names before its copies; then URL), so a batch gives the same warehouse
whatever its arrival order. Batches are cut in arrival order, so across batches and runs
the guarantee is "first loaded wins".

Re-extraction (``replace_existing``): a stored article comes back with a new text. It is
never a duplicate of its own old version, its old signature is not a candidate for the
batch, and its signature and band keys are replaced (deleted when the new text is too
short) in the transaction that replaces its text, so copies are judged against the text
the warehouse now holds.

A near-duplicate is not loaded: it is dropped as ``Outcome.DUPLICATE`` (reason
``duplicate_near``, kind ``near``) with the similarity and the article it duplicates, and
takes that article's ``cluster_id`` (the story id). A kept article starts its own story:
``cluster_id = article_id``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Protocol

from etl.dedup.minhash import (
    DEFAULT_SETTINGS,
    NearDupSettings,
    band_keys,
    similarity,
)
from etl.dedup.near_index import IndexedArticle, IndexEntry, index_entry
from etl.dedup.presigned import article_signature
from etl.records import Article, Dropped, DropSink, Outcome, Stage
from etl.warehouse.load import article_id_for

_LATEST = datetime.max.replace(tzinfo=UTC)


class Candidates(Protocol):
    """The stored side of the index (etl.dedup.near_index.NearIndex in a load transaction)."""

    def candidates(self, keys: Iterable[int]) -> dict[str, IndexedArticle]: ...


def resolve_settings(threshold: float | None = None,
                     base: NearDupSettings = DEFAULT_SETTINGS) -> NearDupSettings:
    """``base`` with the run's threshold (RunOptions.near_dup_threshold; the edges fill it
    from NEWS_ETL_NEAR_DUP_THRESHOLD), else ``base`` as it is.

    Only the threshold is configurable per run: the band shape and hash family must match
    the band keys already stored in the warehouse.
    """
    if threshold is None:
        return base
    return replace(base, threshold=threshold)  # validated by NearDupSettings


def keep_order(article: Article) -> tuple[datetime, str, bool, str]:
    """Sort key of the keep rule: earliest published first (undated last), then canonical
    URL, the page at that URL before its copies (AMP, print, tracking parameters), URL."""
    published = article.published_at
    if published is not None and published.tzinfo is None:
        published = published.replace(tzinfo=UTC)  # naive = UTC, as the warehouse stores it
    canonical = article.canonical_url or article.url
    return (published or _LATEST, canonical, article.url != canonical, article.url)


@dataclass
class NearChecked:
    """What one batch's check decided: the articles to load, the index entries to write
    with them, and for each article dropped as a near copy, the article it duplicates."""

    kept: list[Article]
    entries: list[IndexEntry]
    redirects: dict[str, IndexedArticle] = field(default_factory=dict)


class NearDupStage(Stage):
    """Near-duplicate decisions for one run (its settings and stats), one batch at a time."""

    name = "dedup_near"

    def __init__(self, sink: DropSink, settings: NearDupSettings | None = None,
                 replace_existing: bool = False) -> None:
        super().__init__(sink)
        self.settings = settings or resolve_settings()
        # Re-extraction: forwarded stored articles get their signature replaced.
        self.replace_existing = replace_existing

    def process(self, items: Iterable[Article]) -> Iterator[Article]:
        raise TypeError("NearDupStage runs per batch in the load transaction: "
                        "call check(batch, index)")

    def check(self, batch: list[Article], index: Candidates,
              replacing: set[str] | None = None) -> NearChecked:
        """Drop the batch's near copies (to the sink) and return what to load.

        `replacing` (re-extraction) names the batch's stored articles being replaced (the
        exact stage knows them by URL); without it, those whose old signature is a
        candidate are recognised."""
        self.stats.received += len(batch)
        checked = NearChecked([], [])
        eligible: list[tuple[Article, IndexEntry]] = []
        too_short: list[str] = []
        for article in batch:
            entry = index_entry(article, self.settings)
            if entry is not None:
                eligible.append((article, entry))
            else:
                too_short.append(article_id_for(article.url))
        stored = index.candidates(key for _, entry in eligible for key in entry.band_keys)
        replaced: set[str] = set()
        if self.replace_existing:
            # The batch's own stored versions are about to be replaced: not candidates.
            batch_ids = {article_id_for(a.url) for a in batch}
            replaced = set(replacing) if replacing is not None else batch_ids & stored.keys()
            stored = {k: v for k, v in stored.items() if k not in batch_ids}
        stored_by_band: dict[int, list[IndexedArticle]] = {}
        for kept in stored.values():
            for key in band_keys(kept.signature, self.settings):
                stored_by_band.setdefault(key, []).append(kept)

        dropped: set[int] = set()
        batch_by_band: dict[int, list[IndexedArticle]] = {}
        for article, entry in sorted(eligible, key=lambda e: keep_order(e[0])):
            if entry.article_id in stored:
                # Stored by an earlier attempt of this run (the exact stage forwarded the
                # replay): not a duplicate of itself; nothing new to store.
                continue
            if entry.article_id in replaced:
                # Re-extracted: updated in place, never a duplicate of anything; its new
                # signature replaces the old one, later batch items are compared with it.
                self._keep(entry, batch_by_band, checked)
                continue
            # Stored articles first: anything already loaded beats the batch.
            match = (self._best(entry, stored_by_band)
                     or self._best(entry, batch_by_band))
            if match is not None:
                kept, score = match
                dropped.add(id(article))
                checked.redirects[entry.article_id] = kept
                article.cluster_id = kept.cluster_id
                self.drop(article, Outcome.DUPLICATE, "duplicate_near",
                          duplicate_of=kept.article_id, duplicate_kind="near",
                          similarity=score)
                continue
            self._keep(entry, batch_by_band, checked)
        if self.replace_existing:
            # A re-extracted text below min_words: the old signature must go.
            checked.entries.extend(IndexEntry(article_id, None, []) for article_id in too_short)

        for article in batch:  # forwarded in arrival order
            if id(article) in dropped:
                continue
            article.cluster_id = article_id_for(article.url)
            checked.kept.append(article)
        self.stats.forwarded += len(checked.kept)
        return checked

    @staticmethod
    def _keep(entry: IndexEntry, batch_by_band: dict[int, list[IndexedArticle]],
              checked: NearChecked) -> None:
        assert entry.signature is not None
        kept = IndexedArticle(entry.article_id, entry.signature, entry.article_id)
        for key in entry.band_keys:
            batch_by_band.setdefault(key, []).append(kept)
        checked.entries.append(entry)

    def _best(self, entry: IndexEntry, index: dict[int, list[IndexedArticle]]
              ) -> tuple[IndexedArticle, float] | None:
        """The most similar candidate at or above the threshold (ties: smallest id)."""
        seen: dict[str, IndexedArticle] = {}
        for key in entry.band_keys:
            for candidate in index.get(key, ()):
                seen.setdefault(candidate.article_id, candidate)
        best: tuple[IndexedArticle, float] | None = None
        for article_id in sorted(seen):
            score = similarity(entry.signature, seen[article_id].signature)
            if score >= self.settings.threshold and (best is None or score > best[1]):
                best = (seen[article_id], score)
        return best

    def redirect(self, drops: Iterable[Dropped], checked: NearChecked) -> None:
        """Point earlier drops at an article this batch dropped to the one it duplicates.

        The exact stage runs first: an exact copy of a batch item X names X in duplicate_of.
        When X turns out to be a near-duplicate of Y, X is never loaded, so the copy is
        re-pointed at Y (same story, cluster and detection kind; similarity to Y).
        """
        for drop in drops:
            target = checked.redirects.get(drop.duplicate_of or "")
            if target is None:
                continue
            drop.duplicate_of = target.article_id
            drop.article.cluster_id = target.cluster_id
            sig = article_signature(drop.article, self.settings)
            drop.similarity = similarity(sig, target.signature) if sig is not None else None
