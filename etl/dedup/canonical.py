"""Is a page's canonical link plausible for an article? Decided per run, in exact dedup.

A page's canonical link (``<link rel="canonical">``, else ``og:url``, on the page's own
site; see etl.extract) names the URL the page should be known by. Exact dedup treats two
pages with one canonical URL as one article, so a CMS that points every page at the
homepage or at a section page would make every story after the first a ``duplicate_url``.
The rule, applied to each page whose canonical differs from its own (normalised) URL:

1. ``canonical_is_root`` — the canonical names the site's front page: path empty, ``/``
   or an index document (``/index.html``, ``/index.php``, ``/default.aspx``, ``/home``…),
   whatever the query string. Refused.
2. ``canonical_shared`` — two or more pages of this run, with different texts, claim the
   canonical and neither is a copy of the other: a section, tag or landing page (the page
   at that URL, if loaded, is its owner, not a claimer, and keeps it). Refused
   for all of them, the first included (its stored ``canonical_url`` goes back to its own
   URL in the load transaction of the batch that finds out), and for every later page of
   the run. "This run" spans its sources and batches (one ``CanonicalTracker`` per run);
   articles stored under this run id by an earlier attempt count too.
3. ``canonical_text_differs`` — articles already hold the canonical (stored in an earlier
   run, or kept earlier in this batch) and none has the page's text: same text hash, or a
   Jaccard similarity of 3-word shingles at or above the near-duplicate threshold (default
   0.5). Refused; the stored articles are left as they are.

A refused page keeps its own URL as its canonical and is compared like any other page:
the same text elsewhere is still ``duplicate_text``, a near copy ``duplicate_near``.

A canonical match that passes is a ``duplicate_url`` of the article holding it when the two
are the same page (same URL once tracking parameters are removed), or their texts are equal
or similar as above; the similarity is recorded. So the same story reached through tracking
parameters, an AMP or a print copy stays a duplicate.

Each refusal is counted in the exact stage's ``notes`` (stage_stats of ``ingest_runs``),
keyed by reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from etl.dedup.minhash import DEFAULT_SETTINGS, shingles
from etl.records import Article, StageStats
from etl.warehouse.load import article_id_for

CANONICAL_IS_ROOT = "canonical_is_root"
CANONICAL_SHARED = "canonical_shared"
CANONICAL_TEXT_DIFFERS = "canonical_text_differs"

# article ids → stored text, read in the batch's load transaction (passed to `index`).
TextLookup = Callable[[list[str]], dict[str, str]]

_INDEX_PAGE = re.compile(r"/*(?:(?:index|default|home|start)(?:\.[a-z0-9]+)?/*)?", re.I)


def is_site_root(url: str) -> bool:
    """The front page of a site: path empty, "/" or an index document, any query string."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(_INDEX_PAGE.fullmatch(parts.path))


def own_url(article: Article) -> str:
    """The page's own URL as dedup compares it (after redirects, tracking params removed)."""
    from etl.extract.canonical_link import canonical_url

    return canonical_url(article.final_url or article.url)


@dataclass(slots=True)
class Claim:
    """One page of the run that stated a canonical URL."""

    article_id: str
    own_url: str
    text_sha256: str | None
    adopted: bool  # the canonical was kept for it (withdrawn if the canonical turns shared)


@dataclass
class CanonicalTracker:
    """Which pages of one run claimed which canonical URL, and which turned out shared.

    One per run, in memory, shared by the run's sources and batches. It holds a few small
    fields per page that states a canonical other than its own URL, never texts.
    """

    claims: dict[str, dict[str, Claim]] = field(default_factory=dict)  # canonical → url →
    shared: set[str] = field(default_factory=set)


