"""Servers that drop connections, reset mid-body or trickle bytes (slow-loris), written
here on raw sockets: every fetch ends within a bound with connect/timeout, and the run's
accounting adds up."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from etl.config import HttpSettings, load_sources
from etl.fetch.http import Fetcher
from etl.pipeline import RunOptions, ingest
from etl.warehouse import Warehouse

HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 50000\r\n\r\n"


class BadServer:
    """One raw-socket server on 127.0.0.1; the request path picks the misbehaviour."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.hits: Counter[str] = Counter()
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        try:
            request = conn.recv(65536).decode("latin-1")
            path = request.split(" ")[1] if " " in request else "/"
            self.hits[path] += 1
            if path == "/drop":  # accept, then close without a byte
                return
            if path == "/reset":  # half a body, then a TCP reset
                conn.sendall(HEAD + b"<p>" * 100)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                return
            if path == "/trickle-headers":
                for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Slow: " + b"a" * 500:
                    if self._stop.is_set():
                        return
                    conn.sendall(bytes([byte]))
                    time.sleep(0.1)
            if path == "/trickle-body":
                conn.sendall(HEAD)
                for _ in range(50000):
                    if self._stop.is_set():
                        return
                    conn.sendall(b"a")
                    time.sleep(0.1)
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self.sock.close()


@pytest.fixture
def bad_server() -> Iterator[BadServer]:
    server = BadServer()
    yield server
    server.close()


FAST = HttpSettings(timeout_s=0.5, retries=1, backoff_s=0.05, min_delay_s=0,
                    allow_hosts=("127.0.0.1",), obey_robots=False, workers=4)
# One attempt: connect (≤0.5 s) + 5 × timeout; two attempts plus backoff, with slack.
BOUND_S = 2 * (0.5 + 5 * 0.5) + 2.0


@pytest.mark.parametrize(("path", "reason", "attempts"), [
    ("/drop", "connect", 2),
    ("/reset", "connect", 1),
    ("/trickle-headers", "timeout", 2),
    ("/trickle-body", "timeout", 1),
])
def test_fetch_ends_within_its_bound(bad_server, path, reason, attempts):
    started = time.monotonic()
    result = Fetcher(FAST).fetch(bad_server.url(path))
    elapsed = time.monotonic() - started
    assert (result.reason, result.body) == (reason, None), result.detail
    assert elapsed < BOUND_S, elapsed
    assert bad_server.hits[path] == attempts  # retries hold: a reset body is not re-asked


def test_run_against_misbehaving_servers_adds_up(bad_server, tmp_path: Path, sqlite_url):
    paths = ["/drop", "/reset", "/trickle-headers", "/trickle-body"]
    listed = "".join(f"\n    - '{bad_server.url(p)}'" for p in paths)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    listed += f"\n    - 'http://127.0.0.1:{closed.getsockname()[1]}/refused'"
    sources = tmp_path / "sources.yml"
    sources.write_text("http: {allow_hosts: ['127.0.0.1'], min_delay_s: 0, obey_robots: false,"
                       " timeout_s: 0.5, retries: 1, backoff_s: 0.05, workers: 5}\n"
                       f"sources:\n  - name: flaky\n    kind: urls\n    urls:{listed}\n")
    wh = Warehouse(sqlite_url)
    started = time.monotonic()
    summary = ingest(load_sources(sources), wh, run_id="flaky",
                     options=RunOptions(workers=1, archive_root=str(tmp_path / "archive"),
                                        data_docs_dir=str(tmp_path / "docs")))
    closed.close()
    assert time.monotonic() - started < 30
    [report] = summary.reports
    assert report.balanced and report.discovered == 5
    [fetch] = [s for s in report.stage_stats if s["stage"] == "fetch"]
    assert fetch["dropped"] == {"connect": 3, "timeout": 2}
