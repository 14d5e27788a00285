"""Near-duplicate detection across every run: the same story re-published with small edits.

Runs right after the exact stage, inside the load transaction (BatchLoader), so the
warehouse never holds two near-copies of one story even when two loaders run at once
(they serialise on PostgreSQL's advisory lock).

How a batch is checked:

1. Each article with at least ``min_words`` tokens gets a MinHash signature and its LSH
   band keys (etl.dedup.minhash). Shorter texts are exempt and pass through.
2. ONE lookup per batch fetches the stored articles sharing any band key (an index probe on
   article_bands against all history; see etl.warehouse.load.near_candidates).
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

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import numpy as np

from etl.dedup.minhash import (
    DEFAULT_SETTINGS,
    NearDupSettings,
    band_keys,
    signature,
    signature_from_bytes,
    signature_to_bytes,
    similarity,
)
from etl.records import Article, Dropped, DropSink, Outcome, Stage
from etl.warehouse.load import article_id_for

# band keys → stored rows with article_id, signature (bytes) and cluster_id. Injected so
# this stage knows nothing about SQL (BatchLoader binds it to the load transaction).
Lookup = Callable[[list[int]], list[dict[str, Any]]]

_LATEST = datetime.max.replace(tzinfo=UTC)


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


@dataclass(slots=True)
class _Kept:
    """An article the decision can point at: stored, or kept earlier in this batch."""

    article_id: str
    signature: np.ndarray
    cluster_id: str


class NearDupStage(Stage):
    name = "dedup_near"

    def __init__(self, sink: DropSink, lookup: Lookup,
                 settings: NearDupSettings | None = None, replace_existing: bool = False,
                 replacing: Callable[[], set[str]] | None = None) -> None:
        super().__init__(sink)
        self.lookup = lookup
        self.settings = settings or resolve_settings()
        # Re-extraction: forwarded stored articles get their signature replaced.
        # `replacing()` names the batch's stored articles (the exact stage knows them by
        # URL); without it, those whose old signature is a candidate are recognised.
        self.replace_existing = replace_existing
        self.replacing = replacing
        # Signatures of this batch's kept articles: (article_id, bytes, band keys), written
        # by BatchLoader together with the articles (take_signatures). In replace mode an
        # entry may have no signature (text too short): its old one is only deleted.
        self._pending: list[tuple[str, bytes | None, list[int]]] = []
        # article_id of an item this stage dropped → the article it duplicates.
        self._redirects: dict[str, _Kept] = {}

    def process(self, items: Iterable[Article]) -> Iterator[Article]:
        batch = list(items)
        # Per batch: nothing left over from a batch whose transaction failed.
        self._redirects, self._pending = {}, []
        eligible: list[tuple[Article, str, np.ndarray, list[int]]] = []
        too_short: list[str] = []
        for article in batch:
            sig = signature(article.text or "", self.settings)
            if sig is not None:
                eligible.append((article, article_id_for(article.url), sig,
                                 band_keys(sig, self.settings)))
            else:
                too_short.append(article_id_for(article.url))
        stored = self._stored(key for *_, keys in eligible for key in keys)
        replaced: set[str] = set()
        if self.replace_existing:
            # The batch's own stored versions are about to be replaced: not candidates.
            batch_ids = {article_id_for(a.url) for a in batch}
            replaced = (set(self.replacing()) if self.replacing is not None
                        else batch_ids & stored.keys())
            stored = {k: v for k, v in stored.items() if k not in batch_ids}
        stored_by_band: dict[int, list[_Kept]] = {}
        for entry in stored.values():
            for key in band_keys(entry.signature, self.settings):
                stored_by_band.setdefault(key, []).append(entry)

        dropped: set[int] = set()
        batch_by_band: dict[int, list[_Kept]] = {}
        for article, article_id, sig, keys in sorted(eligible, key=lambda e: keep_order(e[0])):
            if article_id in stored:
                # Stored by an earlier attempt of this run (the exact stage forwarded the
                # replay): not a duplicate of itself; nothing new to store.
                continue
            if article_id in replaced:
                # Re-extracted: updated in place, never a duplicate of anything; its new
                # signature replaces the old one, later batch items are compared with it.
                self._keep(article_id, sig, keys, batch_by_band)
                continue
            # Stored articles first: anything already loaded beats the batch.
            match = (self._best(sig, keys, stored_by_band)
                     or self._best(sig, keys, batch_by_band))
            if match is not None:
                kept, score = match
                dropped.add(id(article))
                self._redirects[article_id] = kept
                article.cluster_id = kept.cluster_id
                self.drop(article, Outcome.DUPLICATE, "duplicate_near",
                          duplicate_of=kept.article_id, duplicate_kind="near",
                          similarity=score)
                continue
            self._keep(article_id, sig, keys, batch_by_band)
        if self.replace_existing:
            # A re-extracted text below min_words: the old signature must go.
            self._pending.extend((article_id, None, []) for article_id in too_short)

        for article in batch:  # forwarded in arrival order
            if id(article) in dropped:
                continue
            article.cluster_id = article_id_for(article.url)
            yield article

    def _keep(self, article_id: str, sig: np.ndarray, keys: list[int],
              batch_by_band: dict[int, list[_Kept]]) -> None:
        entry = _Kept(article_id, sig, article_id)
        for key in keys:
            batch_by_band.setdefault(key, []).append(entry)
        self._pending.append((article_id, signature_to_bytes(sig), keys))

    def _stored(self, keys: Iterable[int]) -> dict[str, _Kept]:
        wanted = sorted(set(keys))
        if not wanted:
            return {}
        out = {}
        for row in self.lookup(wanted):
            sig = signature_from_bytes(row["signature"])
            if sig.shape != (self.settings.num_perm,):
                continue  # written under other settings: cannot be compared
            out[row["article_id"]] = _Kept(row["article_id"], sig,
                                           row.get("cluster_id") or row["article_id"])
        return out

    def _best(self, sig: np.ndarray, keys: Sequence[int],
              index: dict[int, list[_Kept]]) -> tuple[_Kept, float] | None:
        """The most similar candidate at or above the threshold (ties: smallest id)."""
        seen: dict[str, _Kept] = {}
        for key in keys:
            for entry in index.get(key, ()):
                seen.setdefault(entry.article_id, entry)
        best: tuple[_Kept, float] | None = None
        for article_id in sorted(seen):
            score = similarity(sig, seen[article_id].signature)
            if score >= self.settings.threshold and (best is None or score > best[1]):
                best = (seen[article_id], score)
        return best

    def take_signatures(self) -> list[tuple[str, bytes | None, list[int]]]:
        """Signatures of the kept articles since the last call, for write_signatures."""
        taken, self._pending = self._pending, []
        return taken

    def redirect(self, drops: Iterable[Dropped]) -> None:
        """Point earlier drops at an article this stage dropped to the one it duplicates.

        The exact stage runs first: an exact copy of a batch item X names X in duplicate_of.
        When X turns out to be a near-duplicate of Y, X is never loaded, so the copy is
        re-pointed at Y (same story, cluster and detection kind; similarity to Y).
        """
        for drop in drops:
            target = self._redirects.get(drop.duplicate_of or "")
            if target is None:
                continue
            drop.duplicate_of = target.article_id
            drop.article.cluster_id = target.cluster_id
            sig = signature(drop.article.text or "", self.settings)
            drop.similarity = similarity(sig, target.signature) if sig is not None else None
