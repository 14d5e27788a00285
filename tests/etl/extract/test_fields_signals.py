"""The lead image, paywall and live-blog flags (etl.extract.metadata.page_signals), through
the extract stage; original pages, one pattern each, and the cases that must give nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from support.ferry_page import SENTENCES, URL, jsonld, paragraphs
from support.ferry_page import page as ferry_page

from etl.extract import ExtractStage
from etl.extract.metadata.page_signals import image_refusal
from etl.records import Article, Dropped

# Four sentences: the paywall and ticker cases add their own ending to a short story.
BODY = paragraphs(SENTENCES[:4])


def page(head: str = "", before: str = "", after: str = "", body: str = BODY) -> str:
    return ferry_page(head, before, after, body)


def extract(html: str) -> tuple[Article, ExtractStage]:
    drops: list[Dropped] = []
    stage = ExtractStage(drops.append, {})
    item = Article(url=URL, source="s", raw=html.encode(),
                   fetched_at=datetime(2024, 6, 1, 12, 0, tzinfo=UTC))
    out = list(stage([item]))
    assert drops == [] and len(out) == 1
    return out[0], stage


IMAGE = "https://img.example.org/2024/05/ferry-at-the-pier.jpg"


def og(url: str, width: int | None = None, height: int | None = None) -> str:
    tags = f"<meta property='og:image' content='{url}'>"
    if width is not None:
        tags += f"<meta property='og:image:width' content='{width}'>"
    if height is not None:
        tags += f"<meta property='og:image:height' content='{height}'>"
    return tags


# ------------------------------------------------------------------------------ lead image


@pytest.mark.parametrize(("head", "expected", "source"), [
    (og(IMAGE, 1200, 630), IMAGE, "og"),
    # Relative and protocol-relative URLs are resolved against the page.
    (og("/media/2024/ferry.jpg"), "https://news.example.org/media/2024/ferry.jpg", "og"),
    (og("//cdn.example.org/ferry.webp"), "https://cdn.example.org/ferry.webp", "og"),
    ("<meta name='twitter:image' content='images/ferry.png'>",
     "https://news.example.org/harbour/images/ferry.png", "twitter"),
    (jsonld(image={"@type": "ImageObject", "url": IMAGE, "width": 1600, "height": "900px"}),
     IMAGE, "jsonld"),
    (jsonld(image=[IMAGE, "https://img.example.org/other.jpg"]), IMAGE, "jsonld"),
    # A refused og:image gives way to the next statement.
    (og("https://news.example.org/static/site-logo.png") + jsonld(image=IMAGE), IMAGE,
     "jsonld"),
    (og("https://news.example.org/favicon.ico")
     + f"<meta name='twitter:image' content='{IMAGE}'>", IMAGE, "twitter"),
])
def test_the_lead_image(head: str, expected: str, source: str) -> None:
    article, _ = extract(page(head))
    assert (article.image_url, article.image_source) == (expected, source)


@pytest.mark.parametrize("head", [
    og("https://news.example.org/favicon.ico"),
    og("https://news.example.org/assets/logo.png"),
    og("https://news.example.org/logos/harbour-gazette.jpg"),
    og("https://news.example.org/img/sprite_2x.webp"),
    og("https://track.example.net/pixel.gif?id=42"),
    og("https://track.example.net/p/1x1.png"),
    og("https://news.example.org/brand/mark.svg"),
    og("data:image/gif;base64,R0lGODlhAQABAAAAACw="),
    og(IMAGE, width=1, height=1),
    og(IMAGE, width=48),
    jsonld(image={"@type": "ImageObject", "url": IMAGE, "width": 16, "height": 16}),
    # The publisher's logo in JSON-LD is not the article's image.
    jsonld(publisher={"@type": "Organization", "name": "Harbour Gazette",
                      "logo": {"@type": "ImageObject", "url": IMAGE}}),
    "",
])
def test_no_lead_image_rather_than_site_furniture(head: str) -> None:
    article, _ = extract(page(head))
    assert (article.image_url, article.image_source) == (None, None)


@pytest.mark.parametrize(("url", "reason"), [
    ("https://img.example.org/2024/05/pixel-phone-review.jpg", None),
    ("https://img.example.org/2024/05/logo-redesign-vote.jpg", "site_furniture"),
    ("https://img.example.org/uploads/icons/share.png", "site_furniture"),
    ("https://img.example.org/spacer.gif", "site_furniture"),
    ("ftp://img.example.org/a.jpg", "not_http"),
    ("data:image/png;base64,AAAA", "data_uri"),
    ("https://img.example.org/favicon-32x32.png", "site_furniture"),
    ("https://img.example.org/a.ICO", "icon_or_vector"),
])
def test_image_refusal(url: str, reason: str | None) -> None:
    assert image_refusal(url) == reason
    assert image_refusal(IMAGE, width=99, height=800) == "tiny"
    assert image_refusal(IMAGE, width=100, height=100) is None


# -------------------------------------------------------------------------------- paywall

TEASER = "<p>Subscribe now to continue reading this article.</p>"


@pytest.mark.parametrize(("head", "after", "expected"), [
    (jsonld(isAccessibleForFree=False), "", (True, "jsonld")),
    (jsonld(isAccessibleForFree="False"), "", (True, "jsonld")),
    (jsonld(isAccessibleForFree="false"), "", (True, "jsonld")),
    (jsonld(isAccessibleForFree=True), "", (False, "jsonld")),
    (jsonld(isAccessibleForFree="True"), "", (False, "jsonld")),
    # The page's statement wins over our reading of its body.
    (jsonld(isAccessibleForFree=True), TEASER, (False, "jsonld")),
    # Google's paywalled-content markup: a locked part of the page.
    (jsonld(hasPart={"@type": "WebPageElement", "isAccessibleForFree": "False",
                     "cssSelector": ".locked"}), "", (True, "jsonld")),
    ("<meta property='article:content_tier' content='locked'>", "", (True, "meta")),
    ("<meta property='article:content_tier' content='free'>", "", (False, "meta")),
    ("<meta property='article:content_tier' content='metered'>", "", (None, None)),
    # Truncation: the body ends in a call to subscribe to read on.
    ("", TEASER, (True, "truncation")),
    ("", "<p>Der vollständige Artikel ist nur für Abonnenten verfügbar.</p>",
     (True, "truncation")),
    ("", "<p>La suite de cet article est réservée aux abonnés.</p>", (True, "truncation")),
    ("", "<div class='paywall-teaser'><p>This story is available only to subscribers.</p>"
         "<a href='/subscribe'>Subscribe</a></div>", (True, "truncation")),
    ("", "<p>Already a subscriber? Log in for immediate access to this story.</p>",
     (True, "truncation")),
    # A "subscribers only" label on teasers of other stories says nothing of this one.
    ("", "<ul><li><h3 class='subscriber-only-tag'>SUBSCRIBER ONLY</h3><a href='/b'>Pier "
         "repairs</a></li></ul>", (None, None)),
    ("", "<p>Already a subscriber? Log in.</p>", (None, None)),
    # Absent: unknown, not free.
    (jsonld(), "", (None, None)),
    ("", "<p>Subscribe to our newsletter for the week's best stories.</p>", (None, None)),
    ("", "<p>Read more about the harbour on our island page.</p>", (None, None)),
    (jsonld(isAccessibleForFree="perhaps"), "", (None, None)),
])
def test_paywall(head: str, after: str, expected: tuple) -> None:
    article, _ = extract(page(head, after=after))
    assert (article.is_paywalled, article.paywall_source) == expected


def test_a_subscribe_call_in_the_middle_of_the_story_is_no_truncation() -> None:
    paragraphs = BODY_WITH_TEASER_FIRST
    article, _ = extract(page(body=paragraphs))
    assert (article.is_paywalled, article.paywall_source) == (None, None)


BODY_WITH_TEASER_FIRST = TEASER + "".join(
    f"<p>{s}</p>" for s in (
        "The island ferry returns to its winter timetable on Monday after a long summer.",
        "Crossings leave the harbour every ninety minutes until the evening boat at nine.",
        "The operator says the old pier will be repaired before the storms of November.",
    ))

# ------------------------------------------------------------------------------ live blog


def ticker(entries: int, attrs: str = "class='liveblog-entries'", wrapper: str = "div") -> str:
    items = "".join(
        f"<div class='entry'><time datetime='2024-05-03T{9 + i:02d}:15:00Z'>{9 + i}:15</time>"
        f"<p>Update {i}: the ferry has left the pier and is crossing the bay slowly.</p></div>"
        for i in range(entries))
    return f"<{wrapper} {attrs}>{items}</{wrapper}>"


@pytest.mark.parametrize(("head", "after", "expected"), [
    ("<script type='application/ld+json'>" + json.dumps(
        {"@context": "https://schema.org", "@type": "LiveBlogPosting", "headline": "Storm",
         "coverageStartTime": "2024-05-03T08:00:00Z"}) + "</script>", "", (True, "jsonld")),
    ("", "<div itemscope itemtype='https://schema.org/LiveBlogPosting'><p>Storm</p></div>",
     (True, "microdata")),
    ("", ticker(4), (True, "layout")),
    ("", ticker(3, "id='live-ticker'"), (True, "layout")),
    # Entries opening on a clock, without <time>.
    ("", "<section class='live-updates'>" + "".join(
        f"<div><strong>{h}:05</strong> The ferry is still at the pier.</div>"
        for h in (9, 10, 11)) + "</section>", (True, "layout")),
    # Not enough timestamps for a ticker, or a ticker of other stories in an aside.
    ("", ticker(2), (False, "none")),
    ("", "<aside>" + ticker(5) + "</aside>", (False, "none")),
    ("", "<div class='related-articles'>" + ticker(5) + "</div>", (False, "none")),
    (jsonld(), "", (False, "none")),
])
def test_liveblog(head: str, after: str, expected: tuple) -> None:
    article, _ = extract(page(head, after=after))
    assert (article.is_liveblog, article.liveblog_source) == expected


def test_a_liveblog_is_kept_and_flagged() -> None:
    article, _ = extract(page(after=ticker(6)))
    assert article.text and article.is_liveblog is True
    assert article.url == URL
