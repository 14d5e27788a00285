"""Never hung: every fetch ends within its whole-attempt deadline whatever the server does.

A raw-socket server of our own controls the framing byte by byte: it sends the status
line and headers (or trickles the headers themselves), then drips the body one small piece
at a time, fast enough that no per-read socket timeout ever fires. Each framing is served
as HTTP/1.0 and HTTP/1.1, with and without `Connection: close` — a response the server
will close hands its socket from the connection to the response object, which is where a
watchdog that only knows the connection loses track of it.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from etl.config import HttpSettings, load_sources
from etl.fetch.http import Fetcher
from etl.fetch.result import FetchError
from etl.pipeline import RunOptions, ingest
from etl.records import Outcome
from etl.warehouse import Warehouse
from etl.warehouse.schema import article_failures, ingest_runs

DRIP_EVERY_S = 0.05  # far below any read timeout used here
DRIP_FOR_S = 20.0  # the server gives up after this: long past every deadline below
FRAMINGS = ("slow_headers", "content_length", "chunked", "close_delimited")
# (HTTP version, Connection header): 1.0 closes by default; 1.1 keeps alive unless told.
CONNECTIONS = (("1.0", None), ("1.0", "keep-alive"), ("1.1", None), ("1.1", "close"))

TIMEOUT_S = 0.2  # 4 drips: no per-read timeout fires; each case waits out one deadline
# The documented whole-attempt deadline: connect timeout (min(timeout_s, 10)) + 5 × timeout_s.
ATTEMPT_DEADLINE_S = min(TIMEOUT_S, 10.0) + 5 * TIMEOUT_S
SLACK_S = 1.5  # scheduling and teardown on a busy machine; a correctness bound, not speed
FAST = HttpSettings(timeout_s=TIMEOUT_S, retries=0, backoff_s=0.05, min_delay_s=0,
                    allow_hosts=("127.0.0.1",), obey_robots=False, workers=8)


class DripServer:
    """Threaded raw-socket HTTP server on 127.0.0.1. The path picks the response:
    /<framing>/<version>/<connection or ->/<anything>, e.g. /chunked/1.0/-/page.
    /robots.txt is dripped close-delimited; /ok/... answers a small page at once."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.hits: Counter[str] = Counter()
        self.open_connections = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, framing: str, version: str, connection: str | None, name: str = "p") -> str:
        return f"http://127.0.0.1:{self.port}/{framing}/{version}/{connection or '-'}/{name}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with self._lock:
            self.open_connections += 1
        try:
            request = conn.recv(65536).decode("latin-1")
            path = request.split(" ")[1] if " " in request else "/"
            with self._lock:
                self.hits[path] += 1
            if path == "/robots.txt":
                self._respond(conn, "close_delimited", "1.1", "close",
                              content_type="text/plain")
                return
            parts = path.split("/")
            if len(parts) >= 4 and parts[1] == "ok":
                body = b"<html><body><p>fine</p></body></html>"
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                             b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                             % (len(body), body))
                return
            framing, version, connection = parts[1], parts[2], parts[3]
            self._respond(conn, framing, version, None if connection == "-" else connection)
        except OSError:
            pass  # the client gave up (our point): nothing to clean but the socket
        finally:
            conn.close()
            with self._lock:
                self.open_connections -= 1

    def _respond(self, conn: socket.socket, framing: str, version: str,
                 connection: str | None, content_type: str = "text/html") -> None:
        head = [f"HTTP/{version} 200 OK", f"Content-Type: {content_type}"]
        if connection:
            head.append(f"Connection: {connection}")
        if framing == "content_length":
            head.append("Content-Length: 1000000")
        elif framing == "chunked":
            head.append("Transfer-Encoding: chunked")
        raw_head = ("\r\n".join(head) + "\r\n").encode()
        stop_at = time.monotonic() + DRIP_FOR_S
        if framing == "slow_headers":
            # Header lines that never end: one byte at a time.
            pieces: Iterator[bytes] = iter([bytes([b]) for b in raw_head]
                                           + [b"X-Pad: "] + [b"a"] * 10**6)
        else:
            conn.sendall(raw_head + b"\r\n")
            piece = b"1\r\na\r\n" if framing == "chunked" else b"a"
            pieces = iter([piece] * 10**6)
        for piece in pieces:
            if self._stop.is_set() or time.monotonic() > stop_at:
                return
            conn.sendall(piece)
            time.sleep(DRIP_EVERY_S)

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


@pytest.fixture
def drip_server() -> Iterator[DripServer]:
    server = DripServer()
    yield server
    server.close()


CASES = [pytest.param(framing, version, connection,
                      id=f"{framing}-http{version}-{connection or 'default'}")
         for framing in FRAMINGS for version, connection in CONNECTIONS]


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("framing", "version", "connection"), CASES)
def test_fetch_ends_within_attempt_deadline(drip_server: DripServer, framing: str,
                                            version: str, connection: str | None) -> None:
    started = time.monotonic()
    result = Fetcher(FAST).fetch(drip_server.url(framing, version, connection))
    elapsed = time.monotonic() - started
    assert result.reason == "timeout", (result.reason, result.detail, result.status)
    assert result.body is None and not result.ok
    assert elapsed < ATTEMPT_DEADLINE_S + SLACK_S, elapsed


