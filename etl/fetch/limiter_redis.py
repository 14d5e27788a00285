"""Politeness shared through Redis by every process that uses the same `http.limiter_url`
(concurrent runs, Airflow chunk tasks, Celery workers on other machines). See
etl/fetch/politeness.py for the rules and etl/fetch/robots.py for the robots.txt policy.

Keys, under a prefix (default `news-etl`; `redis://host:6379/0?key_prefix=NAME` to
share one Redis between deployments):

    {prefix}:host:{host}:leases    sorted set: lease token → expiry (µs, Redis clock)
    {prefix}:host:{host}:last      the latest granted request start (µs, Redis clock)
    {prefix}:host:{host}:delay     a Crawl-delay raise (µs), expiring with the robots TTL
    {prefix}:robots:{origin}       hash: status, body, reason, detail; expires with its TTL
    {prefix}:robots:{origin}:lock  the process fetching that robots.txt right now

Needs Redis 6.2 or later (ZADD … GT). Every decision is one Lua script run atomically by
Redis with Redis' own clock (TIME), so machines with skewed clocks still agree. A slot is
a lease of `LEASE_S` seconds that a thread of the holding process renews every third of
that while the request runs; a process that dies stops renewing and its slots come back
by themselves.
Any Redis error becomes `LimiterUnavailable` (the fetch then fails with reason
`limiter_unavailable`); politeness is never skipped.
"""

from __future__ import annotations

import logging
import random
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import suppress
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from etl.fetch.politeness import LimiterUnavailable
from etl.fetch.robots import LocalRobotsStore, RobotsRecord

log = logging.getLogger(__name__)

LEASE_S = 30.0  # a dead holder's slot comes back after at most this long
DEFAULT_PREFIX = "news-etl"
RETRY_POLL_S = 0.05  # longest sleep between two tries for a full host or a robots lock
DOWN_FOR_S = 1.0  # after a Redis error, fail fast for this long instead of reconnecting per call

# KEYS: leases, last, delay. ARGV: token, max_per_host, lease µs, min gap µs.
# Returns {1, 0} when granted now, {0, µs until the earliest lease expires} when the host
# is full, or {2, µs until the gap has passed}. A start is
# granted only at the moment it may happen (never reserved ahead), so a process that
# wakes up late loses its turn instead of sending late, after one that was on time.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(first[2]) - now}
end
local gap = tonumber(ARGV[4])
local raised = redis.call('GET', KEYS[3])
if raised and tonumber(raised) > gap then gap = tonumber(raised) end
local last = redis.call('GET', KEYS[2])
if last and tonumber(last) + gap > now then
  return {2, tonumber(last) + gap - now}
end
local lease = tonumber(ARGV[3])
redis.call('SET', KEYS[2], string.format('%d', now), 'PX', 3600000)
redis.call('ZADD', KEYS[1], string.format('%d', now + lease), ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.floor(lease / 1000) + 60000)
return {1, 0}
"""

# KEYS: leases. ARGV: token, lease µs. Extends a lease still held (never shortens one).
_RENEW = """
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local lease = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', 'GT', string.format('%d', now + lease), ARGV[1])
redis.call('PEXPIRE', KEYS[1], math.floor(lease / 1000) + 60000)
return 1
"""

# KEYS: delay. ARGV: delay µs, ttl ms. Raises the gap; never lowers it before it expires.
_RAISE = """
local cur = redis.call('GET', KEYS[1])
if (not cur) or tonumber(ARGV[1]) >= tonumber(cur) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1
"""

# KEYS: lock. ARGV: token. Deletes the lock only if we still own it.
_UNLOCK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


def split_limiter_url(url: str) -> tuple[str, str]:
    """(the URL for redis-py, the key prefix) — `key_prefix` is ours, not redis-py's."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((v for k, v in query if k == "key_prefix" and v), DEFAULT_PREFIX)
    rest = urlencode([(k, v) for k, v in query if k != "key_prefix"])
    return urlunsplit(parts._replace(query=rest)), prefix


