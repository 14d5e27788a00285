"""The revisit schedule: when a stored article is looked at again.

A source's `revisit:` delays (default 1 h, 6 h, 24 h, 3 d, 7 d; `[]` = never) are counted
from when the article was first stored. After a revisit at `now`, the next one is the
first point `first_stored + delay` later than `now`; when there is none the schedule is
over (next_revisit_at NULL) and the article is never revisited again, except by
`news-etl revisit --all`. Points missed while nothing ran (a stopped scheduler) are
skipped, not replayed one after another: one revisit catches up.

An article not revisited yet has no schedule row: it is due once its first delay has
passed, as long as its last point is still ahead (older articles, e.g. loaded before
revisits existed, are left alone).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from etl.records import to_utc


def next_revisit(first_stored: datetime, delays: Sequence[timedelta],
                 now: datetime) -> datetime | None:
    """The first schedule point after `now`; None when the schedule is over."""
    first_stored, now = to_utc(first_stored), to_utc(now)
    for delay in delays:
        if first_stored + delay > now:
            return first_stored + delay
    return None


def first_visit_window(delays: Sequence[timedelta], now: datetime
                       ) -> tuple[datetime, datetime] | None:
    """(stored after, stored at or before): the first-stored times of articles without a
    schedule row that are due at `now`. None when the source has no revisits."""
    if not delays:
        return None
    now = to_utc(now)
    return now - delays[-1], now - delays[0]
