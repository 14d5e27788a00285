"""The shortcuts that make the page scans cheaper give what the plain scans give: the split
date-role pattern, the update-label pre-test on the body's text, classed() skipping
unnamed elements, the lead-dateline container found by a walk."""

from __future__ import annotations

import pytest
from lxml import html as lxml_html

from etl.extract.metadata.body_scan import DATE_ROLE_BOUNDED, DATE_ROLE_WORDS
from etl.extract.metadata.datelines import datelines
from etl.extract.metadata.extra_fields import _may_hold_update_label, _update_lines
from etl.extract.metadata.page_signals import classed
from etl.extract.metadata.placement import DATE_ROLE


def tree(body: str, head: str = ""):
    return lxml_html.document_fromstring(
        f"<html><head>{head}</head><body>{body}</body></html>")


def test_the_split_date_role_pattern_rejoins_into_date_role() -> None:
    assert f"{DATE_ROLE_WORDS.pattern}|{DATE_ROLE_BOUNDED.pattern}" == DATE_ROLE.pattern


@pytest.mark.parametrize("names", [
    "post-date", "article-meta", "entry time", "time", "x_info", "data-box", "timeline",
    "information", "metadata", "sidebar", "", "  ", "pubdate", "zeit-angabe", "fechas",
])
def test_the_split_date_role_pattern_answers_as_date_role(names: str) -> None:
    split = bool(DATE_ROLE_WORDS.search(names) or DATE_ROLE_BOUNDED.search(names))
    assert split == bool(DATE_ROLE.search(names))


def test_an_update_line_is_found_behind_the_pre_test() -> None:
    page = tree("<p>The story.</p><p><span>Updated:</span> 3 May 2024, 10:00</p>")
    assert _may_hold_update_label(page)
    assert list(_update_lines(page)) == ["3 May 2024, 10:00"]


def test_the_pre_test_reads_decoded_text_not_markup() -> None:
    # The label written with character references is a label in the text.
    page = tree("<p>Aktualisiert am 3. Mai 2024</p>".replace("A", "&#65;"))
    assert _may_hold_update_label(page)
    assert list(_update_lines(page)) == ["3. Mai 2024"]


def test_a_label_only_in_the_head_or_an_attribute_skips_the_text_pass() -> None:
    page = tree("<p class='updated'>The story, 3 May 2024.</p>",
                head="<title>Updated 3 May 2024</title>")
    assert not _may_hold_update_label(page)
    assert list(_update_lines(page)) == []


def test_classed_skips_unnamed_elements_and_keeps_named_ones() -> None:
    page = tree("<div class=''><p id='live-ticker'>a</p></div><div>b</div>"
                "<section class='Paywall-Box'>c</section>")
    assert [el.tag for el in classed(page, ("live", "paywall"))] == ["p", "section"]


@pytest.mark.parametrize("wrapper", ["main", "article"])
def test_the_lead_dateline_comes_from_the_first_story_container(wrapper: str) -> None:
    page = tree(f"<nav><p>3 May 2024</p></nav><{wrapper}><p>BERLIN, 4 May 2024 - The vote."
                f"</p></{wrapper}>")
    assert ("4 May 2024 - The vote.", True) in list(datelines(page))