def masked(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


class _Redis:
    """A redis-py client whose every error becomes LimiterUnavailable, failing fast for
    DOWN_FOR_S after one (a down Redis costs each fetch no connect timeout)."""

    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self.errors: tuple[type[BaseException], ...] = (redis.exceptions.RedisError, OSError)
        client_url, self.prefix = split_limiter_url(url)
        self.client = redis.Redis.from_url(
            client_url, socket_connect_timeout=2.0, socket_timeout=5.0,
            health_check_interval=30)
        self.scripts = {name: self.client.register_script(src) for name, src in
                        (("acquire", _ACQUIRE), ("renew", _RENEW), ("raise", _RAISE),
                         ("unlock", _UNLOCK))}
        self._down_until = 0.0
        self._down_reason = ""

    def call(self, fn: Callable[[], Any]) -> Any:
        if time.monotonic() < self._down_until:
            raise LimiterUnavailable(self._down_reason)
        try:
            return fn()
        except self.errors as exc:
            self._down_reason = (f"shared politeness limiter at {masked(self.url)} "
                                 f"unavailable: {type(exc).__name__}: {exc}")
            self._down_until = time.monotonic() + DOWN_FOR_S
            raise LimiterUnavailable(self._down_reason) from None

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))


class RedisLimiter:
    """The LimiterBackend shared through Redis (one per process and limiter URL)."""

    def __init__(self, redis: _Redis, lease_s: float = LEASE_S) -> None:
        self.redis = redis
        self.lease_s = lease_s
        self._lease_us = int(lease_s * 1_000_000)
        self._lock = threading.Lock()
        self._held: dict[str, str] = {}  # token → leases key, renewed while held
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def _keys(self, host: str) -> list[str]:
        return [self.redis.key("host", host, "leases"), self.redis.key("host", host, "last"),
                self.redis.key("host", host, "delay")]

    def acquire(self, host: str, min_delay_s: float, max_per_host: int) -> str:
        keys = self._keys(host)
        token = uuid.uuid4().hex
        args = [token, max(1, int(max_per_host)), self._lease_us,
                int(max(0.0, min_delay_s) * 1_000_000)]
        script = self.redis.scripts["acquire"]
        while True:
            answer, wait_us = self.redis.call(lambda: script(keys=keys, args=args))
            if answer == 1:
                break
            wait = wait_us / 1_000_000
            if answer == 0:  # full: a release is not announced, so look again soon
                wait = min(wait, RETRY_POLL_S)
            # Jitter: waiting processes do not all ask at the same instant.
            time.sleep(max(wait, 0.001) + 0.005 * random.random())
        self._hold(token, keys[0])
        return token

    def _hold(self, token: str, key: str) -> None:
        with self._lock:
            self._held[token] = key
            if self._renewer is None or not self._renewer.is_alive():
                self._renewer = threading.Thread(target=self._renew_loop, daemon=True,
                                                 name="politeness-lease-renewer")
                self._renewer.start()

    def release(self, host: str, token: str) -> None:
        with self._lock:
            key = self._held.pop(token, None)
        if key is None:
            return
        try:
            self.redis.call(lambda: self.redis.client.zrem(key, token))
        except LimiterUnavailable as exc:  # the lease expires by itself
            log.warning("could not release a politeness slot for %s: %s", host, exc)

    def _renew_loop(self) -> None:
        script = self.redis.scripts["renew"]
        while not self._stop.wait(self.lease_s / 3):
            with self._lock:
                held = list(self._held.items())
            for token, key in held:
                try:
                    self.redis.call(lambda k=key, t=token: script(  # type: ignore[misc]
                        keys=[k], args=[t, self._lease_us]))
                except LimiterUnavailable as exc:
                    log.warning("could not renew a politeness lease: %s", exc)
                    break

    def raise_delay(self, host: str, delay_s: float, ttl_s: float) -> None:
        key = self.redis.key("host", host, "delay")
        script = self.redis.scripts["raise"]
        args = [int(delay_s * 1_000_000), max(1, int(ttl_s * 1000))]
        self.redis.call(lambda: script(keys=[key], args=args))

    def delay(self, host: str) -> float:
        value = self.redis.call(lambda: self.redis.client.get(self.redis.key("host", host,
                                                                             "delay")))
        return int(value) / 1_000_000 if value else 0.0

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            held, self._held = list(self._held.items()), {}
        for token, key in held:
            with suppress(LimiterUnavailable):
                self.redis.call(lambda k=key, t=token: self.redis.client.zrem(k, t))
        self.redis.client.close()

    def forget_after_fork(self) -> None:
        """In a forked child: the parent's leases and renewer are not ours."""
        self._held = {}
        self._renewer = None
        self._lock = threading.Lock()


