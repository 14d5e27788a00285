"""What a fetch produced: `FetchResult`, and the one reason a failed fetch carries.

Failure reasons (`FetchResult.reason`; None means success, or 304 when not_modified):

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
"""

from __future__ import annotations

import errno
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime

REASONS = (
    "dns", "connect", "timeout", "too_large", "not_html", "robots_disallowed",
    "robots_unavailable", "limiter_unavailable", "redirect_loop", "blocked_address",
    "decode_error", "bad_url",
)  # plus http_<status>
# How to act on a failure that has a fix in the configuration; appended to its detail.
ALLOW_HOSTS_HINT = ("if this host is yours to fetch, add it to allow_hosts (the source's "
                    "http: block in sources.yml, or NEWS_ETL_ALLOW_HOSTS)")
_ERRNO_WORDS = {errno.ECONNREFUSED: "connection refused", errno.ECONNRESET: "connection reset",
                errno.ENETUNREACH: "network unreachable", errno.EHOSTUNREACH: "no route to host",
                errno.ECONNABORTED: "connection aborted", errno.ETIMEDOUT: "connection timed out"}
MAX_DETAIL = 200  # a network error's detail: one line, not a wrapped library message


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps (cause, context, or an exception given as its first
    argument, as urllib3 and requests do), outermost first; bounded, as chains can cycle."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(seen) < 10 and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__ or (
            current.args[0] if current.args and isinstance(current.args[0], BaseException)
            else None)
    return seen


def network_error(exc: BaseException, where: str) -> str:
    """One short line for a connection failure to `where` (host:port): 'connection refused',
    the TLS verification message, … instead of urllib3's nested pool and connection reprs."""
    chain = _chain(exc)
    for item in chain:
        if isinstance(item, ssl.SSLCertVerificationError):
            return f"{where}: TLS certificate not accepted: {item.verify_message}"
        if isinstance(item, ssl.SSLError):
            return f"{where}: TLS error: {item.reason or item.strerror or 'handshake failed'}"
    for item in chain:
        if isinstance(item, OSError) and item.errno is not None:
            words = _ERRNO_WORDS.get(item.errno) or (item.strerror or str(item)).lower()
            return f"{where}: {words}"
    innermost = str(chain[-1]).replace("\n", " ").strip() or type(chain[-1]).__name__
    if len(innermost) > MAX_DETAIL:
        innermost = innermost[:MAX_DETAIL - 1] + "…"
    return f"{where}: {innermost}"


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

    @classmethod
    def started(cls, url: str) -> FetchResult:
        """An empty result for `url`, filled in as the fetch goes."""
        return cls(url=url, final_url=url, status=None, headers={}, body=None,
                   fetched_at=datetime.now(UTC))

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


class FetchFailed(Exception):
    """A failure inside the fetcher, with its reason; it never leaves the fetch package:
    `Fetcher` turns it into `FetchResult.reason`/`detail` (or a FetchError from stream)."""

    def __init__(self, reason: str, detail: str | None = None) -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail
