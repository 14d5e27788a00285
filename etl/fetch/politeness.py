"""Per-host politeness shared by every thread of one Fetcher.

Two rules per host: request *starts* are at least `min_delay_s` apart, and at most
`max_per_host` requests are in flight at once. Hosts are independent, so a slow host
never delays another one (beyond occupying the worker threads waiting on it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class _HostState:
    __slots__ = ("delay", "next_start", "slots")

    def __init__(self, max_per_host: int, delay: float) -> None:
        self.slots = threading.BoundedSemaphore(max(1, max_per_host))
        self.next_start = 0.0  # monotonic time before which no request may start
        self.delay = delay


class HostLimiter:
    """`with limiter.slot(host): ...` around each HTTP request."""

    def __init__(self, min_delay_s: float, max_per_host: int) -> None:
        self.min_delay_s = max(0.0, float(min_delay_s))
        self.max_per_host = max(1, int(max_per_host))
        self._lock = threading.Lock()
        self._hosts: dict[str, _HostState] = {}

    def _state(self, host: str) -> _HostState:
        with self._lock:
            state = self._hosts.get(host)
            if state is None:
                state = _HostState(self.max_per_host, self.min_delay_s)
                self._hosts[host] = state
            return state

    def set_delay(self, host: str, delay_s: float) -> None:
        """Raise one host's delay (e.g. a robots.txt Crawl-delay); never lowers it."""
        state = self._state(host.lower())
        with self._lock:
            state.delay = max(state.delay, float(delay_s))

    def acquire(self, host: str) -> None:
        """Block until a request to `host` may start; pair with `release(host)`."""
        state = self._state(host.lower())
        state.slots.acquire()
        try:
            # Reserve the next start time under the lock, then sleep outside it so other
            # hosts (and other reservations for this host) are not serialised on the lock.
            with self._lock:
                now = time.monotonic()
                start = max(now, state.next_start)
                state.next_start = start + state.delay
            wait = start - now
            if wait > 0:
                time.sleep(wait)
        except BaseException:
            state.slots.release()
            raise

    def release(self, host: str) -> None:
        self._state(host.lower()).slots.release()

    @contextmanager
    def slot(self, host: str) -> Iterator[None]:
        """Hold one of the host's concurrency slots for the duration of the block."""
        self.acquire(host)
        try:
            yield
        finally:
            self.release(host)
