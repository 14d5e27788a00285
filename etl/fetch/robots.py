"""robots.txt per RFC 9309, fetched at most once per origin per TTL and shared.

Where it is kept: a process-wide cache shared by every Fetcher of the process and, with
`http.limiter_url`, Redis as well (the raw status and body; each process parses it
itself). With Redis, one process at a time fetches a given origin's robots.txt (a lock
in Redis), so concurrent runs, chunk tasks and workers request it once per TTL in total.

How long: `http.robots_ttl_s` (default 3600 s) for a usable answer (2xx or 4xx); an
unreachable robots.txt is remembered for min(TTL, `UNREACHABLE_TTL_S` = 300 s), so the
items of one run fail fast instead of asking a broken server again for each URL, and a
later run asks again. A TTL of 0 disables caching.

Policy (RFC 9309 §2.3.1):
- 2xx: parsed with protego (the first 512 KiB); disallowed URLs fail with reason
  `robots_disallowed`. Redirects are followed (up to `max_redirects`, each hop through the
  SSRF guard); more hops than that count as "unavailable" (below).
- 4xx other than 429 ("unavailable"): no rules, everything is allowed.
- 5xx, 429, timeouts, connection and DNS errors, a refused (private) address, a corrupt or
  oversized body ("unreachable"): complete disallow. Every URL of that origin fails with
  reason `robots_unavailable`; no request is sent for it, and the fetch stage leaves its
  fetch-ledger row untouched, so it is tried again on the next run with no backoff.
The user-agent token matched against `User-agent:` lines is the first word of
`HttpSettings.user_agent` (e.g. "news-etl/0.1" → rules for "news-etl" apply).
A `Crawl-delay` for our agent raises that host's politeness gap (capped at 30 s) for
every Fetcher sharing the limiter, for the robots TTL.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from protego import Protego

from etl.fetch.politeness import LimiterUnavailable

log = logging.getLogger(__name__)

MAX_ROBOTS_BYTES = 512 * 1024  # RFC 9309: parse at least the first 500 KiB
MAX_CRAWL_DELAY_S = 30.0
UNREACHABLE_TTL_S = 300.0  # an unreachable robots.txt is asked again after this long


class _Response(Protocol):
    status: int | None
    body: bytes | None
    reason: str | None
    detail: str | None


def user_agent_token(user_agent: str) -> str:
    """First word of the User-Agent header, e.g. 'news-etl/0.1 (+https://…)' → 'news-etl/0.1'."""
    parts = user_agent.split()
    return parts[0] if parts else "*"


@dataclass(frozen=True)
class RobotsRecord:
    """What fetching one origin's robots.txt gave: enough to decide, small enough to share."""

    status: int | None  # final HTTP status; None when no response arrived
    body: bytes | None  # the 2xx body (first MAX_ROBOTS_BYTES), else None
    reason: str | None = None  # the fetch failure reason, if any
    detail: str | None = None

    @classmethod
    def from_result(cls, result: _Response) -> RobotsRecord:
        ok = result.reason is None and result.body is not None
        return cls(status=result.status,
                   body=result.body[:MAX_ROBOTS_BYTES] if ok and result.body is not None
                   else None,
                   reason=result.reason, detail=(result.detail or "")[:300] or None)

    @property
    def kind(self) -> str:
        """"rules" (parse the body), "allow" (no rules) or "unreachable" (disallow all)."""
        status = self.status
        if self.reason is None and self.body is not None and status and 200 <= status < 300:
            return "rules"
        if self.reason == "redirect_loop":  # RFC 9309: too many redirects → unavailable
            return "allow"
        if self.reason is not None and self.reason.startswith("http_") and status \
                and 400 <= status < 500 and status != 429:
            return "allow"
        return "unreachable"


class RobotsStore(Protocol):
    """Where robots.txt records live between fetches (process-wide, or Redis)."""

    def get_or_load(self, origin: str, load: Callable[[], RobotsRecord],
                    ttl: Callable[[RobotsRecord], float], hold_s: float) -> RobotsRecord:
        """The origin's fresh record, calling `load()` (once, across everything sharing the
        store) when there is none; `ttl(record)` says how long a loaded record stays fresh
        and `hold_s` bounds how long one load may take."""
        ...


