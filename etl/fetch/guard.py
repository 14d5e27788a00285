"""SSRF guard: refuse URLs that are malformed or point at internal addresses.

Every URL the fetcher requests (including each redirect hop and robots.txt) passes
through `check_url`. A host is refused when ANY address it resolves to is private,
loopback, link-local, multicast, reserved or unspecified, unless the host name, or the
address's CIDR range, is in `HttpSettings.allow_hosts` (used by tests and for trusted
intranet sources).

DNS rebinding: `admit` returns the addresses it checked, and the fetcher connects to
exactly those (etl/fetch/connections.py pins them on the connection), so a DNS server that
answers a public address here and an internal one a moment later is never asked again.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

import urllib3.util

from etl.fetch.result import ALLOW_HOSTS_HINT

log = logging.getLogger(__name__)

MAX_URL_LENGTH = 2048
ALLOWED_SCHEMES = ("http", "https")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class GuardError:
    """Why a URL is refused: reason is `bad_url`, `dns` or `blocked_address`."""

    reason: str
    detail: str


@dataclass(frozen=True)
class Admitted:
    """A URL the guard let through, with the addresses it checked: connect only to these."""

    host: str  # lower-case ASCII (IDNA) name or IP literal, no brackets or trailing dot
    port: int
    addresses: tuple[str, ...]  # as the resolver gave them, in its order


def _default_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _is_public(addr: IPAddress) -> bool:
    # IPv4-mapped IPv6 (::ffff:127.0.0.1) must be judged as the IPv4 address it maps.
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    # is_global also covers ranges that are not "private" yet not reachable on the
    # internet, e.g. 100.64.0.0/10 (shared/CGNAT space, where some clouds put metadata).
    return not (
        not addr.is_global
        or addr.is_private
        or addr.is_loopback
        or addr.is_link_local
        or addr.is_multicast
        or addr.is_reserved
        or addr.is_unspecified
    )


class UrlGuard:
    """Validates URLs and their resolved addresses against an allow-list."""

    def __init__(self, allow_hosts: Iterable[str] = (), resolver: Resolver | None = None) -> None:
        self._names: set[str] = set()
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for entry in allow_hosts:
            entry = entry.strip().lower()
            if not entry:
                continue
            try:
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self._names.add(entry.rstrip("."))
        self._resolve = resolver or _default_resolver

    def _allowed_address(self, addr: IPAddress) -> bool:
        return any(addr in net for net in self._networks if net.version == addr.version)

    @staticmethod
    def parse(url: str) -> tuple[SplitResult | None, GuardError | None]:
        """Syntactic checks only (no DNS): scheme, credentials, length, host."""
        if not isinstance(url, str) or not url.strip():
            return None, GuardError("bad_url", "empty URL")
        if len(url) > MAX_URL_LENGTH:
            return None, GuardError("bad_url", f"URL longer than {MAX_URL_LENGTH} characters")
        if any(ord(c) < 0x21 or c == "\x7f" for c in url):
            return None, GuardError("bad_url", "URL contains whitespace or control characters")
        try:
            parts = urlsplit(url)
            port = parts.port  # raises ValueError on a non-numeric or out-of-range port
        except ValueError as exc:
            return None, GuardError("bad_url", f"unparseable URL: {exc}")
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            return None, GuardError("bad_url", f"scheme {scheme or '(none)'!r} is not http(s)")
        if parts.username is not None or parts.password is not None or "@" in parts.netloc:
            return None, GuardError("bad_url", "URL carries credentials")
        if not parts.hostname:
            return None, GuardError("bad_url", "URL has no host")
        del port
        return parts, None

    def check(self, url: str) -> GuardError | None:
        """None when the URL may be fetched; otherwise the reason it may not."""
        verdict = self.admit(url)
        return verdict if isinstance(verdict, GuardError) else None

    def admit(self, url: str) -> Admitted | GuardError:
        """The addresses the URL's host may be reached at, or the reason it may not be.
        The host is resolved once, here; connecting anywhere else defeats the check."""
        parts, error = self.parse(url)
        if error is not None or parts is None:
            return error or GuardError("bad_url", "unparseable URL")
        host = parts.hostname or ""
        try:
            # Judge the name the HTTP client will connect to: urllib3 encodes international
            # names per IDNA 2008, which differs from Python's codec (e.g. for "ß").
            host_idna = (urllib3.util.parse_url(url).host or "").strip("[]")
        except (urllib3.exceptions.LocationParseError, UnicodeError, ValueError):
            return GuardError("bad_url", f"host {host!r} is not a valid domain name")
        if not host_idna:
            return GuardError("bad_url", "URL has no host")
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        name = host_idna.lower().rstrip(".")
        # An IP literal is judged directly; names are resolved.
        try:
            literal: IPAddress | None = ipaddress.ip_address(name.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None:
            raw = [str(literal)]
            addresses = [literal]
        else:
            try:
                raw = list(self._resolve(host_idna, port))
                addresses = [ipaddress.ip_address(a.split("%")[0]) for a in raw]
            except (socket.gaierror, UnicodeError, OSError, ValueError) as exc:
                return GuardError("dns", f"cannot resolve {host!r}: {exc}")
            if not addresses:
                return GuardError("dns", f"{host!r} resolves to no address")
        admitted = Admitted(name.strip("[]"), port, tuple(dict.fromkeys(raw)))
        if name in self._names:
            return admitted
        for addr in addresses:
            if not _is_public(addr) and not self._allowed_address(addr):
                log.info("refusing %s: %s resolves to non-public %s", url, host, addr)
                return GuardError("blocked_address", f"{host} resolves to non-public {addr}; "
                                                     f"{ALLOW_HOSTS_HINT}")
        return admitted
