"""robots.txt, fetched once per origin per Fetcher and cached (thread-safe).

Policy (what happens when robots.txt cannot be used):
- 2xx: parsed with protego; disallowed URLs fail with reason `robots_disallowed`.
- 4xx (including 404/401/403): no usable rules → everything is allowed (the common
  crawler convention: a missing robots.txt means no restrictions).
- 5xx, timeouts, connection/DNS errors, or a refused address: allowed, with a warning
  logged. We fetch only pages a source explicitly lists, at a polite rate, so we prefer
  not to lose a whole source to a temporarily broken robots.txt.
The user-agent token matched against `User-agent:` lines is the first word of
`HttpSettings.user_agent` (e.g. "news-etl/0.1" → rules for "news-etl" apply).
A `Crawl-delay` for our agent raises that host's politeness delay (capped at 30 s).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Protocol
from urllib.parse import urlsplit

from protego import Protego

logger = logging.getLogger(__name__)

MAX_ROBOTS_BYTES = 512 * 1024  # Google reads the first 500 KiB
MAX_CRAWL_DELAY_S = 30.0


class _Response(Protocol):
    status: int | None
    body: bytes | None
    reason: str | None
    detail: str | None


def user_agent_token(user_agent: str) -> str:
    """First word of the User-Agent header, e.g. 'news-etl/0.1 (+https://…)' → 'news-etl/0.1'."""
    parts = user_agent.split()
    return parts[0] if parts else "*"


class _Entry:
    __slots__ = ("loaded", "lock", "rules")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.loaded = False
        self.rules: Protego | None = None  # None = allow everything


class RobotsCache:
    """`allowed(url)` answers from the origin's robots.txt, fetching it on first use."""

    def __init__(
        self,
        fetch: Callable[[str], _Response],
        user_agent: str,
        on_crawl_delay: Callable[[str, float], None] | None = None,
    ) -> None:
        self._fetch = fetch
        self.token = user_agent_token(user_agent)
        self._on_crawl_delay = on_crawl_delay
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def _entry(self, origin: str) -> _Entry:
        with self._lock:
            entry = self._entries.get(origin)
            if entry is None:
                entry = self._entries[origin] = _Entry()
            return entry

    def allowed(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        entry = self._entry(origin)
        # Per-origin lock: the first thread fetches, others for that origin wait for it,
        # and other origins are not blocked.
        with entry.lock:
            if not entry.loaded:
                entry.rules = self._load(origin, parts.hostname or "")
                entry.loaded = True
            rules = entry.rules
        if rules is None:
            return True
        return bool(rules.can_fetch(url, self.token))

    def _load(self, origin: str, host: str) -> Protego | None:
        robots_url = origin + "/robots.txt"
        result = self._fetch(robots_url)
        status = result.status
        if result.reason is not None and not (status and 400 <= status < 500):
            logger.warning("robots.txt %s unusable (%s: %s); allowing all",
                           robots_url, result.reason, result.detail)
            return None
        if status is None or status >= 300 or result.body is None:
            logger.debug("robots.txt %s: status %s; allowing all", robots_url, status)
            return None
        text = result.body[:MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
        try:
            rules = Protego.parse(text)
        except Exception as exc:  # protego is lenient; never lose a source to a parser bug
            logger.warning("robots.txt %s unparseable (%s); allowing all", robots_url, exc)
            return None
        delay = rules.crawl_delay(self.token)
        if delay and self._on_crawl_delay is not None:
            self._on_crawl_delay(host, min(float(delay), MAX_CRAWL_DELAY_S))
        return rules