class LocalRobotsStore:
    """The process-wide store: origin → (record, monotonic expiry)."""

    MAX_ENTRIES = 10_000

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[RobotsRecord, float]] = {}
        self._loading: dict[str, threading.Lock] = {}

    def cached(self, origin: str) -> RobotsRecord | None:
        with self._lock:
            entry = self._entries.get(origin)
        if entry is None or time.monotonic() >= entry[1]:
            return None
        return entry[0]

    def put(self, origin: str, record: RobotsRecord, ttl_s: float) -> None:
        if ttl_s <= 0:
            return
        now = time.monotonic()
        with self._lock:
            if len(self._entries) >= self.MAX_ENTRIES:
                for key in [k for k, (_, until) in self._entries.items() if until <= now]:
                    del self._entries[key]
                if len(self._entries) >= self.MAX_ENTRIES:
                    self._entries.clear()
            self._entries[origin] = (record, now + ttl_s)

    def loading_lock(self, origin: str) -> threading.Lock:
        with self._lock:
            lock = self._loading.get(origin)
            if lock is None:
                if len(self._loading) >= self.MAX_ENTRIES:
                    for key in [k for k, v in self._loading.items() if not v.locked()]:
                        del self._loading[key]
                lock = self._loading[origin] = threading.Lock()
            return lock

    def get_or_load(self, origin: str, load: Callable[[], RobotsRecord],
                    ttl: Callable[[RobotsRecord], float], hold_s: float) -> RobotsRecord:
        record = self.cached(origin)
        if record is not None:
            return record
        # Per-origin lock: the first thread fetches, the others for that origin wait for
        # it, and other origins are not blocked.
        with self.loading_lock(origin):
            record = self.cached(origin)
            if record is None:
                record = load()
                self.put(origin, record, ttl(record))
            return record


class RobotsCache:
    """One Fetcher's robots.txt checks: `verdict(url)` answers from the origin's robots.txt,
    fetching it through `fetch` when the shared store has no fresh copy."""

    def __init__(
        self,
        fetch: Callable[[str], _Response],
        user_agent: str,
        on_crawl_delay: Callable[[str, float], None] | None = None,
        *,
        store: RobotsStore | None = None,
        ttl_s: float = 3600.0,
        hold_s: float = 60.0,
    ) -> None:
        self._fetch = fetch
        self.token = user_agent_token(user_agent)
        self._on_crawl_delay = on_crawl_delay
        self.store = store if store is not None else LocalRobotsStore()
        self.ttl_s = max(0.0, float(ttl_s))
        self.hold_s = hold_s
        self._lock = threading.Lock()
        # origin → (the record these rules were parsed from, the rules or None = allow all)
        self._parsed: dict[str, tuple[RobotsRecord, Protego | None]] = {}

    def _ttl(self, record: RobotsRecord) -> float:
        if record.kind == "unreachable":
            return min(self.ttl_s, UNREACHABLE_TTL_S)
        return self.ttl_s

    def verdict(self, url: str) -> tuple[str, str] | None:
        """None when `url` may be fetched, else (reason, detail) with reason
        `robots_disallowed` or `robots_unavailable`. Raises LimiterUnavailable when a
        shared store is configured and unreachable."""
        parts = urlsplit(url)
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        robots_url = origin + "/robots.txt"
        record = self.store.get_or_load(
            origin, lambda: self._load(robots_url), self._ttl, self.hold_s)
        if record.kind == "unreachable":
            why = record.reason or f"status {record.status}"
            return ("robots_unavailable",
                    f"{robots_url} unreachable ({why}: {record.detail or ''}); RFC 9309: "
                    "complete disallow until it can be read")
        rules = self._rules(origin, parts.hostname or "", record)
        if rules is None or rules.can_fetch(url, self.token):
            return None
        return "robots_disallowed", f"robots.txt disallows {url}"

    def allowed(self, url: str) -> bool:
        return self.verdict(url) is None

    def _load(self, robots_url: str) -> RobotsRecord:
        result = self._fetch(robots_url)
        if result.reason == "limiter_unavailable":  # our problem, not the site's: no record
            raise LimiterUnavailable(result.detail or "shared politeness limiter unavailable")
        record = RobotsRecord.from_result(result)
        if record.kind == "unreachable":
            log.warning("robots.txt %s unreachable (%s: %s); disallowing the origin",
                           robots_url, record.reason, record.detail)
        elif record.kind == "allow":
            log.debug("robots.txt %s: %s; allowing all", robots_url,
                         record.reason or record.status)
        return record

    def _rules(self, origin: str, host: str, record: RobotsRecord) -> Protego | None:
        with self._lock:
            parsed = self._parsed.get(origin)
        if parsed is not None and parsed[0] is record:
            return parsed[1]
        rules = None
        if record.kind == "rules" and record.body is not None:
            text = record.body.decode("utf-8", errors="replace")
            try:
                rules = Protego.parse(text)
            except Exception as exc:  # protego is lenient; never lose a source to a parser bug
                log.warning("robots.txt %s/robots.txt unparseable (%s); allowing all",
                               origin, exc)
        if rules is not None:
            delay = rules.crawl_delay(self.token)
            if delay and self._on_crawl_delay is not None:
                self._on_crawl_delay(host, min(float(delay), MAX_CRAWL_DELAY_S))
        with self._lock:
            if len(self._parsed) >= LocalRobotsStore.MAX_ENTRIES:
                self._parsed.clear()
            self._parsed[origin] = (record, rules)
        return rules
