"""The one walk over a page's elements (etl.extract.metadata.body_scan) gives the readers
what their own walks give: the same facts and extra facts with and without a shared scan,
named elements in document order on both sides of <body>, and a page without a body."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from etl.extract.metadata.body_scan import read_scan, scan_page
from etl.extract.metadata.extra_fields import read_extra_facts
from etl.extract.metadata.page import gather_facts, read_facts
from etl.extract.metadata.page_signals import classed

# Every reader of the scan has something to find here: a labelled and a date-classed
# dateline, a byline class in the head and in the body, a paywall block, a live ticker, an
# update line, a comment whose tail holds a label.
PAGE = """<html><head><title>A story</title><meta class="author-meta" content="x">
<noscript class="byline-head">Jo Head</noscript></head><body class="page">
<nav><span class="date">1 May 2024</span></nav>
<article><h1>A story</h1>
<div class="article-meta"><span class="byline">By Ana Writer</span>
<span class="post-date">3 May 2024</span></div>
<p><b>Published:</b> 3 May 2024, 09:00</p><!-- note -->Published 4 May 2024
<p>Updated: 5 May 2024</p>
<div class="live-ticker"><p>10:00 one</p><p>11:00 two</p></div>
<section class="paywall-box"><p>Subscribe to read on.</p></section>
<p>The text of the story, long enough to be a paragraph of its own.</p>
</article></body></html>"""


def page(source: str = PAGE):
    return lxml_html.document_fromstring(source)


@pytest.mark.parametrize("source", [
    PAGE,
    "<html><body><p>no names at all</p></body></html>",
    "<div class='author'>Ana Writer</div><p class='date'>3 May 2024</p>",
])
def test_readers_give_the_same_facts_with_a_shared_scan_and_with_their_own(source) -> None:
    tree = page(source)
    scan = scan_page(tree)
    facts_own, facts_shared = read_facts(tree), read_facts(tree, scan)
    assert facts_shared == facts_own
    assert read_extra_facts(tree, facts_shared, scan) == read_extra_facts(tree, facts_own)


def test_the_page_above_gives_each_reader_something() -> None:
    tree = page()
    facts = gather_facts(tree, scan_page(tree))
    assert facts.bylines == ["Jo Head", "By Ana Writer"]  # the head's first: document order
    assert any("3 May 2024" in line for line, _ in facts.datelines)
    extra = read_extra_facts(tree, facts, scan_page(tree))
    assert extra is not None and extra.update_lines == ["5 May 2024"]


def test_named_elements_are_in_document_order_around_the_body() -> None:
    scan = scan_page(page())
    names = [names for _, names in scan.named_in_page()]
    assert names[0] == "author-meta " and names[1] == "byline-head "
    assert names[2] == "page "  # the body itself is named
    assert names.index("date ") < names.index("post-date ") < names.index("paywall-box ")


def test_a_comment_is_never_a_named_element_or_a_candidate() -> None:
    scan = scan_page(page())
    assert all(isinstance(el.tag, str) for el, _ in scan.named)
    assert all(isinstance(el.tag, str) for el in scan.dateline_candidates)


def test_a_label_in_a_comments_tail_makes_its_parent_a_candidate() -> None:
    scan = scan_page(page())
    assert any(el.tag == "article" for el in scan.dateline_candidates)


def test_without_a_body_every_named_element_counts_and_there_are_no_datelines() -> None:
    tree = lxml_html.fromstring("<div class='live'><p id='paywall'>x</p></div>")
    scan = scan_page(tree)
    assert not scan.has_body and not scan.dateline_candidates
    assert [el.tag for el in classed(tree, ("live", "paywall"), scan)] == ["div", "p"]
    assert [el.tag for el in classed(tree, ("live", "paywall"))] == ["div", "p"]


def test_a_tree_that_cannot_be_walked_gives_no_scan_and_the_readers_cope() -> None:
    assert read_scan(object()) is None
    assert read_facts(object(), None) is None


def test_a_named_element_after_the_body_comes_last() -> None:
    tree = page("<html><body><p class='byline'>In body</p></body></html>")
    after = lxml_html.Element("div", {"class": "author-box"})
    after.text = "After body"
    tree.append(after)  # parsers put trailing markup inside <body>; a built tree need not
    scan = scan_page(tree)
    assert [names for _, names in scan.named_after_body] == ["author-box "]
    assert gather_facts(tree, scan).bylines == ["In body", "After body"]
    assert gather_facts(tree).bylines == ["In body", "After body"]


NESTED = """<html><body>Updated 1 May<div><p>x<b>Updated 2 May</b>Updated 3 May</p>
Updated 4 May<!-- c -->Updated 5 May<script>var updated = 6;</script>Updated 7 May
<style>.updated {}</style></div>Updated 8 May<p>""" + "Updated " + "x" * 120 + """</p>
</body></html>"""


def test_update_texts_come_in_document_order_as_the_text_nodes_do() -> None:
    from etl.extract.metadata.extra_fields import _update_texts

    tree = page(NESTED)
    from_walk = [(text.strip(), el.tag) for text, el in scan_page(tree).update_texts]
    from_xpath = [(text.strip(), el.tag) for text, el in _update_texts(tree)]
    assert from_walk == from_xpath
    assert [text for text, _ in from_walk] == [f"Updated {day} May" for day in range(1, 9)
                                               if day != 6]  # code is not text; long is out
