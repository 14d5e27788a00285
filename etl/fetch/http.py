"""Thread-safe, polite, SSRF-guarded HTTP GET that never raises for network/HTTP problems.

`Fetcher.fetch(url)` returns a `FetchResult`; failures carry exactly one `reason`:

    dns, connect, timeout          network problems (after retries)
    http_<status>                  final non-2xx/304 status (after retries for 429/5xx)
    too_large                      body over max_bytes, or decompressed over max_decompressed_bytes
    not_html                       Content-Type not acceptable for what the caller asked for
    robots_disallowed              robots.txt forbids the URL for our user agent
    robots_unavailable             robots.txt unreachable (5xx, 429, network): RFC 9309 disallow
    limiter_unavailable            the shared politeness limiter (Redis) cannot be reached
    redirect_loop                  a redirect cycle, or more than max_redirects hops
    blocked_address                host resolves to a private/loopback/... address (SSRF guard)
    decode_error                   corrupt or unsupported Content-Encoding
    bad_url                        not http(s), credentials in URL, too long, unparseable

Design notes:
- One requests.Session per worker thread (sessions are not guaranteed thread-safe) with
  adapter-level retries off: retries are done here so every attempt passes through the
  per-host politeness limiter and Retry-After is honoured.
- Redirects are followed manually so each hop is re-checked by the SSRF guard and robots.
- Each hop connects only to the addresses the guard checked (pinned on the connection; no
  second DNS lookup, so DNS rebinding cannot redirect it); Host, SNI and the certificate
  check still use the name.
- Each attempt, headers and body, ends within connect + 5 × timeout_s whatever the server
  does (a watchdog shuts its sockets down); `stream()` downloads within their own deadline.
- Bodies are streamed with `decode_content=False` and decompressed here with an output
  cap, so a gzip bomb costs at most max_decompressed_bytes of memory.
- `trust_env` is off: proxies/.netrc from the environment would bypass the guard's view
  of where a request goes and could leak credentials.
"""

from __future__ import annotations

import email.utils
import io
import ipaddress
import logging
import random
import socket
import sys
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO
from urllib.parse import urldefrag, urljoin, urlsplit

import requests
import urllib3
import urllib3.util.connection
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from etl.config import HttpSettings
from etl.fetch.guard import Admitted, GuardError, UrlGuard
from etl.fetch.politeness import HostLimiter, LimiterUnavailable, shared_politeness
from etl.fetch.robots import RobotsCache

logger = logging.getLogger(__name__)

MAX_RETRY_AFTER_S = 60.0  # never sleep longer than this for one Retry-After
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024
# Fetcher.stream: the whole download must end within this many read timeouts (20 s → 30 min).
STREAM_DEADLINE_PER_TIMEOUT = 90

REASONS = (
    "dns", "connect", "timeout", "too_large", "not_html", "robots_disallowed",
    "robots_unavailable", "limiter_unavailable", "redirect_loop", "blocked_address",
    "decode_error", "bad_url",
)  # plus http_<status>

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_XML_TYPES = frozenset({"text/xml", "application/xml", "application/rss+xml",
                        "application/atom+xml", "application/rdf+xml", "text/rss+xml",
                        "text/atom+xml"})
_JSON_TYPES = frozenset({"application/json", "application/feed+json", "text/json"})
_GZIP_TYPES = frozenset({"application/gzip", "application/x-gzip", "application/x-gunzip",
                         "application/gzipped", "application/octet-stream"})

_ACCEPT_HEADERS = {
    "html": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    "feed": "application/rss+xml,application/atom+xml,application/feed+json,"
            "application/xml;q=0.9,text/xml;q=0.9,text/html;q=0.5,*/*;q=0.1",
    "sitemap": "application/xml,text/xml;q=0.9,application/gzip;q=0.8,*/*;q=0.1",
    "text": "text/plain,*/*;q=0.1",
    "any": "*/*",
}
ACCEPT_KINDS = tuple(_ACCEPT_HEADERS)


