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

from dataclasses import dataclass, field
from datetime import UTC, datetime

REASONS = (
    "dns", "connect", "timeout", "too_large", "not_html", "robots_disallowed",
    "robots_unavailable", "limiter_unavailable", "redirect_loop", "blocked_address",
    "decode_error", "bad_url",
)  # plus http_<status>


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