class CanonicalJudge:
    """The canonical decisions of one exact-dedup stage (see the module docstring).

    Per batch: ``lookup_keys`` (before the warehouse lookup), ``index`` (with the stored
    rows and the transaction's text lookup), then ``judge`` per item in order, ``add`` for
    each item kept. Stored canonicals to withdraw are collected for ``take_resets``.
    """

    def __init__(self, stats: StageStats, run_id: str | None = None,
                 tracker: CanonicalTracker | None = None, threshold: float | None = None
                 ) -> None:
        self.stats = stats
        self.run_id = run_id
        self.tracker = tracker if tracker is not None else CanonicalTracker()
        # This batch's lookup of stored texts (given to `index` with the stored rows).
        self._stored_texts: TextLookup | None = None
        self.threshold = threshold if threshold is not None else DEFAULT_SETTINGS.threshold
        self._index: dict[str, list[dict[str, Any]]] = {}
        self._own: dict[int, str] = {}
        self._batch: dict[str, Article] = {}
        self._texts: dict[str, str | None] = {}
        self._shingles: dict[str, frozenset[int]] = {}
        self._resets: dict[str, tuple[str, str, str]] = {}

    # --- per batch ------------------------------------------------------------------

    def lookup_keys(self, batch: list[Article]) -> set[str]:
        """Canonicals and own URLs of the batch: stored articles holding either matter."""
        self._own, self._batch, self._texts, self._shingles = {}, {}, {}, {}
        keys: set[str] = set()
        for article in batch:
            own = own_url(article)
            self._own[id(article)] = own
            self._batch[article_id_for(article.url)] = article
            keys.add(own)
            if article.canonical_url:
                keys.add(article.canonical_url)
        return keys

    def index(self, stored: Iterable[dict[str, Any]], texts: TextLookup | None = None) -> None:
        """Stored articles by their canonical URL and by their own (normalised) URL;
        `texts` reads stored texts (of the same load transaction) for this batch."""
        self._index = {}
        self._stored_texts = texts
        for row in stored:
            self._add_to_index(row)

    def add(self, entry: dict[str, Any], article: Article) -> None:
        """An article kept in this batch: later items are compared with it."""
        entry["own_url"] = self._own.get(id(article)) or own_url(article)
        entry["article"] = article
        self._add_to_index(entry)

    def take_resets(self) -> list[tuple[str, str, str]]:
        """(article_id, withdrawn canonical, own URL) of stored rows to put back on their
        own URL, in the load transaction of this batch."""
        taken = sorted(self._resets.values())
        self._resets = {}
        return taken

    # --- the decision -----------------------------------------------------------------

    def judge(self, article: Article, forwarded: bool = False
              ) -> tuple[dict[str, Any], float] | None:
        """Adopt or refuse the article's canonical; return the article it duplicates through
        its canonical or own URL, with the similarity. ``forwarded``: the item is loaded
        anyway (re-extraction, retry), only its canonical is decided."""
        if not article.canonical_url:
            return None
        article_id = article_id_for(article.url)
        own = self._own.get(id(article)) or own_url(article)
        claimed = article.canonical_url if article.canonical_url != own else None
        if claimed is not None:
            match = self._judge_claim(article, article_id, claimed, own, forwarded)
            if match is not None:
                return None if forwarded else match
        if forwarded:
            return None
        # Stored under the page's own URL: the same page under another URL string (a
        # tracking parameter), or an article that names this page as its canonical.
        return self._best(article, own,
                          [r for r in self._index.get(own, ()) if r["article_id"] != article_id])

    def _judge_claim(self, article: Article, article_id: str, claimed: str, own: str,
                     forwarded: bool) -> tuple[dict[str, Any], float] | None:
        def refuse(reason: str) -> None:
            self._refuse(article, article_id, claimed, own, reason, forwarded)

        if is_site_root(claimed):
            refuse(CANONICAL_IS_ROOT)
            return None
        shared = claimed in self.tracker.shared
        holders = [r for r in self._index.get(claimed, ())
                   if r["article_id"] != article_id and r["canonical_url"] == claimed]
        match = self._best(article, own, holders)
        if match is not None and not shared:
            if forwarded:  # loaded anyway: it holds the canonical from now on
                self._claim(article, article_id, claimed, own, adopted=True)
            return match
        if match is not None and not forwarded:
            return match  # a copy of an article holding it: a duplicate, whatever the claim
        # Other pages of this run that claimed it with another text: its owner (the page at
        # that URL) does not count, an earlier attempt's stored claimers do.
        others = [c for url, c in self.tracker.claims.get(claimed, {}).items()
                  if url != article.url and c.text_sha256 != article.text_sha256]
        this_run = [r for r in holders if "article" not in r and self.run_id is not None
                    and r.get("run_id") == self.run_id and self._row_own(r) != claimed]
        if shared or others or this_run:
            refuse(CANONICAL_SHARED)
        elif holders:
            refuse(CANONICAL_TEXT_DIFFERS)
        else:
            self._claim(article, article_id, claimed, own, adopted=True)
        return None

    def _claim(self, article: Article, article_id: str, claimed: str, own: str,
               adopted: bool) -> None:
        self.tracker.claims.setdefault(claimed, {})[article.url] = Claim(
            article_id, own, article.text_sha256, adopted)

    def _refuse(self, article: Article, article_id: str, claimed: str, own: str,
                reason: str, forwarded: bool) -> None:
        article.canonical_url = own
        self.stats.notes[reason] += 1
        self._move(article_id, claimed, own)
        if forwarded:  # stored already (a retried run, a re-extraction), maybe with the claim
            self._resets[article_id] = (article_id, claimed, own)
        if reason == CANONICAL_IS_ROOT:
            return
        self._claim(article, article_id, claimed, own, adopted=False)
        if reason == CANONICAL_SHARED:
            self._withdraw(claimed)

    def _withdraw(self, claimed: str) -> None:
        """The canonical is shared in this run: take it back from every page that got it."""
        self.tracker.shared.add(claimed)
        withdrawn: dict[str, str] = {}
        for claim in self.tracker.claims.get(claimed, {}).values():
            if claim.adopted:
                claim.adopted = False
                withdrawn[claim.article_id] = claim.own_url
        # Stored under this run id but unknown to the tracker: an earlier attempt's rows
        # (not the page at that URL itself, which holds it as its own).
        for row in self._index.get(claimed, ()):
            if ("article" not in row and row.get("run_id") == self.run_id
                    and row["canonical_url"] == claimed and self._row_own(row) != claimed):
                withdrawn.setdefault(row["article_id"], self._row_own(row))
        for article_id, own in withdrawn.items():
            self.stats.notes[CANONICAL_SHARED] += 1
            self._resets[article_id] = (article_id, claimed, own)
            article = self._batch.get(article_id)
            if article is not None and article.canonical_url == claimed:
                article.canonical_url = own  # kept earlier in this batch: not written yet
            self._move(article_id, claimed, own)

    def _move(self, article_id: str, claimed: str, own: str) -> None:
        """This batch's view of an article that no longer holds `claimed`."""
        for row in self._index.get(claimed, ()):
            if row["article_id"] == article_id and row["canonical_url"] == claimed:
                row["canonical_url"] = own

    # --- similarity -------------------------------------------------------------------

    def _best(self, article: Article, own: str, rows: list[dict[str, Any]]
              ) -> tuple[dict[str, Any], float] | None:
        """The row that is the same page or has the same or a similar text (stored rows
        before this batch's, then the smallest id); None if there is none."""
        best: tuple[dict[str, Any], float] | None = None
        for row in sorted(rows, key=lambda r: ("article" in r, r["article_id"])):
            if self._row_own(row) == own or (
                    article.text_sha256 and row.get("text_sha256") == article.text_sha256):
                score = 1.0
            else:
                score = self._similarity(article, row)
            if score >= self.threshold and (best is None or score > best[1]):
                best = (row, score)
        return best

    def _similarity(self, article: Article, row: dict[str, Any]) -> float:
        other = self._row_text(row)
        if other is None or article.text is None:
            return 0.0
        mine = self._shingles_of(f"a:{id(article)}", article.text)
        theirs = self._shingles_of(f"r:{row['article_id']}", other)
        union = len(mine | theirs)
        return len(mine & theirs) / union if union else 0.0

    def _shingles_of(self, key: str, text: str) -> frozenset[int]:
        if key not in self._shingles:
            self._shingles[key] = frozenset(shingles(text, DEFAULT_SETTINGS.shingle_size))
        return self._shingles[key]

    def _row_text(self, row: dict[str, Any]) -> str | None:
        if "article" in row:
            return row["article"].text
        if "text" in row:
            return row["text"]
        article_id = row["article_id"]
        if article_id not in self._texts:
            self._texts.update(self._stored_texts([article_id]) if self._stored_texts else {})
            self._texts.setdefault(article_id, None)
        return self._texts[article_id]

    def _row_own(self, row: dict[str, Any]) -> str:
        if "own_url" not in row:
            from etl.extract.canonical_link import canonical_url

            row["own_url"] = canonical_url(row["url"])
        return row["own_url"]

    def _add_to_index(self, row: dict[str, Any]) -> None:
        keys = {row.get("canonical_url"), self._row_own(row)} - {None, ""}
        for key in keys:
            self._index.setdefault(key, []).append(row)
