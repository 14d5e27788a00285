"""The SSRF guard holds across DNS answers and redirects (DNS faked in-process)."""

from __future__ import annotations

import socket

import pytest

from etl.config import HttpSettings
from etl.fetch.guard import UrlGuard
from etl.fetch.http import Fetcher

ANSWERS = {"news.example.com": "127.0.0.1", "metadata.example.com": "169.254.169.254",
           "mapped.example.com": "::ffff:127.0.0.1", "public.example.com": "93.184.216.34"}


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch, httpserver) -> int:
    real = socket.getaddrinfo
    port = httpserver.port

    def getaddrinfo(host, *args, **kwargs):
        if host in ANSWERS:
            family = socket.AF_INET6 if ":" in ANSWERS[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (ANSWERS[host], port))]
        if isinstance(host, str) and host.endswith(".example.com"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return port


def settings(*allow: str) -> HttpSettings:
    return HttpSettings(timeout_s=1, retries=0, min_delay_s=0, obey_robots=False,
                        allow_hosts=allow)


@pytest.mark.parametrize("host", ["news.example.com", "metadata.example.com",
                                  "mapped.example.com"])
def test_public_looking_names_resolving_inside_are_refused(fake_dns, host):
    result = Fetcher(settings()).fetch(f"http://{host}:{fake_dns}/a")
    assert result.reason == "blocked_address", result.detail


def test_allow_listed_name_is_fetched_and_redirects_are_rechecked(fake_dns, httpserver):
    httpserver.expect_request("/a").respond_with_data("<p>ok</p>", content_type="text/html")
    httpserver.expect_request("/to-meta").respond_with_data(
        "", status=302, headers={"Location": f"http://metadata.example.com:{fake_dns}/latest"})
    httpserver.expect_request("/to-ip").respond_with_data(
        "", status=301, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    httpserver.expect_request("/to-file").respond_with_data(
        "", status=302, headers={"Location": "file:///etc/passwd"})
    fetcher = Fetcher(settings("news.example.com"))
    assert fetcher.fetch(f"http://news.example.com:{fake_dns}/a").body == b"<p>ok</p>"
    for path, reason in (("/to-meta", "blocked_address"), ("/to-ip", "blocked_address"),
                         ("/to-file", "bad_url")):
        result = fetcher.fetch(f"http://news.example.com:{fake_dns}{path}")
        assert result.reason == reason, (path, result.detail)
        assert result.redirects  # refused at the hop, not before
    meta = [r for r, _ in httpserver.log if r.path == "/latest"]
    assert meta == []  # the metadata "server" (our local one) was never asked


def test_guard_with_an_injected_resolver():
    answers = {"a.test": ["93.184.216.34", "10.0.0.5"], "b.test": ["93.184.216.34"],
               "c.test": ["fe80::1"], "d.test": ["100.64.0.1"]}
    guard = UrlGuard(resolver=lambda host, port: answers[host])
    assert guard.check("http://a.test/").reason == "blocked_address"  # any private answer
    assert guard.check("http://b.test/") is None
    assert guard.check("http://c.test/").reason == "blocked_address"
    # 100.64.0.0/10 (shared space; e.g. a cloud metadata address 100.100.100.200)
    assert guard.check("http://d.test/").reason == "blocked_address"
    allowed = UrlGuard(["10.0.0.0/8"], resolver=lambda host, port: answers[host])
    assert allowed.check("http://a.test/") is None


@pytest.mark.parametrize("url", ["http://2130706433/", "http://0x7f.1/", "http://127.1/",
                                 "http://0/", "http://[::]/", "http://[::ffff:169.254.169.254]/"])
def test_numeric_spellings_of_internal_addresses(url):
    # getaddrinfo parses numeric hosts locally (no DNS query).
    error = UrlGuard().check(url)
    assert error is not None and error.reason == "blocked_address", (url, error)
