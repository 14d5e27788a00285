"""One parse per page (etl.extract.document.read_html): trafilatura and the metadata rules share it.

The page is parsed as trafilatura parses it, so trafilatura's output is exactly what it gives
on the string; the rules read the whole document from that tree, whatever shape lxml hands
back (a page that opens with stray markup is taken for a fragment: one element, or the
<body> renamed to a <div>).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from support.stories import STORIES

from etl.extract import ExtractStage
from etl.extract.document import read_html
from etl.extract.metadata.page import parse_html, read_facts
from etl.extract.metadata.refine import refine_metadata
from etl.extract.settings import TRAFILATURA_OPTIONS
from etl.records import Article, Dropped

URL = "https://news.example.org/harbour/ferry-timetable"
FETCHED = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
HEADLINE = "Ferry back on its winter timetable"
STORY = "".join(f"<p>{paragraph}</p>" for paragraph in STORIES["ferry"])
ARTICLE = f"<h1>{HEADLINE}</h1><p class='date'>Published 3 May 2024</p>{STORY}"
WITH_CONTROLS = ARTICLE.replace("Monday", "Mon\x0bday") + "\x01"

PAGES = {
    "whole document": f"<html><head><meta charset='utf-8'></head><body><nav><a href='/'>"
                      f"Home</a></nav><article>{ARTICLE}</article></body></html>",
    "doctype on the first line": "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional"
                                 "//EN\" \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional"
                                 f".dtd\">\n<html><body><article>{ARTICLE}</article></body></html>",
    # Control characters: trafilatura's parse drops them; a plain lxml parse of this page
    # gives trafilatura no text at all.
    "control characters": f"<html><body><article>{WITH_CONTROLS}</article></body></html>",
    # Server warnings before the markup, no <head>: lxml renames the <body> to a <div>.
    "fragment, body renamed": "<br />\n<b>Warning</b>: undefined constant in <b>/srv/www/"
                              "config.php</b> on line <b>9</b><br />\n"
                              f"<div class='page'>{ARTICLE}</div>",
    # A single element and nothing else: lxml hands back that element, not the document.
    "fragment, one element": f"<article>{ARTICLE}</article>",
}


def trafilatura_fields(data: dict[str, Any]) -> dict[str, Any]:
    """Everything but the lxml result trees, which compare by identity, and the extract
    stage's own keys (text_source: trafilatura's text or a structured body; the text as the
    text rules leave it, whose input, `extracted_text`, is compared as trafilatura's text)."""
    fields = {k: v for k, v in data.items()
              if k not in ("body", "commentsbody", "text_source", "extracted_text")}
    if "extracted_text" in data:
        fields["text"] = data["extracted_text"]
    return fields


@pytest.mark.parametrize("name", PAGES)
def test_trafilatura_gives_what_it_gives_on_the_string(name: str) -> None:
    from trafilatura import bare_extraction

    html = PAGES[name]
    expected = bare_extraction(html, url=URL, with_metadata=True, **TRAFILATURA_OPTIONS)
    assert expected is not None and "island ferry" in expected.text
    read = read_html(html, URL, FETCHED)
    assert read is not None
    assert trafilatura_fields(read[0]) == trafilatura_fields(expected.as_dict())


@pytest.mark.parametrize("name", PAGES)
def test_the_rules_read_the_whole_page_whatever_shape_lxml_hands_back(name: str) -> None:
    html = PAGES[name]
    read = read_html(html, URL, FETCHED)
    assert read is not None
    data, meta = read
    # the page's only title candidate is its <h1> (production chooses by agreement:
    # etl/extract/metadata/title_chooser.py)
    assert (meta.title, meta.title_source) == (HEADLINE, "h1")
    assert (meta.published_at, meta.date_source) == (datetime(2024, 5, 3, tzinfo=UTC),
                                                      "dateline")
    # The same choices as on a parse of the page of their own.
    assert meta == refine_metadata(read_facts(parse_html(html)), URL, data, FETCHED)


def test_every_shape_of_page_loads_dated_through_the_stage() -> None:
    drops: list[Dropped] = []
    stage = ExtractStage(drops.append, {})
    items = [Article(url=f"{URL}-{i}", source="s", raw=html.encode(), fetched_at=FETCHED)
             for i, html in enumerate(PAGES.values())]
    out = list(stage(items))
    assert drops == []
    assert [(a.title, a.date_source) for a in out] == [(HEADLINE, "dateline")] * len(PAGES)
    assert stage.stats.received == len(PAGES) == stage.stats.forwarded


def test_not_html_is_no_article() -> None:
    assert read_html("", URL, FETCHED) is None
    assert read_html("   ", URL, FETCHED) is None
