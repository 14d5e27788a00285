"""Per-host politeness shared by every fetch of the process — or, with `http.limiter_url`,
of every process on every machine that uses the same Redis.

Two rules per host (the URL's host name, port ignored):
- request *starts* are at least `gap` apart, where gap = max(the caller's `min_delay_s`,
  the host's robots.txt `Crawl-delay`);
- at most `max_per_host` (the caller's setting) requests to the host are in flight at once.
Hosts are independent, so a slow host never delays another one. A start is granted only
at the moment it may happen, to a thread that is running and sends at once; it is never
reserved ahead and slept towards (a thread that wakes up late would then send after one
that was on time, and the host would see a shorter gap).

Backends (`LimiterBackend`), one per process each, shared by every Fetcher in it:
- `LocalLimiter` when `limiter_url` is empty: threads of this process only. Each Airflow
  task and each CLI run is its own process, so concurrent runs do not see each other.
- `RedisLimiter` (etl/fetch/limiter_redis.py) when `limiter_url` is a redis:// URL
  (env `NEWS_ETL_LIMITER_URL`): one Lua script grants a slot and a start atomically, on
  Redis' clock, so runs, chunk tasks and workers on any machine agree.
  Slots are leases renewed by the holding process; a worker that dies frees its slots
  when they expire (`LEASE_S`, 30 s) — a crash never blocks a host for good.
When Redis is configured but cannot be reached, acquiring raises `LimiterUnavailable`
and the fetch fails with reason `limiter_unavailable`: we never fetch without politeness.

`HostLimiter` is one Fetcher's view of its process's backend: its own `min_delay_s` and
`max_per_host`, with `acquire(host)` / `release(host)` / `set_delay(host, s)` / `slot(host)`.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from etl.fetch.robots import RobotsStore

MIN_CRAWL_DELAY_TTL_S = 60.0  # a Crawl-delay is kept this long at least, whatever the TTL


class LimiterUnavailable(RuntimeError):
    """The configured shared limiter (Redis) cannot be used; the fetch must not proceed."""


class LimiterBackend(Protocol):
    """Shared per-host state: concurrency slots, start spacing and Crawl-delay raises."""

    def acquire(self, host: str, min_delay_s: float, max_per_host: int) -> str:
        """Block until a request to `host` may start; returns a token for `release`."""
        ...

    def release(self, host: str, token: str) -> None:
        """Give the slot back. Never raises (a lost release expires on its own in Redis)."""
        ...

    def raise_delay(self, host: str, delay_s: float, ttl_s: float) -> None:
        """Raise the host's gap to at least `delay_s` for `ttl_s` seconds; never lowers it."""
        ...

    def delay(self, host: str) -> float:
        """The host's current raised gap (0 when none)."""
        ...

    def close(self) -> None: ...


class _LocalHost:
    __slots__ = ("cond", "crawl_delay", "crawl_delay_until", "in_flight", "last_start")

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.in_flight = 0
        self.last_start = float("-inf")  # monotonic time of the latest granted start
        self.crawl_delay = 0.0
        self.crawl_delay_until = 0.0

    def idle(self, now: float) -> bool:
        return (self.in_flight == 0 and now > self.crawl_delay_until
                and now > self.last_start + 3600)


class LocalLimiter:
    """The process-wide backend: threads of this process, monotonic clock."""

    MAX_IDLE_HOSTS = 10_000  # forget idle hosts past this many (memory stays bounded)

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hosts: dict[str, _LocalHost] = {}
        self._tokens = itertools.count()

    def _state(self, host: str) -> _LocalHost:
        with self._lock:
            state = self._hosts.get(host)
            if state is None:
                if len(self._hosts) >= self.MAX_IDLE_HOSTS:
                    now = time.monotonic()
                    for name in [h for h, s in self._hosts.items() if s.idle(now)]:
                        del self._hosts[name]
                state = self._hosts[host] = _LocalHost()
            return state

    def acquire(self, host: str, min_delay_s: float, max_per_host: int) -> str:
        state = self._state(host)
        limit = max(1, max_per_host)
        with state.cond:
            while True:
                now = time.monotonic()
                gap = max(0.0, min_delay_s)
                if now < state.crawl_delay_until:
                    gap = max(gap, state.crawl_delay)
                if state.in_flight < limit and now >= state.last_start + gap:
                    # Granted now, to a running thread that sends at once (see above).
                    state.in_flight += 1
                    state.last_start = now
                    return str(next(self._tokens))
                if state.in_flight >= limit:
                    state.cond.wait()  # a release notifies
                else:
                    state.cond.wait(state.last_start + gap - now)

    def release(self, host: str, token: str) -> None:
        state = self._state(host)
        with state.cond:
            if state.in_flight > 0:
                state.in_flight -= 1
            state.cond.notify_all()  # waiters may have different max_per_host

    def raise_delay(self, host: str, delay_s: float, ttl_s: float) -> None:
        state = self._state(host)
        now = time.monotonic()
        with state.cond:
            if now >= state.crawl_delay_until or delay_s >= state.crawl_delay:
                state.crawl_delay = float(delay_s)
                state.crawl_delay_until = now + ttl_s

    def delay(self, host: str) -> float:
        state = self._state(host)
        with state.cond:
            return state.crawl_delay if time.monotonic() < state.crawl_delay_until else 0.0

    def close(self) -> None:
        pass


