"""Thread-safe, polite, SSRF-guarded HTTP GET that never raises for network/HTTP problems.

`Fetcher.fetch(url)` returns a `FetchResult`; a failure carries exactly one `reason` (the
list is in result.py). This module holds the Fetcher: sessions, the redirect loop, and
the status / content-type / size checks. Its parts live next to it:

- retry.py: one GET and its retries (politeness limiter and Retry-After per attempt).
- connections.py: connections pinned to the addresses the SSRF guard checked (no second
  DNS lookup, so DNS rebinding cannot redirect them).
- deadline.py: each attempt, headers and body, ends within connect + 5 × timeout_s
  whatever the server does (a watchdog shuts its sockets down); `stream()` downloads
  within their own deadline.
- decompress.py: bodies are streamed with `decode_content=False` and decompressed by a
  capped decoder, so a gzip bomb costs at most max_decompressed_bytes of memory.
- content_type.py: the Accept header per kind of fetch and the media types it accepts.

Design notes:
- One requests.Session per worker thread (sessions are not guaranteed thread-safe) with
  adapter-level retries off: retry.py retries, so every attempt passes the politeness
  limiter.
- Redirects are followed manually so each hop is re-checked by the SSRF guard and robots,
  and pinned to the addresses the guard checked for that hop.
- `trust_env` is off: proxies/.netrc from the environment would bypass the guard's view
  of where a request goes and could leak credentials.
"""

from __future__ import annotations

import io
import logging
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO
from urllib.parse import urldefrag, urljoin, urlsplit

import requests
import urllib3

from etl.config import HttpSettings
from etl.fetch import deadline
from etl.fetch.connections import WatchedAdapter
from etl.fetch.content_type import ACCEPT_HEADERS, ACCEPT_KINDS, acceptable
from etl.fetch.decompress import CappedDecoder, DecompressedTooLarge
from etl.fetch.guard import GuardError, UrlGuard
from etl.fetch.politeness import HostLimiter, LimiterUnavailable, shared_politeness
from etl.fetch.result import FetchError, FetchFailed, FetchResult
from etl.fetch.retry import get_with_retries
from etl.fetch.robots import RobotsCache

