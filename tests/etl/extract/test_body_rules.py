"""The text rules (etl.extract.metadata.body): a body line that only repeats the page's
headline is dropped, under its rule only, and never at the cost of the whole body."""

from __future__ import annotations

from datetime import UTC, datetime

from support.stories import STORIES

from etl.extract.document import extract_html, read_html
from etl.extract.metadata import rules as registry
from etl.extract.metadata.body import refine_body
from etl.extract.metadata.page import PageFacts, parse_html, read_facts
from etl.records import Article

URL = "https://news.example.org/valley/night-buses"
FETCHED = datetime(2024, 9, 2, 8, 0, tzinfo=UTC)
HEADLINE = "Night buses return to the valley line"
RULE = frozenset({"text.drop_headline"})
PARAGRAPHS = [
    "The regional transport board restored the late services on Friday, eight months after "
    "a shortage of drivers had ended every departure after ten in the evening.",
    "Shift workers at the hospital and the two bakeries on the ring road said the cuts had "
    "left them walking home along an unlit road or paying for a taxi each night.",
    "The board said it had trained fourteen new drivers over the summer and would publish "
    "a winter timetable with the same late departures at the end of the month.",
]


def _facts(*h1: str) -> PageFacts:
    return PageFacts(h1=list(h1))


def test_a_line_repeating_the_headline_is_dropped_whatever_its_case_and_punctuation():
    text = "\n".join(["NIGHT BUSES RETURN TO THE VALLEY LINE!", *PARAGRAPHS])
    assert refine_body(text, _facts(HEADLINE), RULE) == "\n".join(PARAGRAPHS)


def test_every_line_stating_only_a_headline_goes_the_rest_stays_in_order():
    text = "\n".join([HEADLINE, PARAGRAPHS[0], "Timetable", HEADLINE, *PARAGRAPHS[1:]])
    assert refine_body(text, _facts("Timetable", HEADLINE), RULE) == "\n".join(PARAGRAPHS)


def test_a_sentence_that_contains_the_headline_is_not_the_headline():
    line = f"{HEADLINE}, the board announced on Friday morning."
    text = "\n".join([line, *PARAGRAPHS])
    assert refine_body(text, _facts(HEADLINE), RULE) == text


def test_only_under_its_rule_and_only_with_the_pages_facts():
    text = "\n".join([HEADLINE, *PARAGRAPHS])
    assert refine_body(text, _facts(HEADLINE), frozenset()) == text
    assert refine_body(text, None, RULE) == text
    assert refine_body(text, _facts(), RULE) == text
    assert refine_body(None, _facts(HEADLINE), RULE) is None


def test_a_body_that_is_only_the_headline_is_kept():
    assert refine_body(f"{HEADLINE}\n\n", _facts(HEADLINE), RULE) == f"{HEADLINE}\n\n"


def test_headings_beyond_the_first_twelve_are_other_stories():
    teasers = [f"Other story number {i}" for i in range(12)]
    text = "\n".join([*PARAGRAPHS, "Last line of the story"])
    assert refine_body(text, _facts(*teasers, "Last line of the story"), RULE) == text


def test_the_rule_is_registered_as_a_text_rule_and_on_in_production():
    assert registry.RULES["text.drop_headline"].field == "text"
    assert registry.rules_of("text") == ["text.drop_headline"]
    assert "text.drop_headline" in registry.DEFAULT_RULES


# A page whose template repeats the headline inside the article container: trafilatura
# keeps that <h1> as the first line of the text.
PAGE = ("<html><head><meta charset='utf-8'><title>Night buses | Valley Courier</title></head>"
        "<body><nav><a href='/'>Home</a> <a href='/valley'>Valley</a></nav><article>"
        f"<h1>{HEADLINE}</h1>"
        + "".join(f"<p>{p}</p>" for p in PARAGRAPHS) + "</article></body></html>")


def test_read_html_drops_the_repeated_headline_and_keeps_the_text_before_the_rules():
    read = read_html(PAGE, URL, FETCHED)
    assert read is not None
    data, meta = read
    assert data["extracted_text"].splitlines()[0] == HEADLINE  # what trafilatura gives
    assert data["text"] == refine_body(data["extracted_text"],
                                       read_facts(parse_html(PAGE)))
    assert HEADLINE not in data["text"] and data["text"].startswith(PARAGRAPHS[0][:40])
    assert meta.title == HEADLINE  # the headline is stored, as the title


def test_the_extract_stage_stores_the_body_without_the_headline():
    article = Article(url=URL, source="s", raw=PAGE.encode(), fetched_at=FETCHED)
    assert extract_html(article, PAGE)
    assert article.title == HEADLINE
    assert article.text is not None and not article.text.startswith(HEADLINE)
    assert all(p in article.text for p in PARAGRAPHS)
    # the stored word count is the body's own
    assert article.word_count == sum(len(p.split()) for p in PARAGRAPHS)


def test_the_story_fixture_without_a_repeated_headline_is_left_alone():
    text = "\n".join(STORIES["ferry"])
    assert refine_body(text, _facts(HEADLINE), RULE) == text
