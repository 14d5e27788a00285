"""SSRF guard: URL syntax checks and resolved-address checks, directly and via the Fetcher."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st
from pytest_httpserver import HTTPServer
from werkzeug import Response

from etl.config import HttpSettings
from etl.fetch import Fetcher, UrlGuard
from etl.fetch.guard import Admitted, GuardError


def resolver(table: dict[str, list[str]]):
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://example.com/x",
        "http://user:pass@example.com/",
        "https://user@example.com/",
        "http:///nohost",
        "example.com/no-scheme",
        "http://exa mple.com/",
        "http://example.com/" + "a" * 2100,
    ],
)
def test_bad_urls(url: str) -> None:
    error = UrlGuard(resolver={}.get).check(url)  # type: ignore[arg-type]
    assert error is not None and error.reason == "bad_url"


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.5", "192.168.1.1", "169.254.169.254", "0.0.0.0",
     "224.0.0.1", "240.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::"],
)
def test_non_public_addresses_blocked(address: str) -> None:
    guard = UrlGuard(resolver=resolver({"evil.example": [address]}))
    error = guard.check("http://evil.example/")
    assert error is not None and error.reason == "blocked_address"


def test_any_private_address_blocks_even_with_a_public_one() -> None:
    guard = UrlGuard(resolver=resolver({"mixed.example": ["93.184.216.34", "10.0.0.1"]}))
    assert guard.check("http://mixed.example/").reason == "blocked_address"  # type: ignore[union-attr]


def test_public_address_allowed_and_ip_literals_judged_directly() -> None:
    guard = UrlGuard(resolver=resolver({"news.example": ["93.184.216.34", "2606:2800::1"]}))
    assert guard.check("https://news.example/a?b=c") is None
    assert guard.check("http://93.184.216.34/") is None
    assert guard.check("http://127.0.0.1/").reason == "blocked_address"  # type: ignore[union-attr]
    assert guard.check("http://[::1]:8080/").reason == "blocked_address"  # type: ignore[union-attr]


def test_allow_list_by_name_and_cidr() -> None:
    table = {"intranet": ["10.0.0.7"], "other": ["10.9.0.1"]}
    guard = UrlGuard(("intranet", "192.168.0.0/16"), resolver=resolver(table))
    assert guard.check("http://intranet/") is None
    assert guard.check("http://192.168.4.4/") is None
    assert guard.check("http://other/").reason == "blocked_address"  # type: ignore[union-attr]


def test_unresolvable_host_is_dns() -> None:
    guard = UrlGuard(resolver=resolver({}))
    assert guard.check("http://no-such-host.invalid/").reason == "dns"  # type: ignore[union-attr]


def test_fetcher_refuses_loopback_unless_allow_listed(server: HTTPServer,
                                                      settings: HttpSettings) -> None:
    server.expect_request("/").respond_with_data("<html></html>", content_type="text/html")
    blocked = Fetcher(replace(settings, allow_hosts=())).fetch(server.url_for("/"))
    assert blocked.reason == "blocked_address"
    assert server.log == []  # refused before any request was sent
    assert Fetcher(settings).fetch(server.url_for("/")).reason is None
    cidr = Fetcher(replace(settings, allow_hosts=("127.0.0.0/8",)))
    assert cidr.fetch(server.url_for("/")).reason is None


def test_fetcher_refuses_redirect_into_blocked_address(server: HTTPServer,
                                                       settings: HttpSettings) -> None:
    # "localhost" is allow-listed by name, 127.0.0.1 is not: the redirect hop is refused.
    port = server.port
    server.expect_request("/hop").respond_with_response(
        Response(status=302, headers={"Location": f"http://127.0.0.1:{port}/secret"}))
    server.expect_request("/secret").respond_with_data("s3cret", content_type="text/html")
    fetcher = Fetcher(replace(settings, allow_hosts=("localhost",)))
    result = fetcher.fetch(f"http://localhost:{port}/hop")
    assert result.reason == "blocked_address"
    assert [r.path for r, _ in server.log] == ["/hop"]


def test_fetcher_refuses_redirect_to_bad_scheme(server: HTTPServer,
                                                settings: HttpSettings) -> None:
    server.expect_request("/hop").respond_with_response(
        Response(status=301, headers={"Location": "file:///etc/passwd"}))
    assert Fetcher(settings).fetch(server.url_for("/hop")).reason == "bad_url"


@pytest.mark.parametrize("url", ["file:///etc/passwd", "javascript:alert(1)",
                                 "data:text/html,hi", "http://u:p@127.0.0.1/"])
def test_fetcher_bad_url(settings: HttpSettings, url: str) -> None:
    assert Fetcher(settings).fetch(url).reason == "bad_url"


def test_fetcher_dns_failure(settings: HttpSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", fail)
    assert Fetcher(settings).fetch("http://news.example/").reason == "dns"


@settings_(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_guard_never_raises_on_arbitrary_text(text: str) -> None:
    guard = UrlGuard(resolver=resolver({"news.example": ["93.184.216.34"]}))
    for candidate in (text, "http://" + text, "https://news.example/" + text):
        error = guard.check(candidate)
        assert error is None or error.reason in ("bad_url", "dns", "blocked_address")


def test_admit_returns_the_addresses_it_checked() -> None:
    """The fetcher connects to exactly these (DNS rebinding): what was judged is what is used."""
    table = {"news.example": ["93.184.216.34", "2606:2800::1", "93.184.216.34"],
             "intranet": ["10.0.0.7"]}
    guard = UrlGuard(("intranet",), resolver=resolver(table))
    assert guard.admit("https://News.Example/a") == Admitted(
        "news.example", 443, ("93.184.216.34", "2606:2800::1"))
    assert guard.admit("http://intranet:8080/") == Admitted("intranet", 8080, ("10.0.0.7",))
    assert guard.admit("http://93.184.216.34:81/") == Admitted(
        "93.184.216.34", 81, ("93.184.216.34",))
    assert guard.admit("http://[2606:2800::1]/") == Admitted("2606:2800::1", 80, ("2606:2800::1",))
    refused = guard.admit("http://127.0.0.1/")
    assert isinstance(refused, GuardError) and refused.reason == "blocked_address"


@settings_(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_check_and_admit_agree(text: str) -> None:
    guard = UrlGuard(resolver=resolver({"news.example": ["93.184.216.34"]}))
    for candidate in ("http://" + text, "https://news.example/" + text):
        verdict = guard.admit(candidate)
        assert guard.check(candidate) == (verdict if isinstance(verdict, GuardError) else None)
        if not isinstance(verdict, GuardError):
            assert verdict.addresses
