"""Whether a whole-source failure is hard (the source is gone or is not what it claims)
or soft (it may well answer next time), read from the failure the run recorded.

A source's failure reaches the poll state as the run's error text — the same text the
CLI prints and `ingest_runs.error` keeps, and the only thing a staged Airflow run carries
from its discover task to its load task. Its fetch reason (etl.fetch.result) and the
sources' own messages (etl.sources) are stable, so they are matched here:

    hard   http_404, http_410 and the other refusals (http_4xx but 408 and 429), dns,
           bad_url, blocked_address, redirect_loop, robots_disallowed, not_html;
           not a feed / sitemap / WARC, corrupt gzip, a page advertising no feed;
           a local file or folder that is missing
    soft   http_5xx, http_408, http_429, timeout, connect, robots_unavailable,
           limiter_unavailable, too_large, decode_error, and anything not recognised
"""

from __future__ import annotations

import re

from etl.polling.rule import FailureKind

# "source 'x': cannot fetch https://…: http_404 (…)" (etl.sources._web, etl.sources.warc)
_FETCH_REASON = re.compile(r"cannot fetch \S+: (\w+)")
HARD_REASONS = frozenset({"dns", "bad_url", "blocked_address", "redirect_loop",
                          "robots_disallowed", "not_html"})
SOFT_HTTP = frozenset({408, 429})
# What the sources say when the bytes they got are not what the source claims to be, or
# the local path is not there.
_HARD_MESSAGES = re.compile(
    r"is not a feed|is not a sitemap|advertises no feed|no usable feed|is not a readable "
    r"WARC|corrupt gzip|does not exist|nothing found at|no WARC/ARC files|cannot read |"
    r"neither a folder|unsupported location|unknown kind")


def failure_kind(error: str | None) -> FailureKind:
    """Hard or soft, from a failed source's error text (unknown text: soft)."""
    text = error or ""
    match = _FETCH_REASON.search(text)
    if match:
        reason = match.group(1)
        if reason.startswith("http_") and reason[5:].isdigit():
            status = int(reason[5:])
            hard = 400 <= status < 500 and status not in SOFT_HTTP
        else:
            hard = reason in HARD_REASONS
        return FailureKind.HARD if hard else FailureKind.SOFT
    return FailureKind.HARD if _HARD_MESSAGES.search(text) else FailureKind.SOFT
