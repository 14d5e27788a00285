"""Which statement on a page names its canonical URL (etl.extract.canonical_link)."""

from __future__ import annotations

import pytest
from support.stories import STORIES, story_page

from etl.extract.canonical_link import page_canonical
from etl.extract.document import extract_html
from etl.records import Article

PAGE = "https://news.example.org/2026/11/ferry?ref=home"


@pytest.mark.parametrize(("head", "expected"), [
    ("<link rel='canonical' href='https://news.example.org/2026/11/ferry'>",
     "https://news.example.org/2026/11/ferry"),
    # Relative and protocol-relative links are resolved against the page URL.
    ("<link href='/2026/11/ferry' rel='canonical'>", "https://news.example.org/2026/11/ferry"),
    ("<link rel=canonical href=ferry>", "https://news.example.org/2026/11/ferry"),
    ("<LINK REL='Canonical' HREF='//news.example.org/a?x=1&amp;y=2'>",
     "https://news.example.org/a?x=1&y=2"),
    # og:url only when there is no canonical link; the link wins wherever it stands.
    ("<meta property='og:url' content='https://news.example.org/og'>",
     "https://news.example.org/og"),
    ("<meta property='og:url' content='https://news.example.org/og'>"
     "<link rel='canonical' href='https://news.example.org/link'>",
     "https://news.example.org/link"),
    # Not statements about this page: <base>, a language alternate, a commented-out link.
    ("<base href='https://news.example.org/'>", None),
    ("<link rel='alternate' hreflang='x-default' href='https://news.example.org/en/'>", None),
    ("<!-- <link rel='canonical' href='https://news.example.org/'> -->", None),
    ("", None),
])
def test_page_canonical(head: str, expected: str | None) -> None:
    html = f"<html><head><title>t</title>{head}</head><body><p>text</p></body></html>"
    assert page_canonical(html, PAGE) == expected


def test_a_canonical_link_in_the_body_is_not_the_pages() -> None:
    html = ("<html><head><title>t</title></head><body>"
            "<link rel='canonical' href='https://news.example.org/'></body></html>")
    assert page_canonical(html, PAGE) is None


def test_extraction_ignores_base_href_as_a_canonical() -> None:
    """trafilatura reports <base href> as the page URL; it must not become the canonical."""
    article = Article(url=PAGE, source="s")
    html = story_page("Ferry", STORIES["ferry"], "<base href='https://news.example.org/'>")
    assert extract_html(article, html)
    assert article.canonical_url == "https://news.example.org/2026/11/ferry"  # own, cleaned
