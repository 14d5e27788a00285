"""The web-fetching layer: a polite, SSRF-guarded HTTP fetcher and the fetch stage.

- `Fetcher(settings).fetch(url, accept=..., etag=..., last_modified=...) -> FetchResult`
  never raises for network/HTTP problems; failures carry a `reason`
  (see `etl.fetch.result`).
- `FetchStage(sink, fetcher, conditional=None)` is the pipeline stage named "fetch".
- `UrlGuard` (SSRF/URL checks), `HostLimiter` (per-host politeness) and `RobotsCache`
  are used by the Fetcher and exposed for reuse and tests.

This package never imports Airflow.
"""

from etl.fetch.content_type import ACCEPT_KINDS
from etl.fetch.decompress import DecompressedTooLarge, gunzip_capped
from etl.fetch.guard import GuardError, UrlGuard
from etl.fetch.http import Fetcher
from etl.fetch.politeness import HostLimiter
from etl.fetch.result import REASONS, FetchError, FetchResult
from etl.fetch.robots import RobotsCache
from etl.fetch.stage import FetchStage

__all__ = [
    "ACCEPT_KINDS",
    "REASONS",
    "DecompressedTooLarge",
    "FetchError",
    "FetchResult",
    "FetchStage",
    "Fetcher",
    "GuardError",
    "HostLimiter",
    "RobotsCache",
    "UrlGuard",
    "gunzip_capped",
]
