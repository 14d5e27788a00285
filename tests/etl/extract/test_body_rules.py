"""The text rules (etl.extract.metadata.body): a body line that only repeats the page's
headline, and a short picture-credit or copyright line, are dropped, each under its rule
only, and never at the cost of the whole body."""

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


def test_the_rules_are_registered_as_text_rules_and_on_in_production():
    assert registry.rules_of("text") == ["text.drop_headline", "text.drop_credit"]
    assert all(registry.RULES[r].field == "text" for r in registry.rules_of("text"))
    assert set(registry.rules_of("text")) <= registry.DEFAULT_RULES


CREDIT = frozenset({"text.drop_credit"})
CREDITS = [
    "Photo: Harbour Board / Lena Quist",
    "Fotos: Vereinsarchiv, Jonas Feld",
    "(Bild: Mara Stein)",
    "Image credit: valley-transport.example",
    "Crédit photo : M. Lorrain / Agence Vallée",
    "Copyright: Valley Courier 2024",
    "© Valley Courier",
    "The new depot at dawn. © Agency / Ruth Ames",
]


def test_credit_and_copyright_lines_are_dropped_under_their_rule():
    text = "\n".join([PARAGRAPHS[0], *CREDITS, *PARAGRAPHS[1:]])
    assert refine_body(text, None, CREDIT) == "\n".join(PARAGRAPHS)
    assert refine_body(text, None, frozenset()) == text


def test_sentences_that_mention_photos_or_copyright_stay():
    kept = [
        # a label word, but no colon after it: a sentence
        "Photo exhibitions at the depot will open to the public in the spring.",
        # a colon, but a sentence of more than 12 words
        "Images: the board published forty photographs of the old depot, the new buses and "
        "the drivers who trained over the summer.",
        # © in a long paragraph (more than 25 words) is quoted text, not a credit line
        "The board's brochure, marked © 2024 on every page, promises late departures every "
        "night of the week and a bus at least every forty minutes until one in the morning.",
        # a list item (c) is no copyright sign
        "(c) the late services run on public holidays too.",
    ]
    text = "\n".join(kept)
    assert refine_body(text, None, CREDIT) == text


def test_a_body_of_credits_only_is_kept():
    text = "\n".join(CREDITS[:2])
    assert refine_body(text, _facts(), CREDIT) == text


def test_both_rules_together():
    text = "\n".join([HEADLINE, CREDITS[0], *PARAGRAPHS])
    assert refine_body(text, _facts(HEADLINE), RULE | CREDIT) == "\n".join(PARAGRAPHS)
    assert refine_body(text, _facts(HEADLINE), RULE) == "\n".join([CREDITS[0], *PARAGRAPHS])


# A page whose template repeats the headline inside the article container: trafilatura
# keeps that <h1> as the first line of the text.
PAGE = ("<html><head><meta charset='utf-8'><title>Night buses | Valley Courier</title></head>"
        "<body><nav><a href='/'>Home</a> <a href='/valley'>Valley</a></nav><article>"
        f"<h1>{HEADLINE}</h1>"
        + "".join(f"<p>{p}</p>" for p in PARAGRAPHS[:2])
        + "<p>Photo: Harbour Board / Lena Quist</p>"
        + f"<p>{PARAGRAPHS[2]}</p></article></body></html>")


def test_read_html_drops_the_repeated_headline_and_keeps_the_text_before_the_rules():
    read = read_html(PAGE, URL, FETCHED)
    assert read is not None
    data, meta = read
    assert data["extracted_text"].splitlines()[0] == HEADLINE  # what trafilatura gives
    assert data["text"] == refine_body(data["extracted_text"],
                                       read_facts(parse_html(PAGE)))
    assert "Photo: Harbour Board" in data["extracted_text"]
    assert HEADLINE not in data["text"] and data["text"].startswith(PARAGRAPHS[0][:40])
    assert "Photo: Harbour Board" not in data["text"]
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