log = logging.getLogger(__name__)

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
CHUNK = 64 * 1024
# Fetcher.stream: the whole download must end within this many read timeouts (20 s → 30 min).
STREAM_DEADLINE_PER_TIMEOUT = 90

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
            adapter = WatchedAdapter(max_retries=0, pool_connections=16, pool_maxsize=16)
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
        result = FetchResult.started(url)
        try:
            with self._final_response(url, accept, None, None, self.settings.obey_robots,
                                      result, capped=False) as resp:
                if resp is None:
                    raise FetchFailed("http_304", "not modified")
                dog = deadline.armed()
                if dog is None or dog.fired:
                    raise FetchFailed("timeout", "no response within the attempt deadline")
                # Detach this download's watchdog from the thread, so a fetch the consumer
                # makes on this thread while reading does not disarm it.
                deadline.detach()
                try:
                    dog.extend(max(0.0, limit - (time.monotonic() - started)))
                    resp.raw.decode_content = True
                    yield io.BufferedReader(deadline.DeadlineReader(resp.raw, dog, url, limit),
                                            CHUNK)
                finally:
                    dog.cancel()
        except FetchFailed as fail:
            result.reason, result.detail = fail.reason, fail.detail
            raise FetchError(result) from None

    # -- internals ---------------------------------------------------------------------

    def _fetch(self, url: str, *, accept: str, etag: str | None, last_modified: str | None,
               check_robots: bool) -> FetchResult:
        if accept not in ACCEPT_HEADERS:
            raise ValueError(f"accept must be one of {ACCEPT_KINDS}, got {accept!r}")
        result = FetchResult.started(url)
        try:
            with self._final_response(url, accept, etag, last_modified, check_robots,
                                      result) as resp:
                if resp is not None:
                    result.body = self._read_body(resp)
        except FetchFailed as fail:
            result.reason, result.detail = fail.reason, fail.detail
            result.body = None
            log.debug("fetch %s failed: %s (%s)", url, fail.reason, fail.detail)
        except Exception as exc:  # contract: never raise for a fetch problem
            log.exception("unexpected error fetching %s", url)
            result.reason, result.detail = "connect", f"{type(exc).__name__}: {exc}"
            result.body = None
        return result

    @contextmanager
    def _final_response(
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
        raise FetchFailed for every failure."""
        headers = {"Accept": ACCEPT_HEADERS[accept]}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        current = url
        seen = {urldefrag(url)[0]}
        while True:  # one pass per redirect hop: guard, robots and pin for each
            admitted = self.guard.admit(current)
            if isinstance(admitted, GuardError):
                raise FetchFailed(admitted.reason, admitted.detail)
            if check_robots:
                self._check_robots(current)
            host = (urlsplit(current).hostname or "").lower()
            try:
                resp = get_with_retries(self._session(), current, headers, host=host,
                                        admitted=admitted, settings=self.settings,
                                        limiter=self.limiter)
            except LimiterUnavailable as exc:  # never fetch without politeness
                raise FetchFailed("limiter_unavailable", str(exc)) from None
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
                        raise FetchFailed("redirect_loop", f"redirect cycle back to {target}")
                    if len(result.redirects) >= self.settings.max_redirects:
                        raise FetchFailed("redirect_loop",
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
                    raise FetchFailed(f"http_{status}", resp.reason or None)
                media_type = result.headers.get("content-type", "").split(";")[0].strip().lower()
                if not acceptable(accept, media_type):
                    raise FetchFailed("not_html",
                                      f"content-type {media_type!r} not acceptable for {accept}")
                length = resp.headers.get("Content-Length", "")
                if capped and length.isdigit() and int(length) > self.settings.max_bytes:
                    raise FetchFailed("too_large",
                                      f"Content-Length {length} > {self.settings.max_bytes}")
                yield resp
                return
            finally:
                deadline.disarm()
                resp.close()
                self.limiter.release(host)

    def _check_robots(self, url: str) -> None:
        """Raise FetchFailed when robots.txt forbids `url` or cannot be read (RFC 9309)."""
        try:
            verdict = self.robots.verdict(url)
        except LimiterUnavailable as exc:
            raise FetchFailed("limiter_unavailable", str(exc)) from None
        if verdict is not None:
            raise FetchFailed(*verdict)

    def _read_body(self, resp: requests.Response) -> bytes:
        settings = self.settings
        encoding = resp.headers.get("Content-Encoding", "").strip().lower()
        decoder: CappedDecoder | None = None
        if encoding in ("gzip", "x-gzip", "deflate"):
            decoder = CappedDecoder(encoding, settings.max_decompressed_bytes)
        elif encoding not in ("", "identity"):
            raise FetchFailed("decode_error", f"unsupported Content-Encoding {encoding!r}")
        # read timeouts apply per socket read; also bound the whole body (slow drip).
        body_deadline = time.monotonic() + max(4 * settings.timeout_s, 1.0)
        received = 0
        out = bytearray()
        try:
            for chunk in resp.raw.stream(CHUNK, decode_content=False):
                received += len(chunk)
                if received > settings.max_bytes:
                    raise FetchFailed("too_large", f"body over {settings.max_bytes} bytes")
                if decoder is not None:
                    out += decoder.feed(chunk)
                else:
                    out += chunk
                if time.monotonic() > body_deadline:
                    raise FetchFailed("timeout", "body not received within the total deadline")
        except DecompressedTooLarge as exc:
            raise FetchFailed("too_large", str(exc)) from None
        except zlib.error as exc:
            raise FetchFailed("decode_error", f"corrupt {encoding} body: {exc}") from None
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
            raise FetchFailed("timeout", f"reading body: {exc}") from None
        except (urllib3.exceptions.HTTPError, requests.exceptions.RequestException,
                OSError) as exc:
            dog = deadline.armed()
            if dog is not None and dog.fired:
                raise FetchFailed("timeout", f"body not received within {dog.seconds:.0f}s "
                                             "(server too slow)") from None
            raise FetchFailed("connect",
                              f"connection broken while reading body: {exc}") from None
        dog = deadline.armed()
        if dog is not None and dog.fired:  # a body without length, cut short by our shutdown
            raise FetchFailed("timeout", f"body not received within {dog.seconds:.0f}s "
                                         "(server too slow)")
        return bytes(out)