class RedisRobotsStore:
    """robots.txt records in Redis, with the process-wide layer in front of it."""

    def __init__(self, redis: _Redis) -> None:
        self.redis = redis
        self.local = LocalRobotsStore()

    def _read(self, key: str) -> tuple[RobotsRecord, float] | None:
        def read() -> tuple[dict[bytes, bytes], int]:
            pipe = self.redis.client.pipeline(transaction=False)
            pipe.hgetall(key)
            pipe.pttl(key)
            return tuple(pipe.execute())  # type: ignore[return-value]

        fields, pttl = self.redis.call(read)
        if not fields:
            return None
        status = fields.get(b"status", b"")
        record = RobotsRecord(
            status=int(status) if status else None,
            body=fields.get(b"body") if fields.get(b"has_body") == b"1" else None,
            reason=fields[b"reason"].decode() if fields.get(b"reason") else None,
            detail=fields[b"detail"].decode() if fields.get(b"detail") else None)
        return record, (pttl / 1000 if pttl > 0 else 60.0)

    def _write(self, key: str, record: RobotsRecord, ttl_s: float) -> None:
        mapping = {"status": "" if record.status is None else str(record.status),
                   "has_body": "1" if record.body is not None else "0",
                   "body": record.body or b"", "reason": record.reason or "",
                   "detail": record.detail or ""}

        def write() -> None:
            pipe = self.redis.client.pipeline(transaction=True)
            pipe.delete(key)
            pipe.hset(key, mapping=mapping)
            pipe.pexpire(key, max(1, int(ttl_s * 1000)))
            pipe.execute()

        self.redis.call(write)

    def get_or_load(self, origin: str, load: Callable[[], RobotsRecord],
                    ttl: Callable[[RobotsRecord], float], hold_s: float) -> RobotsRecord:
        record = self.local.cached(origin)
        if record is not None:
            return record
        key = self.redis.key("robots", origin)
        lock_key = key + ":lock"
        token = uuid.uuid4().hex
        hold_ms = max(1000, int(hold_s * 1000))
        unlock = self.redis.scripts["unlock"]
        # Threads of this process queue on the local lock; one of them talks to Redis.
        with self.local.loading_lock(origin):
            record = self.local.cached(origin)
            if record is not None:
                return record
            while True:
                found = self._read(key)
                if found is not None:
                    self.local.put(origin, *found)
                    return found[0]
                if self.redis.call(lambda: self.redis.client.set(lock_key, token, nx=True,
                                                                 px=hold_ms)):
                    try:
                        record = load()
                        ttl_s = ttl(record)
                        if ttl_s > 0:
                            self._write(key, record, ttl_s)
                        self.local.put(origin, record, ttl_s)
                        return record
                    finally:
                        with suppress(LimiterUnavailable):  # else it expires by itself
                            self.redis.call(lambda: unlock(keys=[lock_key], args=[token]))
                # Another process is fetching it: wait for its record (or its lock to end).
                time.sleep(RETRY_POLL_S * (0.5 + random.random()))


def redis_politeness(url: str, lease_s: float = LEASE_S
                     ) -> tuple[RedisLimiter, RedisRobotsStore]:
    """The Redis-backed limiter and robots store for `url` (no connection is made yet)."""
    redis = _Redis(url)
    return RedisLimiter(redis, lease_s), RedisRobotsStore(redis)
