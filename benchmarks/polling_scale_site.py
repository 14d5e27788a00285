"""The local site of benchmarks/polling_scale.py: N generated RSS feeds and the article
pages behind them, served by uvicorn in its own process (`start_server`).

/feed/<i>.xml: 20 entries, with an ETag and Last-Modified; 304 to a matching
If-None-Match. /a/<i>/<k>: an article page (~300 words of generated text) with its own ETag.
/cycle/<n>: the cycle the site is in (busy feeds gain an entry per cycle; from cycle 1 on,
dead feeds answer 410, flaky ones 503, and a fifth of the pages have a new headline).
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from email.utils import format_datetime

ENTRIES = 20


def feed_kind(i: int) -> str:
    """busy (a new entry every cycle), dead (410 once the cycle > 0), flaky (503), quiet."""
    if i % 100 == 0:
        return "dead"
    if i % 100 == 1:
        return "flaky"
    return "busy" if i % 33 == 2 else "quiet"


WORDS = {
    "noun": ("council", "harbour", "library", "orchard", "tram line", "school board",
             "river bank", "market", "clinic", "bridge", "festival", "museum", "depot",
             "workshop", "reservoir", "stadium", "bakery", "ferry", "archive", "garden"),
    "verb": ("approved", "delayed", "reopened", "expanded", "inspected", "funded",
             "questioned", "repaired", "postponed", "celebrated", "measured", "rebuilt"),
    "adj": ("new", "old", "northern", "quiet", "crowded", "temporary", "local", "larger",
            "cheaper", "wooden", "regional", "second"),
    "day": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "who": ("residents", "engineers", "volunteers", "shop owners", "the mayor", "teachers",
            "nurses", "farmers", "drivers", "students"),
}
TEMPLATES = (
    "The {adj} {noun} was {verb} on {day} after {who} asked for a decision.",
    "{who} said the {noun} near the {adj} {noun} should be {verb} before winter.",
    "According to {who}, the {adj} {noun} had been {verb} twice in ten years.",
    "On {day} the {noun} was {verb}, and {who} gathered outside the {adj} {noun}.",
    "Nobody expected the {noun} to be {verb} so soon, {who} told the meeting.",
)


def story(i: int, k: int, revised: bool) -> tuple[str, str]:
    """(headline, ~300 words) of entry k of feed i: generated, the same on every call."""
    rng = random.Random(i * 1_000_003 + k)
    pick = lambda part: rng.choice(WORDS[part])  # noqa: E731
    fill = lambda t: t.format(**{p: pick(p) for p in WORDS})  # noqa: E731
    headline = fill("The {adj} {noun} {verb} by {who}").capitalize() + f" ({i}.{k})"
    if revised:
        headline = "Update: " + fill("{noun} {verb} on {day}") + f" ({i}.{k})"
    paragraphs, words = [], 0
    while words < 300:
        para = " ".join(fill(rng.choice(TEMPLATES)).capitalize() for _ in range(4))
        paragraphs.append(para)
        words += len(para.split())
    return headline, "".join(f"<p>{p}</p>" for p in paragraphs)


def revised(i: int, k: int, cycle: int) -> bool:
    """A fifth of the pages have their headline rewritten from cycle 1 on."""
    return cycle > 0 and (i * 31 + k) % 5 == 0


def fresh_entries(i: int, cycle: int) -> int:
    """Busy feeds: one fresh entry per cycle so far (one in the prime); others none."""
    return min(cycle + 1, ENTRIES) if feed_kind(i) == "busy" else 0


def feed_xml(port: int, i: int, cycle: int, t0: datetime) -> bytes:
    fresh = fresh_entries(i, cycle)
    total = ENTRIES + fresh
    items = []
    for k in range(total - 1, total - ENTRIES - 1, -1):
        dated = t0 - (timedelta(minutes=5) if k >= ENTRIES else timedelta(days=30))
        items.append(f"<item><title>Story {k} of feed {i}</title>"
                     f"<link>http://127.0.0.1:{port}/a/{i}/{k}</link>"
                     f"<pubDate>{format_datetime(dated, usegmt=True)}</pubDate></item>")
    return (f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
            f"<title>Feed {i}</title><link>http://127.0.0.1:{port}/</link>{''.join(items)}"
            f"</channel></rss>").encode()


def page_html(i: int, k: int, cycle: int) -> bytes:
    headline, body = story(i, k, revised(i, k, cycle))
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{headline}"
            f"</title></head><body><nav><a href='/'>Home</a></nav><article><h1>{headline}"
            f"</h1>{body}</article><footer>Local news, generated.</footer></body></html>"
            ).encode()


def respond(port: int, t0: datetime, cycle: int, path: str, sent: str | None
            ) -> tuple[int, bytes, bytes, list[tuple[bytes, bytes]]]:
    """(status, body, content type, validator headers) for one request."""
    if path.startswith("/feed/") and path.endswith(".xml"):
        i = int(path[len("/feed/"):-len(".xml")])
        kind = feed_kind(i)
        if cycle > 0 and kind in ("dead", "flaky"):
            return (410, b"gone", b"text/plain", []) if kind == "dead" else (
                503, b"busy", b"text/plain", [])
        version = fresh_entries(i, cycle)
        etag = f'"f{i}-{version}"'
        headers = [(b"etag", etag.encode()), (b"last-modified", format_datetime(
            t0 + timedelta(hours=version), usegmt=True).encode())]
        if sent == etag:
            return 304, b"", b"application/rss+xml", headers
        return 200, feed_xml(port, i, cycle, t0), b"application/rss+xml", headers
    if path.startswith("/a/"):
        i, k = (int(x) for x in path[len("/a/"):].split("/"))
        etag = f'"a{i}-{k}-{int(revised(i, k, cycle))}"'
        headers = [(b"etag", etag.encode())]
        if sent == etag:
            return 304, b"", b"text/html", headers
        return 200, page_html(i, k, cycle), b"text/html; charset=utf-8", headers
    return 404, b"not found", b"text/plain", []


def serve(port: int, t0: datetime) -> None:
    import uvicorn

    state = {"cycle": 0}

    async def app(scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        if path.startswith("/cycle/"):
            state["cycle"] = int(path.rsplit("/", 1)[1])
            status, body, ctype, headers = 200, b"ok", b"text/plain", []
        else:
            sent = dict(scope["headers"]).get(b"if-none-match")
            status, body, ctype, headers = respond(
                port, t0, state["cycle"], path, sent.decode() if sent else None)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", ctype), *headers,
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                http="httptools", loop="uvloop")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(t0: datetime) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, __file__, str(port), t0.isoformat()])
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the feed server did not start")


if __name__ == "__main__":
    serve(int(sys.argv[1]), datetime.fromisoformat(sys.argv[2]))
