"""A raw-socket server whose robots.txt is unreachable: it closes the connection without
a byte on /robots.txt and serves a small page on every other path (127.0.0.1 only)."""

from __future__ import annotations

import socket
import threading


class ClosingRobotsServer:
    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.paths: list[str] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                try:
                    request = conn.recv(65536).decode("latin-1")
                    path = request.split(" ")[1] if " " in request else "/"
                    self.paths.append(path)
                    if path != "/robots.txt":
                        body = b"<html><body>page</body></html>"
                        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                                     b"Connection: close\r\nContent-Length: "
                                     + str(len(body)).encode() + b"\r\n\r\n" + body)
                except OSError:
                    pass

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.sock.close()
