"""Pinned, watched urllib3 connections behind a requests adapter.

Each hop connects only to the addresses the SSRF guard checked (`pinned`): no second DNS
lookup, so DNS rebinding cannot redirect it; Host, SNI and the certificate check still
use the name. Every socket is registered with the calling thread's watchdog (deadline.py)
at connect time, so a TLS handshake is covered, and on every request, as keep-alive
connections are reused.
"""

from __future__ import annotations

import ipaddress
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import urllib3
import urllib3.util.connection
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from etl.fetch.deadline import armed
from etl.fetch.guard import Admitted

_pins = threading.local()  # .pin: the Admitted this thread's connections may go to


@contextmanager
def pinned(admitted: Admitted) -> Iterator[None]:
    """Connections opened by this thread meanwhile go to `admitted.addresses` only."""
    _pins.pin = admitted
    try:
        yield
    finally:
        _pins.pin = None


def _host_key(host: str) -> str:
    host = host.strip("[]").lower().rstrip(".")
    with suppress(ValueError):
        return str(ipaddress.ip_address(host))  # one spelling per IP literal
    return host


class _WatchedConnection:
    """Mixin for urllib3 connections: connect only to the addresses the SSRF guard
    checked for this request, and register every socket with the thread's watchdog."""

    host: str
    port: int
    timeout: object
    source_address: tuple[str, int] | None
    socket_options: object
    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        pin: Admitted | None = getattr(_pins, "pin", None)
        if pin is None or (_host_key(pin.host), pin.port) != (_host_key(self.host), self.port):
            # Fail closed: never fall back to resolving the name ourselves.
            raise urllib3.exceptions.NewConnectionError(
                self, f"no address checked by the SSRF guard for {self.host}:{self.port}")
        dog = armed()
        failure: Exception | None = None
        for address in pin.addresses:
            timeout = self.timeout if isinstance(self.timeout, int | float) else None
            if dog is not None:  # every connect attempt fits in what is left of the deadline
                left = dog.remaining()
                if left <= 0:
                    break
                timeout = left if timeout is None else min(timeout, left)
            try:
                sock = urllib3.util.connection.create_connection(
                    (address, self.port), timeout, source_address=self.source_address,
                    socket_options=self.socket_options)  # type: ignore[arg-type]
            except TimeoutError as exc:
                failure = urllib3.exceptions.ConnectTimeoutError(
                    self, f"connection to {self.host} ({address}) timed out "
                          f"(connect timeout={timeout})")
                failure.__cause__ = exc
            except OSError as exc:
                failure = urllib3.exceptions.NewConnectionError(
                    self, f"failed to establish a new connection to {self.host} "
                          f"({address}): {exc}")
                failure.__cause__ = exc
            else:
                sys.audit("http.client.connect", self, self.host, self.port)
                if dog is not None:
                    dog.watch(sock)
                return sock
        raise failure or urllib3.exceptions.ConnectTimeoutError(
            self, f"connection to {self.host} not made within the attempt deadline")

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        dog = armed()
        if dog is not None:
            dog.watch(self.sock)  # for TLS, the wrapped socket replaces the raw one

    def request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        dog = armed()
        if dog is not None:
            dog.watch(self.sock)  # None for a new connection: connect() registers it
        return super().request(*args, **kwargs)  # type: ignore[misc]


class _HTTPConnection(_WatchedConnection, urllib3.connection.HTTPConnection):
    pass


class _HTTPSConnection(_WatchedConnection, urllib3.connection.HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class WatchedAdapter(HTTPAdapter):
    """A requests adapter whose pools make pinned, watched connections."""

    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
