"""The fetch ledger: what we know about each URL from earlier fetches (in the warehouse).

- validators (ETag / Last-Modified) for conditional GET → a 304 is `not_modified`;
- the body's sha256 → a 200 with an unchanged body is `not_modified` too;
- whether the URL is already loaded → not fetched again unless the source asks for refresh;
- consecutive failures → a failed URL waits (exponential backoff) before it is retried.

Validators and body hashes say "this body was processed" only once it was: a row names the
run that fetched its body (`body_run_id`), and that run's load sets `body_settled` in the
transaction that records the body's outcome (loaded, duplicate, rejected, not_modified;
not failed). A fetch that committed while its load never did — a crashed extract task, a
CLI run killed before the load — leaves an unsettled row, and the URL is fetched again
without validators instead of answering 304 for a page that was never stored.

They count only for the source that recorded them (a second source that reaches the same
URL has not processed it yet), and never for the run that fetched the body: a retried run
fetches its own URLs again and the dedup stage counts them once, or records another
source's copy as its duplicate.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, select

from etl.warehouse import Warehouse
from etl.warehouse.load import upsert
from etl.warehouse.schema import articles, fetch_ledger, ingest_runs

BACKOFF_BASE = timedelta(minutes=30)
BACKOFF_MAX = timedelta(days=7)
# Lookups are cached per URL, bounded: a URL is read a few times, close together.
CACHE_MAX = 10_000
IN_CHUNK = 500  # URLs per `IN (...)` query


def backoff(failures: int) -> timedelta:
    """30 min, 1 h, 2 h, … capped at 7 days."""
    return min(BACKOFF_BASE * (2 ** max(failures - 1, 0)), BACKOFF_MAX)


class FetchLedger:
    """Reads and writes `fetch_ledger` for one source. Used from one thread."""

    def __init__(self, warehouse: Warehouse, source: str, flush_every: int = 100,
                 run_id: str | None = None) -> None:
        self.warehouse = warehouse
        self.source = source
        self.run_id = run_id
        self.flush_every = flush_every
        # URL → run_id of its stored article (None: not stored), as far as looked up.
        self._stored_by: dict[str, str | None] = {}
        self._pending: dict[str, dict[str, Any]] = {}
        # Pending URLs whose fetch brought a body not yet processed: their row is written
        # with body_run_id/body_settled; other rows leave those columns as the load set them.
        self._new_body: set[str] = set()
        # One lookup per URL: skip, backoff, validators and change checks all read it.
        self._known: dict[str, dict[str, Any] | None] = {}

    def state(self, url: str) -> dict[str, Any] | None:
        if url in self._pending:
            return self._pending[url]
        if url not in self._known:
            self._read_rows([url])
        return self._known[url]

    def _select_by_url(self, query: Select, column: Any, urls: list[str]) -> list[Any]:
        """The rows of `query` whose `column` is one of `urls`, IN_CHUNK URLs a query."""
        rows: list[Any] = []
        with self.warehouse.engine.connect() as conn:
            for i in range(0, len(urls), IN_CHUNK):
                rows += conn.execute(query.where(column.in_(urls[i:i + IN_CHUNK]))).all()
        return rows

    def _read_rows(self, urls: list[str]) -> None:
        """Cache the ledger rows of `urls` (None for a URL without one)."""
        if len(self._known) + len(urls) > CACHE_MAX:
            self._known.clear()
        found: dict[str, dict[str, Any] | None] = dict.fromkeys(urls)
        for row in self._select_by_url(select(fetch_ledger), fetch_ledger.c.url, urls):
            found[row.url] = dict(row._mapping)
        self._known.update(found)

    def _stored_runs(self, urls: list[str]) -> dict[str, str | None]:
        """URL → run_id of the stored article (None when not stored), cached."""
        missing = [u for u in dict.fromkeys(urls) if u not in self._stored_by]
        if missing:
            if len(self._stored_by) >= CACHE_MAX:
                self._stored_by.clear()
            found: dict[str, str | None] = dict.fromkeys(missing)
            found.update(self._select_by_url(select(articles.c.url, articles.c.run_id),
                                             articles.c.url, missing))
            self._stored_by.update(found)
        return {u: self._stored_by.get(u) for u in urls}

    def prefetch(self, urls: list[str]) -> None:
        """Read the rows, and the stored runs, of URLs about to be asked about in a few
        queries (IN_CHUNK URLs each) rather than two per URL: a 10,000-entry feed made
        20,000 round trips to the warehouse before its first fetch."""
        self._stored_runs(urls)
        missing = [u for u in dict.fromkeys(urls) if u not in self._known
                   and u not in self._pending]
        if missing:
            self._read_rows(missing)

    def already_loaded(self, urls: list[str]) -> set[str]:
        """URLs stored by an earlier run: nothing to fetch. URLs stored by this same run
        are not included (see the module docstring)."""
        return {url for url, run in self._stored_runs(urls).items()
                if run is not None and run != self.run_id}

    def _own(self, url: str) -> dict[str, Any] | None:
        """This source's ledger row for `url` when its validators and body hash can be
        trusted: the body they describe had its outcome recorded by an earlier run's load.
        None otherwise (another source's row, a body never settled, or this run's own)."""
        row = self.state(url)
        if not row or row.get("source") not in (None, self.source):
            return None
        if not row.get("body_settled"):
            return None
        if self.run_id is not None and row.get("body_run_id") == self.run_id:
            return None
        return row

    def validators(self, url: str) -> tuple[str | None, str | None]:
        row = self._own(url)
        return (row["etag"], row["last_modified"]) if row else (None, None)

    def waiting(self, url: str, now: datetime | None = None) -> bool:
        """True while a URL that failed is inside its backoff window."""
        row = self.state(url)
        if not row or not row["next_attempt_at"]:
            return False
        until = row["next_attempt_at"]
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        return until > (now or datetime.now(UTC))

    def unchanged(self, url: str, body: bytes) -> bool:
        row = self._own(url)
        return bool(row and row["content_sha256"]
                    and row["content_sha256"] == hashlib.sha256(body).hexdigest())

    def record(self, url: str, *, status: int | None, reason: str | None,
               fetched_at: datetime, final_url: str | None = None,
               etag: str | None = None, last_modified: str | None = None,
               body: bytes | None = None, archive_path: str | None = None) -> None:
        previous = self.state(url) or {}
        trusted = self._own(url) is not None
        failures = (previous.get("consecutive_failures") or 0) + 1 if reason else 0
        digest = hashlib.sha256(body).hexdigest() if body is not None and not reason else None
        # A body other than the settled one is new: it is settled by this run's load, or not
        # at all. A 304, an unchanged body or a failure keeps the settled state as it is.
        new_body = digest is not None and not (
            trusted and digest == previous.get("content_sha256"))
        if not reason and body is None:  # a 304 need not repeat the validators
            etag = etag or previous.get("etag")
            last_modified = last_modified or previous.get("last_modified")
        row = {
            "url": url, "source": self.source, "final_url": final_url,
            "etag": etag if not reason else previous.get("etag"),
            "last_modified": last_modified if not reason else previous.get("last_modified"),
            "content_sha256": digest or previous.get("content_sha256"),
            "last_status": status, "last_reason": reason, "last_fetched_at": fetched_at,
            "consecutive_failures": failures,
            "next_attempt_at": fetched_at + backoff(failures) if reason else None,
            "archive_path": archive_path or previous.get("archive_path"),
            "body_run_id": self.run_id if new_body else previous.get("body_run_id"),
            "body_settled": False if new_body else bool(previous.get("body_settled")),
        }
        self._pending[url] = row
        if new_body:
            self._new_body.add(url)
        if len(self._pending) >= self.flush_every:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        # Sorted by URL: concurrent writers (other runs, the load settling rows) lock in
        # one order.
        rows = sorted(self._pending.values(), key=lambda r: r["url"])
        with self.warehouse.begin() as conn:
            for new_body in (True, False):
                group = [r for r in rows if (r["url"] in self._new_body) is new_body]
                if not group:
                    continue
                # Without a new body the settled state stays as the warehouse has it: a
                # load may have settled it since this ledger read the row.
                update = [c.name for c in fetch_ledger.columns if c.name != "url"
                          and (new_body or c.name not in ("body_run_id", "body_settled"))]
                upsert(conn, fetch_ledger, "url", group, update)
        self._known.update(self._pending)
        self._pending.clear()
        self._new_body.clear()


def read_with_body_run(warehouse: Warehouse, url: str) -> dict[str, Any] | None:
    """`url`'s ledger row with the run record of the run that read its body, as
    `body_run_status` and `body_run_failed` (None when that run left no record)."""
    run = ingest_runs.c
    query = (select(fetch_ledger, run.status.label("body_run_status"),
                    run.failed.label("body_run_failed"))
             .select_from(fetch_ledger.outerjoin(ingest_runs, and_(
                 run.run_id == fetch_ledger.c.body_run_id,
                 run.source == fetch_ledger.c.source)))
             .where(fetch_ledger.c.url == url))
    with warehouse.engine.connect() as conn:
        row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def body_run_vouches(row: dict[str, Any]) -> bool:
    """The run that read the body finished its source with status `success` and no failed
    item: every entry a document it read listed (a feed, a sitemap) reached its outcome.
    Such documents are never settled by a load, so this run record is the proof."""
    return row.get("body_run_status") == "success" and not row.get("body_run_failed")


class FeedLedger(FetchLedger):
    """The fetch ledger for feed documents (etl.sources.feeds): a feed's validators answer
    a 304 once the run that read its body finished its source with status `success` and no
    failed item — every entry the feed listed then reached its outcome. No load settles a
    feed's row, so the run record is the proof; a run that crashed, is still running or
    left an entry failed (to be retried) has its feed read in full again next time."""

    def prefetch(self, urls: list[str]) -> None:
        """Nothing ahead: a feed's row is read with its run's record, one document at a
        time (a source reads one or a few feeds)."""

    def state(self, url: str) -> dict[str, Any] | None:
        if url in self._pending or url in self._known:
            return super().state(url)
        row = read_with_body_run(self.warehouse, url)
        if len(self._known) >= CACHE_MAX:
            self._known.clear()
        self._known[url] = row
        return row

    def _own(self, url: str) -> dict[str, Any] | None:
        row = self.state(url)
        if not row or row.get("source") not in (None, self.source):
            return None
        if self.run_id is not None and row.get("body_run_id") == self.run_id:
            return None
        return row if row.get("body_settled") or body_run_vouches(row) else None
