"""The local site for the urls variant: a threaded HTTP server in its own process (its CPU
is not the pipeline's, but shares the cores) serving one folder on several ports of
127.0.0.1. The ports are one politeness host: the limiter keys on the host name, not the
port.

    python benchmarks/throughput_site.py ROOT PORT,PORT,...   (prints "ready", serves
                                                                until its stdin closes)
"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

N_PORTS = 16


def serve(root: str, ports: list[int]) -> None:
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=root)
    servers = [ThreadingHTTPServer(("127.0.0.1", port), handler) for port in ports]
    for server in servers:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin


def _free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


class LocalSite:
    """`root` served on N_PORTS ports by a child process, until close()."""

    def __init__(self, root: Path) -> None:
        self.ports = _free_ports(N_PORTS)
        self.proc = subprocess.Popen(
            [sys.executable, __file__, str(root), ",".join(map(str, self.ports))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "ready"

    def url_list(self, paths: list[Path], out: Path) -> Path:
        """A urls source file: the files of `paths`, spread round-robin over the ports."""
        out.write_text("".join(f"http://127.0.0.1:{self.ports[i % len(self.ports)]}/{p.name}\n"
                               for i, p in enumerate(paths)))
        return out

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


if __name__ == "__main__":
    serve(sys.argv[1], [int(p) for p in sys.argv[2].split(",")])