class HostLimiter:
    """One Fetcher's politeness: `with limiter.slot(host): ...` around each HTTP request,
    or `acquire(host)` … `release(host)` from the same Fetcher."""

    def __init__(self, min_delay_s: float, max_per_host: int,
                 backend: LimiterBackend | None = None,
                 crawl_delay_ttl_s: float = 3600.0) -> None:
        self.min_delay_s = max(0.0, float(min_delay_s))
        self.max_per_host = max(1, int(max_per_host))
        self.backend = backend if backend is not None else shared_politeness("")[0]
        self.crawl_delay_ttl_s = max(MIN_CRAWL_DELAY_TTL_S, float(crawl_delay_ttl_s))
        self._lock = threading.Lock()
        self._held: dict[str, list[str]] = {}  # host → tokens this limiter holds

    def acquire(self, host: str) -> None:
        """Block until a request to `host` may start; pair with `release(host)`.
        Raises LimiterUnavailable when the shared backend cannot be reached."""
        host = host.lower()
        token = self.backend.acquire(host, self.min_delay_s, self.max_per_host)
        with self._lock:
            self._held.setdefault(host, []).append(token)

    def release(self, host: str) -> None:
        host = host.lower()
        with self._lock:
            tokens = self._held.get(host)
            if not tokens:
                return  # nothing held: a release without acquire must not free others' slots
            token = tokens.pop()
            if not tokens:
                del self._held[host]
        self.backend.release(host, token)

    def release_all(self) -> None:
        """Give back whatever is still held (a Fetcher closing after an interrupted fetch)."""
        with self._lock:
            held, self._held = self._held, {}
        for host, tokens in held.items():
            for token in tokens:
                self.backend.release(host, token)

    def set_delay(self, host: str, delay_s: float) -> None:
        """Raise one host's gap (a robots.txt Crawl-delay) for every Fetcher sharing the
        backend, for the robots TTL; never lowers it."""
        self.backend.raise_delay(host.lower(), float(delay_s), self.crawl_delay_ttl_s)

    def delay(self, host: str) -> float:
        """The gap this limiter keeps between two starts to `host`."""
        return max(self.min_delay_s, self.backend.delay(host.lower()))

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """Hold one of the host's concurrency slots for the duration of the block."""
        self.acquire(host)
        try:
            yield
        finally:
            self.release(host)


# -- the process-wide registry ------------------------------------------------------------

_registry_lock = threading.Lock()
_local: tuple[LocalLimiter, RobotsStore] | None = None
_shared: dict[str, tuple[LimiterBackend, RobotsStore]] = {}


def shared_politeness(limiter_url: str) -> tuple[LimiterBackend, RobotsStore]:
    """This process's limiter backend and robots.txt store for `limiter_url` ("" = local).
    Every Fetcher with the same URL gets the same pair."""
    global _local
    with _registry_lock:
        if not limiter_url:
            if _local is None:
                from etl.fetch.robots import LocalRobotsStore

                _local = (LocalLimiter(), LocalRobotsStore())
            return _local
        pair = _shared.get(limiter_url)
        if pair is None:
            from etl.fetch.limiter_redis import redis_politeness

            pair = _shared[limiter_url] = redis_politeness(limiter_url)
        return pair


def reset_shared_politeness() -> None:
    """Forget every process-wide backend and cached robots.txt (tests; after fork)."""
    global _local
    with _registry_lock:
        pairs = list(_shared.values())
        _shared.clear()
        _local = None
    for backend, _store in pairs:
        backend.close()


def _after_fork_in_child() -> None:
    # Locks and leases copied from the parent belong to the parent's threads: start afresh.
    global _local, _registry_lock
    _registry_lock = threading.Lock()
    _local = None
    for backend, _store in _shared.values():
        forget = getattr(backend, "forget_after_fork", None)
        if forget is not None:
            forget()
    _shared.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
