"""A small local news site for tests: an RSS feed and article pages (127.0.0.1 only)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from pytest_httpserver import HTTPServer

STORY = [
    "The regional rail operator confirmed on Monday that the night trains between the two "
    "valley towns will run every thirty minutes from the start of the winter timetable.",
    "Commuter groups had asked for the change for three years, arguing that shift workers "
    "at the hospital and the logistics park had no way to get home after eleven o'clock.",
    "The operator said the extra services would be paid for by the regional council for a "
    "trial period of two years, after which passenger numbers will decide their future.",
    "Subscribe to our newsletter for more local transport news.",
]


def page(title: str, body: list[str]) -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in body)
    return (f"<html lang='en'><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><article><h1>{title}</h1>{paragraphs}</article></body></html>")


def feed(base: str, slugs: list[str]) -> str:
    # Dated yesterday: inside every source's max_age_days whenever the tests run.
    dated = format_datetime(datetime.now(UTC) - timedelta(days=1), usegmt=True)
    items = "".join(
        f"<item><title>{s}</title><link>{base}/news/{s}</link>"
        f"<pubDate>{dated}</pubDate></item>" for s in slugs)
    return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>Local</title>"
            f"<link>{base}</link>{items}</channel></rss>")


def serve_site(httpserver: HTTPServer) -> HTTPServer:
    """Feed with three items: two articles and a 404."""
    base = httpserver.url_for("").rstrip("/")
    httpserver.expect_request("/feed.xml").respond_with_data(
        feed(base, ["night-trains", "new-library", "gone"]), content_type="application/rss+xml")
    httpserver.expect_request("/news/night-trains").respond_with_data(
        page("Night trains every thirty minutes", STORY), content_type="text/html",
        headers={"ETag": '"v1"'})
    library = [
        "From next month the central library will open on Sunday afternoons, the culture "
        "committee decided unanimously on Tuesday evening after a long consultation.",
        "Students had complained that the reading rooms were overcrowded during the exam "
        "weeks, when the university library closes at weekends and on public holidays.",
        "Volunteers who already run the ground-floor café will staff part of the new shifts, "
        "and the renovation of the entrance hall has been postponed by one year to pay for it.",
    ]
    httpserver.expect_request("/news/new-library").respond_with_data(
        page("Library opens on Sundays", library), content_type="text/html")
    httpserver.expect_request("/news/gone").respond_with_data("gone", status=404)
    return httpserver
