"""DNS rebinding: the connection goes to the address the SSRF guard checked.

Two real servers listen on the same port: A on 127.0.0.2 (exempted with allow_hosts: the
"public" one) and B on 127.0.0.1 (not exempted: the "internal" one). The name resolves to
127.0.0.2 on its first lookup and to 127.0.0.1 on every lookup after it, as a rebinding
DNS server with a zero TTL would answer. The guard's lookup sees A; a client that looked
the name up again to connect would reach B. B must never see a request.
"""

from __future__ import annotations

import datetime as dt
import socket
import ssl
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from etl.config import HttpSettings
from etl.fetch.http import Fetcher

PUBLIC, INTERNAL = "127.0.0.2", "127.0.0.1"
REBINDING = "rebind.example.com"  # public first, internal afterwards
STABLE = "start.example.com"  # always public

SETTINGS = HttpSettings(timeout_s=2, retries=0, min_delay_s=0, obey_robots=False,
                        allow_hosts=(PUBLIC,))


class RebindingDns:
    """In-process DNS: socket.getaddrinfo answers our names from `answers` (one answer
    per lookup; the last repeats) and passes everything else (IP literals) through."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.lookups: Counter[str] = Counter()
        self._real = socket.getaddrinfo

    def __call__(self, host, port, *args, **kwargs):  # type: ignore[no-untyped-def]
        name = host.decode() if isinstance(host, bytes) else host
        if name in self.answers:
            seq = self.answers[name]
            address = seq[min(self.lookups[name], len(seq) - 1)]
            self.lookups[name] += 1
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, int(port or 0)))]
        if isinstance(name, str) and name.endswith(".example.com"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self._real(host, port, *args, **kwargs)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> RebindingDns:
    fake = RebindingDns({REBINDING: [PUBLIC, INTERNAL], STABLE: [PUBLIC]})
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


def _pair(ssl_context: Callable[[], ssl.SSLContext | None] = lambda: None
          ) -> tuple[HTTPServer, HTTPServer]:
    """(public A on 127.0.0.2:P, internal B on 127.0.0.1:P), both started."""
    for _ in range(20):
        internal = HTTPServer(host=INTERNAL, port=0, ssl_context=ssl_context())
        internal.start()
        public = HTTPServer(host=PUBLIC, port=internal.port, ssl_context=ssl_context())
        try:
            public.start()
        except OSError:  # that port is taken on 127.0.0.2: try another
            internal.stop()
            continue
        return public, internal
    raise RuntimeError("no port free on both 127.0.0.1 and 127.0.0.2")


@pytest.fixture
def servers() -> Iterator[tuple[HTTPServer, HTTPServer]]:
    public, internal = _pair()
    yield public, internal
    public.stop()
    internal.stop()


def _serve(server: HTTPServer, path: str, who: str) -> None:
    server.expect_request(path).respond_with_data(f"<p>{who}</p>", content_type="text/html")


def test_fetch_connects_to_the_address_the_guard_checked(dns, servers) -> None:
    public, internal = servers
    _serve(public, "/page", "public")
    _serve(internal, "/page", "internal")
    url = f"http://{REBINDING}:{public.port}/page"
    fetcher = Fetcher(SETTINGS)

    result = fetcher.fetch(url)

    assert result.reason is None, result.detail
    assert result.body == b"<p>public</p>"
    assert internal.log == []
    [(request, _)] = public.log
    assert request.headers["Host"] == f"{REBINDING}:{public.port}"  # the name, not the IP
    assert dns.lookups[REBINDING] == 1  # the guard's lookup only: the client did not resolve

    # The next fetch resolves again: this time the guard sees the internal address.
    again = fetcher.fetch(url)
    assert again.reason == "blocked_address", again.detail
    assert internal.log == []


def test_international_name_is_judged_and_pinned_as_the_client_sends_it(dns, servers) -> None:
    """IDNA 2003 and 2008 spell "ß" differently: the guard must resolve, and pin, the
    name the HTTP client connects to, or the pin would not match (and nothing is fetched)."""
    public, internal = servers
    _serve(public, "/page", "public")
    _serve(internal, "/page", "internal")
    dns.answers["xn--stra-yna.example.com"] = [PUBLIC, INTERNAL]  # "straß" per IDNA 2008

    result = Fetcher(SETTINGS).fetch(f"http://straß.example.com:{public.port}/page")

    assert result.body == b"<p>public</p>", (result.reason, result.detail)
    assert internal.log == []


def test_every_redirect_hop_is_pinned(dns, servers) -> None:
    public, internal = servers
    port = public.port
    public.expect_request("/hop").respond_with_response(
        Response(status=302, headers={"Location": f"http://{REBINDING}:{port}/page"}))
    _serve(public, "/page", "public")
    _serve(internal, "/page", "internal")

    result = Fetcher(SETTINGS).fetch(f"http://{STABLE}:{port}/hop")

    assert result.reason is None, result.detail
    assert result.body == b"<p>public</p>"
    assert result.redirects == [f"http://{REBINDING}:{port}/page"]
    assert internal.log == []
    assert [(r.path, r.headers["Host"]) for r, _ in public.log] == [
        ("/hop", f"{STABLE}:{port}"), ("/page", f"{REBINDING}:{port}")]
    assert dns.lookups[REBINDING] == 1


def test_robots_txt_request_is_pinned_too(dns, servers) -> None:
    public, internal = servers
    public.expect_request("/robots.txt").respond_with_data("User-agent: *\nAllow: /\n",
                                                           content_type="text/plain")
    internal.expect_request("/robots.txt").respond_with_data("User-agent: *\nDisallow: /\n",
                                                             content_type="text/plain")
    _serve(public, "/page", "public")
    dns.answers[STABLE] = [PUBLIC, PUBLIC, INTERNAL]  # page check, robots check, then rebind

    result = Fetcher(HttpSettings(**{**SETTINGS.__dict__, "obey_robots": True})).fetch(
        f"http://{STABLE}:{public.port}/page")

    assert internal.log == []
    assert [r.path for r, _ in public.log] == ["/robots.txt", "/page"]
    assert result.body == b"<p>public</p>", (result.reason, result.detail)


def test_no_connection_without_a_guard_verdict(servers) -> None:
    """Fail closed: a request that did not pass the guard is not sent anywhere, even to
    an address that would be allowed."""
    public, _ = servers
    _serve(public, "/page", "public")
    fetcher = Fetcher(SETTINGS)
    session = fetcher._session()  # the fetcher's own session, used without the guard
    with pytest.raises(Exception, match="no address checked by the SSRF guard"):
        session.get(f"http://{PUBLIC}:{public.port}/page", timeout=2)
    assert public.log == []


# -- HTTPS: SNI and the certificate are checked for the name, not for the pinned IP --------


def _tls_material(tmp: Path, name: str) -> tuple[Path, Path, Path]:
    """A throw-away CA and a certificate for `name` signed by it: (ca, cert, key) PEMs."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "news-etl test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                       crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False,
                                       decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = tmp / "ca.pem", tmp / "cert.pem", tmp / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@pytest.mark.parametrize(("cert_name", "trusted"), [(REBINDING, True),
                                                    ("other.example.com", False)])
