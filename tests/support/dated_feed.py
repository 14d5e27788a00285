"""RSS feeds on a local test server (127.0.0.1) whose dated entries a test changes between
runs, and short, distinct English stories for their pages (no two are near-copies)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from email.utils import format_datetime

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from .local_site import page

STORIES = {
    "ferry": ("Harbour ferry returns to service",
              "The harbour ferry returned to service this morning after a long refit in the "
              "northern dry dock, and the first crossing carried commuters, cyclists and a "
              "school class on a trip to the island museum."),
    "bakery": ("Village bakery wins regional prize",
               "A small village bakery won the regional bread prize on Saturday with a rye "
               "loaf made from grain grown on three neighbouring farms, beating entries from "
               "forty larger shops across the province."),
    "bridge": ("Footbridge closed for inspection",
               "Engineers closed the old footbridge over the canal on Tuesday for a structural "
               "inspection after residents reported cracks in two of the stone pillars; "
               "pedestrians are directed to the road bridge downstream."),
    "orchard": ("Orchard cooperative opens farm shop",
                "The orchard cooperative opened a farm shop beside the ring road where members "
                "sell apples, pears, cider and honey directly to customers every weekday "
                "afternoon until the end of the harvest season."),
    "archive": ("Town archive digitises old maps",
                "Volunteers at the town archive have scanned more than two hundred old survey "
                "maps, and the collection can now be browsed online by anyone researching the "
                "history of their street or family house."),
}


def title(slug: str) -> str:
    return STORIES[slug][0]


def serve_stories(server: HTTPServer,
                  before: Callable[[str], None] | None = None) -> None:
    """Serve every story at /news/<slug>; `before(slug)` runs first in each request."""
    for slug, (headline, text) in STORIES.items():
        html = page(headline, [text])

        def respond(_request: Request, slug: str = slug, html: str = html) -> Response:
            if before is not None:
                before(slug)
            return Response(html, content_type="text/html")

        server.expect_request(f"/news/{slug}").respond_with_handler(respond)


class Feed:
    """An RSS feed at `path` listing `entries` — (slug, published or None) — at request time."""

    def __init__(self, server: HTTPServer, path: str = "/feed.xml",
                 entries: list[tuple[str, datetime | None]] | None = None) -> None:
        self.base = server.url_for("").rstrip("/")
        self.url = server.url_for(path)
        self.entries = list(entries or [])
        server.expect_request(path).respond_with_handler(self._feed)

    def _feed(self, _request: Request) -> Response:
        items = "".join(
            f"<item><title>{title(slug)}</title><link>{self.base}/news/{slug}</link>"
            + (f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate>" if when else "")
            + "</item>" for slug, when in self.entries)
        return Response(f"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>"
                        f"<link>{self.base}</link>{items}</channel></rss>",
                        content_type="application/rss+xml")