@pytest.mark.timeout(60)
def test_retries_each_get_their_own_deadline_and_no_more(drip_server: DripServer) -> None:
    # Slow headers are retried (no response was received); two attempts, two deadlines.
    settings = replace(FAST, retries=1)
    url = drip_server.url("slow_headers", "1.0", None)
    started = time.monotonic()
    result = Fetcher(settings).fetch(url)
    elapsed = time.monotonic() - started
    assert result.reason == "timeout"
    assert elapsed < 2 * ATTEMPT_DEADLINE_S + settings.backoff_s * 1.1 + SLACK_S, elapsed
    assert drip_server.hits["/slow_headers/1.0/-/p"] == 2


@pytest.mark.timeout(60)
def test_robots_txt_fetch_obeys_the_deadline(drip_server: DripServer) -> None:
    """robots.txt dripped close-delimited: its fetch ends at its deadline, then the page
    request gets its own (whatever robots policy then says about the page)."""
    settings = replace(FAST, obey_robots=True)
    started = time.monotonic()
    result = Fetcher(settings).fetch(drip_server.url("ok", "1.1", None))
    elapsed = time.monotonic() - started
    assert drip_server.hits["/robots.txt"] == 1
    assert elapsed < 2 * ATTEMPT_DEADLINE_S + SLACK_S, elapsed
    assert result.reason in (None, "robots_unavailable"), (result.reason, result.detail)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("framing", "version", "connection"), [
    ("close_delimited", "1.0", None), ("close_delimited", "1.1", "close"),
    ("content_length", "1.0", None), ("chunked", "1.1", None),
])
def test_stream_obeys_its_deadline(drip_server: DripServer, framing: str, version: str,
                                   connection: str | None) -> None:
    """Fetcher.stream (WARC downloads) has a whole-download deadline: a dripped body ends
    in an error, never in a silently short file."""
    deadline_s = 1.0
    started = time.monotonic()
    received = b""
    url = drip_server.url(framing, version, connection)
    with pytest.raises(TimeoutError) as caught, \
            Fetcher(FAST).stream(url, deadline_s=deadline_s) as body:
        while chunk := body.read(4096):
            received += chunk
    elapsed = time.monotonic() - started
    assert elapsed < deadline_s + SLACK_S, elapsed
    assert "within" in str(caught.value)
    assert len(received) < 1000


@pytest.mark.timeout(60)
def test_stream_slow_headers_fail_with_timeout(drip_server: DripServer) -> None:
    started = time.monotonic()
    with pytest.raises(FetchError) as caught, \
            Fetcher(FAST).stream(drip_server.url("slow_headers", "1.0", None)):
        pass
    assert caught.value.result.reason == "timeout"
    assert time.monotonic() - started < ATTEMPT_DEADLINE_S + SLACK_S


@pytest.mark.timeout(120)
def test_pipeline_accounts_dripping_servers_as_failed(drip_server: DripServer, tmp_path: Path,
                                                      sqlite_url: str) -> None:
    urls = [drip_server.url(framing, version, connection, name=f"{framing}{version}")
            for framing in FRAMINGS for version, connection in (("1.0", None), ("1.1", "close"))]
    listed = "".join(f"\n    - '{url}'" for url in urls)
    sources = tmp_path / "sources.yml"
    sources.write_text(
        "http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: false,"
        f" timeout_s: {TIMEOUT_S}, retries: 0, workers: {len(urls)}, max_per_host: {len(urls)}}}\n"
        f"sources:\n  - name: dripping\n    kind: urls\n    urls:{listed}\n")
    warehouse = Warehouse(sqlite_url)
    started = time.monotonic()
    summary = ingest(load_sources(sources), warehouse, run_id="dripping",
                     options=RunOptions(workers=1, archive_root=str(tmp_path / "archive"),
                                        data_docs_dir=str(tmp_path / "docs")))
    elapsed = time.monotonic() - started
    [report] = summary.reports
    assert report.balanced and report.discovered == len(urls)
    assert report.outcomes == Counter({Outcome.FAILED: len(urls)})
    [fetch] = [s for s in report.stage_stats if s["stage"] == "fetch"]
    assert fetch["dropped"] == {"timeout": len(urls)}
    with warehouse.engine.connect() as conn:
        [run] = conn.execute(select(ingest_runs)).mappings().all()
        reasons = Counter(conn.execute(select(article_failures.c.reason)).scalars())
    assert run["discovered"] == run["failed"] == len(urls)
    assert run["discovered"] == sum(run[k] for k in ("loaded", "duplicates", "rejected",
                                                     "failed", "not_modified"))
    assert reasons == Counter({"timeout": len(urls)})
    # All fetches run at once; each ends at its deadline (plus run start-up and teardown).
    assert elapsed < ATTEMPT_DEADLINE_S + 15, elapsed
    warehouse.dispose()


@pytest.mark.timeout(60)
def test_slow_tls_handshake_ends_within_attempt_deadline() -> None:
    """A TLS server that drips its handshake record: the handshake runs inside connect,
    before any request, and still ends at the attempt deadline."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        with suppress(OSError):
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)  # the ClientHello
                conn.sendall(b"\x16\x03\x03\x40\x00")  # a 16 KiB handshake record follows…
                while not stop.is_set():
                    conn.sendall(b"a")  # …one byte at a time
                    time.sleep(DRIP_EVERY_S)

    threading.Thread(target=serve, daemon=True).start()
    try:
        started = time.monotonic()
        result = Fetcher(FAST).fetch(f"https://127.0.0.1:{port}/page")
        elapsed = time.monotonic() - started
    finally:
        stop.set()
        listener.close()
    assert result.reason == "timeout", (result.reason, result.detail)
    assert elapsed < ATTEMPT_DEADLINE_S + SLACK_S, elapsed