def test_https_keeps_sni_and_hostname_check_for_the_name(dns, tmp_path: Path,
                                                         cert_name: str, trusted: bool) -> None:
    ca, cert, key = _tls_material(tmp_path, cert_name)
    sni_seen: list[str | None] = []

    def context() -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        ctx.sni_callback = lambda sslobj, server_name, _ctx: sni_seen.append(server_name)
        return ctx

    public, internal = _pair(context)
    try:
        def who(request: Request) -> Response:
            return Response(f"<p>{request.host}</p>", content_type="text/html")

        public.expect_request("/page").respond_with_handler(who)
        internal.expect_request("/page").respond_with_data("<p>internal</p>",
                                                           content_type="text/html")
        fetcher = Fetcher(SETTINGS)
        fetcher._session().verify = str(ca)  # trust our throw-away CA (this thread's session)

        result = fetcher.fetch(f"https://{REBINDING}:{public.port}/page")

        assert internal.log == []
        assert sni_seen and set(sni_seen) == {REBINDING}  # SNI names the host, not the IP
        if trusted:
            assert result.reason is None, result.detail
            assert result.body == f"<p>{REBINDING}:{public.port}</p>".encode()
        else:  # certificate for another name: refused although the IP is the pinned one
            assert result.reason == "connect" and "TLS" in (result.detail or ""), result.detail
            assert public.log == []
    finally:
        public.stop()
        internal.stop()
