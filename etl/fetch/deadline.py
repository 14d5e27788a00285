"""The whole-attempt deadline (slow-loris defence): a watchdog per attempt.

Socket timeouts apply per read: a server that trickles one byte per second never trips
them, in the headers or the body. A watchdog per attempt shuts down every socket the
attempt opened or reused when the attempt overruns, which turns the blocked read into
an error (or an early EOF) that the fetcher reports as `timeout`. It watches sockets, not
connection objects: for a response the server will close (HTTP/1.0, `Connection:
close`) http.client hands the socket to the response and forgets it on the connection.

The armed watchdog is per thread (`arm`, `disarm`, `armed`): the connections opened or
reused by this thread register their sockets with it (see connections.py).
"""

from __future__ import annotations

import io
import socket
import threading
import time
from contextlib import suppress

import urllib3

_armed = threading.local()  # .dog: this fetch thread's armed watchdog


class Watchdog:
    """Shuts down the sockets it watches once `seconds` have passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._deadline = time.monotonic() + seconds
        self._timer = self._start(seconds)

    def _start(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(max(0.0, seconds), self._expire)
        timer.daemon = True
        timer.start()
        return timer

    def watch(self, sock: socket.socket | None) -> None:
        if sock is None:
            return
        with self._lock:
            if not any(known is sock for known in self._sockets):
                self._sockets.append(sock)
            fired = self.fired
        if fired:
            _shutdown(sock)

    def remaining(self) -> float:
        return self._deadline - time.monotonic()

    def extend(self, seconds: float) -> None:
        """Move the deadline to `seconds` from now (a no-op once fired: that stays final)."""
        with self._lock:
            if self.fired:
                return
            self._timer.cancel()
            self.seconds = seconds
            self._deadline = time.monotonic() + seconds
            self._timer = self._start(seconds)

    def _expire(self) -> None:
        with self._lock:
            self.fired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _shutdown(sock: socket.socket) -> None:
    # The plain-socket method also for TLS sockets: it ends the TCP stream under the TLS
    # layer without touching the SSL object another thread may be reading through.
    with suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def armed() -> Watchdog | None:
    """This thread's armed watchdog, if any."""
    return getattr(_armed, "dog", None)


def arm(seconds: float) -> Watchdog:
    """Arm a new watchdog for this thread (disarming the previous one)."""
    disarm()
    dog = _armed.dog = Watchdog(seconds)
    return dog


def disarm() -> None:
    """Cancel and forget this thread's watchdog."""
    dog = armed()
    if dog is not None:
        dog.cancel()
        _armed.dog = None


def detach() -> None:
    """Forget this thread's watchdog without cancelling it: a download that outlives its
    request keeps its deadline, and a fetch made meanwhile on this thread cannot disarm it."""
    _armed.dog = None


def timed_out(dog: Watchdog | None) -> bool:
    return dog is not None and dog.fired


class DeadlineReader(io.RawIOBase):
    """A streamed body that raises TimeoutError once its watchdog has fired, so a
    download cut at its deadline never looks like a complete (shorter) file."""

    def __init__(self, raw: urllib3.response.BaseHTTPResponse, dog: Watchdog,
                 url: str, limit_s: float) -> None:
        super().__init__()
        self._raw = raw
        self._dog = dog
        self._url = url
        self._limit_s = limit_s
        self._pending = b""  # decoded bytes beyond what the last caller asked for

    def _timed_out(self) -> TimeoutError:
        return TimeoutError(f"{self._url}: download not finished within "
                            f"{self._limit_s:.0f}s (server too slow)")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def,override]
        if self._dog.fired:
            raise self._timed_out()
        data, self._pending = self._pending, b""
        if not data:
            try:
                data = self._raw.read(len(buffer))
            except (urllib3.exceptions.HTTPError, OSError):
                if self._dog.fired:
                    raise self._timed_out() from None
                raise
            if self._dog.fired:  # an EOF caused by our shutdown is not the end of the file
                raise self._timed_out()
        data, self._pending = data[:len(buffer)], data[len(buffer):]
        buffer[:len(data)] = data
        return len(data)