def _type_ok(accept: str, media_type: str) -> bool:
    """Whether a response's media type is usable for what the caller asked for."""
    if not media_type or accept == "any":
        return True  # no Content-Type: let the consumer judge the bytes
    is_xml = media_type in _XML_TYPES or media_type.endswith("+xml")
    if accept == "html":
        return media_type in _HTML_TYPES
    if accept == "feed":  # HTML allowed: a homepage is used for feed autodiscovery
        return (media_type in _HTML_TYPES or is_xml or media_type in _JSON_TYPES
                or media_type.endswith("+json") or media_type == "text/plain")
    if accept == "sitemap":
        return is_xml or media_type in _GZIP_TYPES or media_type == "text/plain"
    if accept == "text":
        return media_type.startswith("text/")
    return True


# -- whole-attempt deadline (slow-loris) -------------------------------------------------
# Socket timeouts apply per read: a server that trickles one byte per second never trips
# them, in the headers or the body. A watchdog per attempt shuts down every socket the
# attempt opened or reused when the attempt overruns, which turns the blocked read into
# an error (or an early EOF) that we report as `timeout`. It watches sockets, not
# connection objects: for a response the server will close (HTTP/1.0, `Connection:
# close`) http.client hands the socket to the response and forgets it on the connection.

_current = threading.local()  # this fetch thread's armed watchdog (.dog), pinned host (.pin)


class _Watchdog:
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


@contextmanager
def _pinned(admitted: Admitted) -> Iterator[None]:
    """Connections opened by this thread meanwhile go to `admitted.addresses` only."""
    _current.pin = admitted
    try:
        yield
    finally:
        _current.pin = None


def _host_key(host: str) -> str:
    host = host.strip("[]").lower().rstrip(".")
    with suppress(ValueError):
        return str(ipaddress.ip_address(host))  # one spelling per IP literal
    return host


class _WatchedConnection:
    """Mixin for urllib3 connections: connect only to the addresses the SSRF guard
    checked for this request (no second DNS lookup, so no DNS rebinding), and register
    every socket with the calling thread's watchdog: at connect time (so a TLS handshake
    is covered) and on every request (keep-alive connections are reused)."""

    host: str
    port: int
    timeout: object
    source_address: tuple[str, int] | None
    socket_options: object
    sock: socket.socket | None

    def _new_conn(self) -> socket.socket:
        pin: Admitted | None = getattr(_current, "pin", None)
        if pin is None or (_host_key(pin.host), pin.port) != (_host_key(self.host), self.port):
            # Fail closed: never fall back to resolving the name ourselves.
            raise urllib3.exceptions.NewConnectionError(
                self, f"no address checked by the SSRF guard for {self.host}:{self.port}")
        dog: _Watchdog | None = getattr(_current, "dog", None)
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
        dog = getattr(_current, "dog", None)
        if dog is not None:
            dog.watch(self.sock)  # for TLS, the wrapped socket replaces the raw one

    def request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        dog = getattr(_current, "dog", None)
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


class _WatchedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


