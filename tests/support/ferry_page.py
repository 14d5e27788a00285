"""One original article page to hang a pattern on: the fields tests (updated date, offset,
image, paywall, live blog) add their markup to its head or around its body."""

from __future__ import annotations

import json

URL = "https://news.example.org/harbour/ferry-timetable"
SENTENCES = (
    "The island ferry returns to its winter timetable on Monday after a long summer.",
    "Crossings leave the harbour every ninety minutes until the evening boat at nine.",
    "The operator says the old pier will be repaired before the storms of November.",
    "Residents of both islands had asked for an earlier first crossing for commuters.",
    "Tickets bought for the summer schedule stay valid until the end of the month.",
)


def paragraphs(sentences: tuple[str, ...] = SENTENCES) -> str:
    return "".join(f"<p>{s}</p>" for s in sentences)


BODY = paragraphs()


def page(head: str = "", before: str = "", after: str = "", body: str = BODY) -> str:
    return (f"<html lang='en'><head><meta charset='utf-8'><title>Ferry timetable</title>"
            f"{head}</head><body><nav><a href='/'>Home</a></nav><article>"
            f"<h1>Ferry back on its winter timetable</h1>{before}{body}{after}</article>"
            f"<footer><p>© Harbour Gazette</p></footer></body></html>")


def jsonld(**fields: object) -> str:
    obj = {"@context": "https://schema.org", "@type": "NewsArticle",
           "headline": "Ferry back on its winter timetable", **fields}
    return f"<script type='application/ld+json'>{json.dumps(obj)}</script>"
