"""One GET and its retries: every attempt passes the politeness limiter and runs under
its own whole-attempt deadline; 429/5xx, timeouts and connection failures are retried
with exponential backoff or the server's Retry-After.

Why not urllib3's `Retry`: it retries inside the connection pool, where an attempt
cannot re-acquire its host slot from the politeness limiter or get a fresh watchdog; it
clamps a long Retry-After (`retry_after_max`) and retries, where we give up rather than
come back sooner than asked; and it retries DNS and TLS failures, which we report at
once as `dns` / `connect`. Keeping the loop keeps those rules and the failure reasons.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from datetime import UTC, datetime

import requests
import urllib3

from etl.config import HttpSettings
from etl.fetch import deadline
from etl.fetch.connections import pinned
from etl.fetch.guard import Admitted
from etl.fetch.politeness import HostLimiter
from etl.fetch.result import FetchFailed, network_error

log = logging.getLogger(__name__)

MAX_RETRY_AFTER_S = 60.0  # never sleep longer than this for one Retry-After
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


def get_with_retries(session: requests.Session, url: str, headers: dict[str, str], *,
                     host: str, admitted: Admitted, settings: HttpSettings,
                     limiter: HostLimiter) -> requests.Response:
    """One GET with retries, connecting only to the addresses the guard admitted.

    Returns the open response holding the host slot and the armed watchdog (the caller
    disarms and releases both), or raises FetchFailed."""
    connect_timeout = min(settings.timeout_s, 10.0)
    where = f"{admitted.host}:{admitted.port}"  # failures name it, in one line
    attempts = max(0, settings.retries) + 1
    failure = FetchFailed("connect", "no attempt made")
    for attempt in range(attempts):
        last = attempt == attempts - 1
        limiter.acquire(host)
        # Armed until the body is read (disarmed by the caller): headers + body of one
        # attempt must arrive within this, however the server paces its bytes.
        dog = deadline.arm(connect_timeout + 5 * settings.timeout_s)
        try:
            with pinned(admitted):
                resp = session.get(url, headers=headers, stream=True, allow_redirects=False,
                                   timeout=(connect_timeout, settings.timeout_s))
        except requests.exceptions.Timeout as exc:
            deadline.disarm()
            limiter.release(host)
            failure = FetchFailed("timeout", (
                f"{where}: no connection within {connect_timeout:g}s"
                if isinstance(exc, requests.exceptions.ConnectTimeout)
                else f"{where}: no response within {settings.timeout_s:g}s"))
        except requests.exceptions.SSLError as exc:
            deadline.disarm()
            limiter.release(host)
            if dog.fired:  # our shutdown cut a dripped handshake
                failure = FetchFailed("timeout", f"no TLS handshake within {dog.seconds:.0f}s "
                                                 "(server too slow)")
            else:
                raise FetchFailed("connect", network_error(exc, where)) from None  # not transient
        except requests.exceptions.ConnectionError as exc:
            deadline.disarm()
            limiter.release(host)
            if dog.fired:
                failure = FetchFailed("timeout", f"no response within {dog.seconds:.0f}s "
                                                 "(server too slow)")
            elif _is_dns_error(exc):
                raise FetchFailed("dns", network_error(exc, where)) from None
            else:
                failure = FetchFailed("connect", network_error(exc, where))
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema, UnicodeError, ValueError) as exc:
            deadline.disarm()
            limiter.release(host)
            raise FetchFailed("bad_url", str(exc)) from None
        except BaseException:
            deadline.disarm()
            limiter.release(host)
            raise
        else:
            if dog.fired:  # our shutdown ended the headers early: they are truncated
                deadline.disarm()
                resp.close()
                limiter.release(host)
                failure = FetchFailed("timeout", f"no response within {dog.seconds:.0f}s "
                                                 "(server too slow)")
                if not last:
                    time.sleep(_backoff(settings, attempt))
                continue
            if resp.status_code not in RETRY_STATUSES or last:
                return resp
            wait = _retry_after(resp.headers.get("Retry-After"))
            if wait is not None and wait > MAX_RETRY_AFTER_S:
                # Asked to come back later than we are willing to wait: retrying
                # sooner would be rude, so give up with the status we got.
                log.info("%s: Retry-After %.0fs exceeds cap; giving up", url, wait)
                return resp
            deadline.disarm()
            resp.close()
            limiter.release(host)
            if wait is None:
                wait = _backoff(settings, attempt)
            log.debug("%s: HTTP %s, retry %d in %.2fs", url, resp.status_code,
                         attempt + 1, wait)
            time.sleep(wait)
            continue
        if not last:
            time.sleep(_backoff(settings, attempt))
    raise failure


def _backoff(settings: HttpSettings, attempt: int) -> float:
    base = settings.backoff_s * (2**attempt)
    return min(MAX_RETRY_AFTER_S, base * (1 + random.random() * 0.1))  # jitter


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
