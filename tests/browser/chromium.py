"""Headless Chromium with the network cut off, and a PNG reader for its screenshots.

Every page is loaded with name resolution failing for every host and a proxy on a closed
port, so anything the page tried to fetch from the internet (a CDN stylesheet, a script, a
font) is missing from the render, as it would be on an offline machine.
"""

from __future__ import annotations

import shutil
import socket
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def chromium(url: str, profile: Path, *args: str,
             timeout: float = 120) -> subprocess.CompletedProcess:
    """Run headless Chromium on `url`, offline. The page's console (script errors
    included) goes to stderr."""
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--disable-extensions", "--disable-background-networking",
        f"--user-data-dir={profile}",  # one profile per call: calls run side by side
        '--host-resolver-rules=MAP * ~NOTFOUND',
        f"--proxy-server=127.0.0.1:{_closed_port()}",
        "--enable-logging=stderr", "--v=0",
        "--virtual-time-budget=3000",  # let scripts and layout settle before dumping
        *args, url,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def console_errors(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in result.stderr.splitlines()
            if ":CONSOLE" in line and "Uncaught" in line]


def dump_dom(path: Path, profile: Path) -> tuple[str, list[str]]:
    """The DOM after scripts ran, serialised, and the page's uncaught script errors."""
    result = chromium(path.as_uri(), profile, "--dump-dom")
    return result.stdout, console_errors(result)


def screenshot(path: Path, profile: Path, out: Path, size: str = "1000,1400") -> Path:
    chromium(path.as_uri(), profile, f"--screenshot={out}", f"--window-size={size}",
             "--hide-scrollbars")
    assert out.is_file() and out.stat().st_size > 0
    return out


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def png_pixels(path: Path) -> tuple[int, int, Counter[tuple[int, int, int]]]:
    """Width, height and a count of every RGB colour of an 8-bit RGB/RGBA PNG (what
    Chromium writes). No imaging library: zlib and the five PNG row filters."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, bytearray(), None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    assert header is not None
    width, height, depth, colour_type = header[:4]
    assert depth == 8 and colour_type in (2, 6), f"unsupported PNG {header}"
    bpp = 3 if colour_type == 2 else 4
    raw = zlib.decompress(bytes(idat))
    stride = width * bpp
    previous = bytearray(stride)
    colours: Counter[tuple[int, int, int]] = Counter()
    for y in range(height):
        start = y * (stride + 1)
        kind, row = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(bpp, stride):
                row[i] = (row[i] + row[i - bpp]) & 0xFF
        elif kind == 2:
            row = bytearray((r + p) & 0xFF for r, p in zip(row, previous, strict=True))
        elif kind == 3:
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                left = row[i - bpp] if i >= bpp else 0
                upper_left = previous[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + _paeth(left, previous[i], upper_left)) & 0xFF
        pixels = zip(row[0::bpp], row[1::bpp], row[2::bpp], strict=True)
        colours.update(pixels)
        previous = row
    return width, height, colours
