"""What a source remembers of its child sitemaps between polls, so that a child whose
index `lastmod` shows no change since it was last read is not fetched again.

State already in the warehouse, no schema of its own:

- the fetch ledger (one row per URL): a child sitemap read in full gets a row with
  `last_fetched_at` = when that read started, status 200, no failure reason, and
  `body_run_id` = the run that read it;
- the run record (ingest_runs) of that run for this source.

A child is skipped when its `lastmod` is not after its last full read (less a margin for
clock skew) AND the run that read it finished the source with status `success` and no
failed item. No load settles a sitemap's row, so the run record is the proof that every
entry the child listed reached its outcome: a run that crashed, is still running, failed
as a whole or left an item failed (to be retried) has the child read again next time.

Only runs without a requested interval record reads (a backfill takes a slice of the
entries, so a child it read is not read "in full"); a child cut short by max_items, a
failure or a malformed part is not recorded either.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from etl.fetch.ledger import body_run_vouches, read_with_body_run
from etl.records import to_utc
from etl.warehouse import Warehouse
from etl.warehouse.load import upsert
from etl.warehouse.schema import fetch_ledger

# A publisher's clock may lag ours: a child changed just after we read it could carry a
# lastmod slightly before that read. Such a child is read once more.
SKEW_MARGIN = timedelta(minutes=10)
UNCHANGED = "sitemap_unchanged_since_last_read"
FLUSH_EVERY = 500


class SitemapMemory:
    """The last full read of each child sitemap of one source, in the fetch ledger.
    Used from one thread."""

    def __init__(self, warehouse: Warehouse, source: str, run_id: str | None) -> None:
        self.warehouse = warehouse
        self.source = source
        self.run_id = run_id
        self._pending: dict[str, dict[str, Any]] = {}

    def last_read(self, url: str) -> datetime | None:
        """When the last trusted full read of `url` by this source started, else None."""
        row = read_with_body_run(self.warehouse, url)
        if (row is None or row["source"] != self.source or row["last_reason"] is not None
                or row["last_status"] != 200 or row["body_run_id"] is None
                or row["body_run_id"] == self.run_id or not body_run_vouches(row)):
            return None
        return to_utc(row["last_fetched_at"])

    def unchanged(self, url: str, lastmod: datetime | None) -> datetime | None:
        """The last full read of `url` when its `lastmod` is not after it; None when the
        child must be read (no lastmod, never read in full, or changed since)."""
        if lastmod is None:
            return None
        read_at = self.last_read(url)
        if read_at is None or to_utc(lastmod) > read_at - SKEW_MARGIN:
            return None
        return read_at

    def read_in_full(self, url: str, started: datetime) -> None:
        """Note that this run read `url` in full, from `started` (written by `flush`)."""
        if self.run_id is None:
            return  # no run record can vouch for it
        self._pending[url] = {
            "url": url, "source": self.source, "last_status": 200, "last_reason": None,
            "last_fetched_at": to_utc(started), "consecutive_failures": 0,
            "next_attempt_at": None, "body_run_id": self.run_id, "body_settled": False}
        if len(self._pending) >= FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        rows = sorted(self._pending.values(), key=lambda r: r["url"])
        with self.warehouse.begin() as conn:
            upsert(conn, fetch_ledger, "url", rows)
        self._pending.clear()
