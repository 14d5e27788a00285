"""What a source remembers of its child sitemaps between polls, so that a child whose
index `lastmod` shows no change since it was last read is not fetched again.

State already in the warehouse, no schema of its own:

- the fetch ledger (one row per URL): a child sitemap read in full gets a row with
  `last_fetched_at` = when that read started, status 200 and no failure reason;
- the source's poll state (source_poll_state): `last_success_at` is written after a run
  whose source did not fail as a whole.

A child is skipped when its `lastmod` is not after its last full read (less a margin for
clock skew) AND a successful poll of the source was recorded after that read. The second
condition makes a read count only once the run that did it finished: a run that crashed,
or failed as a whole, after reading a child leaves it to be read again.

Only runs without a requested interval record reads (a backfill takes a slice of the
entries, so a child it read is not read "in full"); a child cut short by max_items, a
failure or a malformed part is not recorded either.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from etl.records import to_utc
from etl.warehouse import Warehouse

# A publisher's clock may lag ours: a child changed just after we read it could carry a
# lastmod slightly before that read. Such a child is read once more.
SKEW_MARGIN = timedelta(minutes=10)
UNCHANGED = "sitemap_unchanged_since_last_read"


class SitemapMemory:
    """The last full read of each child sitemap of one source (read and written through
    the fetch ledger). Used from one thread."""

    def __init__(self, warehouse: Warehouse, source: str, run_id: str | None = None) -> None:
        from etl.fetch.ledger import FetchLedger
        from etl.polling.store import read_states

        self.source = source
        self.ledger = FetchLedger(warehouse, source, run_id=run_id)
        with warehouse.engine.connect() as conn:
            state = read_states(conn, [source]).get(source)
        self.last_success = state.last_success_at if state is not None else None

    def last_read(self, url: str) -> datetime | None:
        """When the last full read of `url` by this source started, if a successful poll
        of the source was recorded after it; else None."""
        row = self.ledger.state(url)
        if (not row or row.get("source") != self.source or row.get("last_reason")
                or row.get("last_status") != 200 or not row.get("last_fetched_at")):
            return None
        read_at = to_utc(row["last_fetched_at"])
        if self.last_success is None or to_utc(self.last_success) < read_at:
            return None
        return read_at

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
        self.ledger.record(url, status=200, reason=None, fetched_at=to_utc(started))

    def flush(self) -> None:
        self.ledger.flush()


def now() -> datetime:
    return datetime.now(UTC)