class _DeadlineReader(io.RawIOBase):
    """A streamed body that raises TimeoutError once its watchdog has fired, so a
    download cut at its deadline never looks like a complete (shorter) file."""

    def __init__(self, raw: urllib3.response.BaseHTTPResponse, dog: _Watchdog,
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


class DecompressedTooLarge(ValueError):
    """Decompressed output exceeded its cap."""


class _CappedDecoder:
    """gzip/deflate decompression that stops as soon as the output passes `limit`."""

    def __init__(self, encoding: str, limit: int) -> None:
        self.encoding = encoding
        self.limit = limit
        self.size = 0
        self._raw_deflate_tried = False
        self._d = self._new()

    def _new(self) -> zlib._Decompress:
        if self.encoding in ("gzip", "x-gzip"):
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj()  # deflate: zlib-wrapped, raw fallback below

    def feed(self, chunk: bytes) -> bytes:
        out = bytearray()
        buf = chunk
        while buf:
            try:
                data = self._d.decompress(buf, self.limit - self.size + 1)
            except zlib.error:
                # Some servers send raw deflate for "deflate"; retry once that way.
                if self.encoding == "deflate" and not self._raw_deflate_tried and not self.size:
                    self._raw_deflate_tried = True
                    self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise
            self.size += len(data)
            out += data
            if self.size > self.limit:
                raise DecompressedTooLarge(f"decompressed body over {self.limit} bytes")
            buf = self._d.unconsumed_tail
            if not buf and self._d.eof and self._d.unused_data:
                buf = self._d.unused_data  # concatenated gzip members
                self._d = self._new()
        return bytes(out)


def gunzip_capped(data: bytes, limit: int) -> bytes:
    """Decompress gzip `data`, raising DecompressedTooLarge past `limit` bytes of output
    and zlib.error when it is not valid gzip."""
    return _CappedDecoder("gzip", limit).feed(data)


@dataclass
class FetchResult:
    """What one fetch produced. `reason is None` means success (or 304 when not_modified)."""

    url: str
    final_url: str
    status: int | None
    headers: dict[str, str]  # lower-cased names
    body: bytes | None
    fetched_at: datetime
    reason: str | None = None
    detail: str | None = None
    not_modified: bool = False
    redirects: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.reason is None and not self.not_modified and self.body is not None

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        """The charset parameter of Content-Type, if any."""
        for param in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset" and value.strip():
                return value.strip().strip("\"'")
        return None


class FetchError(Exception):
    """Raised only by `Fetcher.stream` (fetch() never raises); carries the FetchResult."""

    def __init__(self, result: FetchResult) -> None:
        super().__init__(f"{result.url}: {result.reason}: {result.detail}")
        self.result = result


class _Fail(Exception):
    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _is_dns_error(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(10):  # walk the wrapped-exception chain (bounded: chains can cycle)
        if seen is None:
            break
        if isinstance(seen, urllib3.exceptions.NameResolutionError):
            return True
        seen = seen.__cause__ or seen.__context__ or (
            seen.args[0] if seen.args and isinstance(seen.args[0], BaseException) else None)
    text = str(exc)
    return "NameResolutionError" in text or "Name or service not known" in text


class Fetcher:
    """Shared by all fetch threads. Politeness and robots.txt are not its own: they come
    from the process-wide backend for `settings.limiter_url` (see politeness.py), shared
    with every other Fetcher of the process and, with Redis, of every process."""

    def __init__(self, settings: HttpSettings | None = None) -> None:
        self.settings = settings or HttpSettings()
        self.guard = UrlGuard(self.settings.allow_hosts)
        backend, robots_store = shared_politeness(self.settings.limiter_url)
        self.limiter = HostLimiter(self.settings.min_delay_s, self.settings.max_per_host,
                                   backend, crawl_delay_ttl_s=self.settings.robots_ttl_s)
        # How long one robots.txt fetch may take (one attempt's watchdog bound): past it,
        # another process waiting for the same robots.txt fetches it itself.
        robots_hold_s = min(self.settings.timeout_s, 10.0) + 5 * self.settings.timeout_s + 5
        self.robots = RobotsCache(
            lambda u: self._fetch(u, accept="any", etag=None, last_modified=None,
                                  check_robots=False),
            self.settings.user_agent,
            on_crawl_delay=self.limiter.set_delay,
            store=robots_store, ttl_s=self.settings.robots_ttl_s, hold_s=robots_hold_s,
        )
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        self.limiter.release_all()  # slots of an interrupted fetch go back to the host
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False
            adapter = _WatchedAdapter(max_retries=0, pool_connections=16, pool_maxsize=16)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers.clear()
            session.headers.update({
                "User-Agent": self.settings.user_agent,
                "Accept-Encoding": "gzip, deflate",
                "Accept-Language": "*",
            })
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    # -- public API --------------------------------------------------------------------

    def fetch(
        self,
        url: str,
        *,
        accept: str = "html",
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> FetchResult:
        """GET `url`. Never raises for network/HTTP problems: see `FetchResult.reason`.

        accept: "html" (pages), "feed", "sitemap", "text", or "any".
        etag/last_modified: sent as If-None-Match/If-Modified-Since; a 304 gives
        status 304, reason None and not_modified=True.
        """
        return self._fetch(url, accept=accept, etag=etag, last_modified=last_modified,
                           check_robots=self.settings.obey_robots)

    @contextmanager
    def stream(self, url: str, *, accept: str = "any",
               deadline_s: float | None = None) -> Iterator[IO[bytes]]:
        """Open `url` (guard, robots, redirects, retries as in fetch) and yield a binary
        file object of the decoded body without size caps, for large archives (WARC).
        Raises FetchError (with the FetchResult) when the URL cannot be opened.

        The response headers must arrive within the attempt deadline, as in fetch; the
        whole download within `deadline_s` from the call (default
        STREAM_DEADLINE_PER_TIMEOUT × timeout_s). Past it, reading raises TimeoutError:
        a download cut short never reads as a complete, shorter file."""
        limit = (deadline_s if deadline_s is not None
                 else STREAM_DEADLINE_PER_TIMEOUT * self.settings.timeout_s)
        started = time.monotonic()
        result = self._new_result(url)
        try:
            with self._open(url, accept, None, None, self.settings.obey_robots,
                            result, capped=False) as resp:
                if resp is None:
                    raise _Fail("http_304", "not modified")
                dog: _Watchdog | None = getattr(_current, "dog", None)
                if dog is None or dog.fired:
                    raise _Fail("timeout", "no response within the attempt deadline")
                # Detach this download's watchdog from the thread, so a fetch the consumer
                # makes on this thread while reading does not disarm it.
                _current.dog = None
                try:
                    dog.extend(max(0.0, limit - (time.monotonic() - started)))
                    resp.raw.decode_content = True
                    yield io.BufferedReader(_DeadlineReader(resp.raw, dog, url, limit), CHUNK)
                finally:
                    dog.cancel()
        except _Fail as fail:
            result.reason, result.detail = fail.reason, fail.detail
            raise FetchError(result) from None

    # -- internals ---------------------------------------------------------------------

    def _new_result(self, url: str) -> FetchResult:
        return FetchResult(url=url, final_url=url, status=None, headers={}, body=None,
                           fetched_at=datetime.now(UTC))

    def _fetch(self, url: str, *, accept: str, etag: str | None, last_modified: str | None,
               check_robots: bool) -> FetchResult:
        if accept not in _ACCEPT_HEADERS:
            raise ValueError(f"accept must be one of {ACCEPT_KINDS}, got {accept!r}")
        result = self._new_result(url)
        try:
            with self._open(url, accept, etag, last_modified, check_robots, result) as resp:
                if resp is not None:
                    result.body = self._read_body(resp)
        except _Fail as fail:
            result.reason, result.detail = fail.reason, fail.detail
            result.body = None
            logger.debug("fetch %s failed: %s (%s)", url, fail.reason, fail.detail)
        except Exception as exc:  # contract: never raise for a fetch problem
            logger.exception("unexpected error fetching %s", url)
            result.reason, result.detail = "connect", f"{type(exc).__name__}: {exc}"
            result.body = None
        return result

    @contextmanager
    def _open(
        self,
        url: str,
        accept: str,
        etag: str | None,
        last_modified: str | None,
        check_robots: bool,
        result: FetchResult,
        capped: bool = True,
    ) -> Iterator[requests.Response | None]:
        """Yield the final open response (None for 304), holding its host slot;
        raise _Fail for every failure."""
        headers = {"Accept": _ACCEPT_HEADERS[accept]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        seen = {urldefrag(url)[0]}
        while True:
            admitted = self.guard.admit(current)
            if isinstance(admitted, GuardError):
                raise _Fail(admitted.reason, admitted.detail)
            if check_robots:
                self._check_robots(current)
            host = (urlsplit(current).hostname or "").lower()
            try:
                resp = self._request(current, headers, host, admitted)
            except LimiterUnavailable as exc:  # never fetch without politeness
                raise _Fail("limiter_unavailable", str(exc)) from None
            try:
                result.final_url = current
                result.status = resp.status_code
                result.headers = {k.lower(): v for k, v in resp.headers.items()}
                result.fetched_at = datetime.now(UTC)
                status = resp.status_code
                location = resp.headers.get("Location")
                if status in REDIRECT_STATUSES and location:
                    target = urldefrag(urljoin(current, location.strip()))[0]
                    if target in seen:
                        raise _Fail("redirect_loop", f"redirect cycle back to {target}")
                    if len(result.redirects) >= self.settings.max_redirects:
                        raise _Fail("redirect_loop",
                                    f"more than {self.settings.max_redirects} redirects")
                    seen.add(target)
                    result.redirects.append(target)
                    current = target
                    continue
                if status == 304:
                    result.not_modified = True
                    yield None
                    return
                if not 200 <= status < 300:
                    raise _Fail(f"http_{status}", resp.reason or None)
                media_type = result.headers.get("content-type", "").split(";")[0].strip().lower()
                if not _type_ok(accept, media_type):
                    raise _Fail("not_html",
                                f"content-type {media_type!r} not acceptable for {accept}")
                length = resp.headers.get("Content-Length", "")
                if capped and length.isdigit() and int(length) > self.settings.max_bytes:
                    raise _Fail("too_large", f"Content-Length {length} > {self.settings.max_bytes}")
                yield resp
                return
            finally:
                self._disarm()
                resp.close()
                self.limiter.release(host)

    def _check_robots(self, url: str) -> None:
        """Raise _Fail when robots.txt forbids `url` or cannot be read (RFC 9309)."""
        try:
            verdict = self.robots.verdict(url)
        except LimiterUnavailable as exc:
            raise _Fail("limiter_unavailable", str(exc)) from None
        if verdict is not None:
            raise _Fail(*verdict)

    def _request(self, url: str, headers: dict[str, str], host: str,
                 admitted: Admitted) -> requests.Response:
        """One GET with retries, connecting only to the addresses the guard admitted;
        returns the response holding the host slot (caller releases it), or raises _Fail."""
        settings = self.settings
        connect_timeout = min(settings.timeout_s, 10.0)
        attempts = max(0, settings.retries) + 1
        session = self._session()
        failure = _Fail("connect", "no attempt made")
        for attempt in range(attempts):
            last = attempt == attempts - 1
            self.limiter.acquire(host)
            # Armed until the body is read (disarmed in _open): headers + body of one
            # attempt must arrive within this, however the server paces its bytes.
            dog = self._arm(connect_timeout + 5 * settings.timeout_s)
            try:
                with _pinned(admitted):
                    resp = session.get(url, headers=headers, stream=True,
                                       allow_redirects=False,
                                       timeout=(connect_timeout, settings.timeout_s))
            except requests.exceptions.Timeout as exc:
                self._disarm()
                self.limiter.release(host)
                failure = _Fail("timeout", f"{type(exc).__name__}: {exc}")
            except requests.exceptions.SSLError as exc:
                self._disarm()
                self.limiter.release(host)
                if dog.fired:  # our shutdown cut a dripped handshake
                    failure = _Fail("timeout", f"no TLS handshake within {dog.seconds:.0f}s "
                                               "(server too slow)")
                else:
                    raise _Fail("connect", f"TLS error: {exc}") from None  # not transient
            except requests.exceptions.ConnectionError as exc:
                self._disarm()
                self.limiter.release(host)
                if dog.fired:
                    failure = _Fail("timeout", f"no response within {dog.seconds:.0f}s "
                                               "(server too slow)")
                elif _is_dns_error(exc):
                    raise _Fail("dns", str(exc)) from None
                else:
                    failure = _Fail("connect", f"{type(exc).__name__}: {exc}")
            except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                    requests.exceptions.InvalidSchema, UnicodeError, ValueError) as exc:
                self._disarm()
                self.limiter.release(host)
                raise _Fail("bad_url", str(exc)) from None
            except BaseException:
                self._disarm()
                self.limiter.release(host)
                raise
            else:
                if dog.fired:  # our shutdown ended the headers early: they are truncated
                    self._disarm()
                    resp.close()
                    self.limiter.release(host)
                    failure = _Fail("timeout", f"no response within {dog.seconds:.0f}s "
                                               "(server too slow)")
                    if not last:
                        time.sleep(self._backoff(attempt))
                    continue
                if resp.status_code not in RETRY_STATUSES or last:
                    return resp
                wait = _retry_after(resp.headers.get("Retry-After"))
                if wait is not None and wait > MAX_RETRY_AFTER_S:
                    # Asked to come back later than we are willing to wait: retrying
                    # sooner would be rude, so give up with the status we got.
                    logger.info("%s: Retry-After %.0fs exceeds cap; giving up", url, wait)
                    return resp
                self._disarm()
                resp.close()
                self.limiter.release(host)
                if wait is None:
                    wait = self._backoff(attempt)
                logger.debug("%s: HTTP %s, retry %d in %.2fs", url, resp.status_code,
                             attempt + 1, wait)
                time.sleep(wait)
                continue
            if not last:
                time.sleep(self._backoff(attempt))
        raise failure

    @staticmethod
    def _arm(seconds: float) -> _Watchdog:
        Fetcher._disarm()
        dog = _current.dog = _Watchdog(seconds)
        return dog

    @staticmethod
    def _disarm() -> None:
        dog = getattr(_current, "dog", None)
        if dog is not None:
            dog.cancel()
            _current.dog = None

    def _backoff(self, attempt: int) -> float:
        base = self.settings.backoff_s * (2**attempt)
        return min(MAX_RETRY_AFTER_S, base * (1 + random.random() * 0.1))  # jitter

    def _read_body(self, resp: requests.Response) -> bytes:
        settings = self.settings
        encoding = resp.headers.get("Content-Encoding", "").strip().lower()
        decoder: _CappedDecoder | None = None
        if encoding in ("gzip", "x-gzip", "deflate"):
            decoder = _CappedDecoder(encoding, settings.max_decompressed_bytes)
        elif encoding not in ("", "identity"):
            raise _Fail("decode_error", f"unsupported Content-Encoding {encoding!r}")
        # read timeouts apply per socket read; also bound the whole body (slow drip).
        deadline = time.monotonic() + max(4 * settings.timeout_s, 1.0)
        received = 0
        out = bytearray()
        try:
            for chunk in resp.raw.stream(CHUNK, decode_content=False):
                received += len(chunk)
                if received > settings.max_bytes:
                    raise _Fail("too_large", f"body over {settings.max_bytes} bytes")
                if decoder is not None:
                    out += decoder.feed(chunk)
                else:
                    out += chunk
                if time.monotonic() > deadline:
                    raise _Fail("timeout", "body not received within the total deadline")
        except DecompressedTooLarge as exc:
            raise _Fail("too_large", str(exc)) from None
        except zlib.error as exc:
            raise _Fail("decode_error", f"corrupt {encoding} body: {exc}") from None
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
            raise _Fail("timeout", f"reading body: {exc}") from None
        except (urllib3.exceptions.HTTPError, requests.exceptions.RequestException,
                OSError) as exc:
            dog = getattr(_current, "dog", None)
            if dog is not None and dog.fired:
                raise _Fail("timeout", f"body not received within {dog.seconds:.0f}s "
                                       "(server too slow)") from None
            raise _Fail("connect", f"connection broken while reading body: {exc}") from None
        dog = getattr(_current, "dog", None)
        if dog is not None and dog.fired:  # a body without length, cut short by our shutdown
            raise _Fail("timeout", f"body not received within {dog.seconds:.0f}s "
                                   "(server too slow)")
        return bytes(out)
