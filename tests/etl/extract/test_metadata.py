"""refine_metadata: one small fixture per heuristic, plus robustness on odd input."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from etl.extract.metadata.authors import clean_author, split_authors
from etl.extract.metadata.dates import parse_date
from etl.extract.metadata.page import parse_html, read_facts
from etl.extract.metadata.published import date_in_title
from etl.extract.metadata.refine import RefinedMetadata, refine_metadata
from etl.extract.metadata.rules import ALL_RULES, DEFAULT_RULES
from etl.extract.metadata.text import repair_mojibake
from etl.extract.metadata.titles import (
    drop_conflicting_kicker,
    drop_unconfirmed_tail,
    strip_site_affixes,
)
from etl.extract.settings import TRAFILATURA_OPTIONS

FETCHED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def page(head: str = "", body: str = "", jsonld: dict | list | None = None) -> str:
    script = ""
    if jsonld is not None:
        script = f'<script type="application/ld+json">{json.dumps(jsonld)}</script>'
    return f"<html><head>{head}{script}</head><body>{body}</body></html>"


def facts_of(html: str):
    return read_facts(parse_html(html))


def refine(html: str, url: str | None = "https://news.example.com/a/1", **extracted):
    """Every rule on: these tests show what each rule does (which are on in production is
    decided by benchmarks/metadata.py; see etl/extract/metadata/rules.py)."""
    return refine_metadata(facts_of(html), url, extracted, FETCHED, ALL_RULES)


# --------------------------------------------------------------------------- title


def test_strip_site_suffix_named_by_og_site_name():
    html = page('<meta property="og:site_name" content="Börsen-Zeitung">'
                "<title>Dax fällt | Börsen-Zeitung</title>")
    meta = refine(html)
    assert (meta.title, meta.title_source) == ("Dax fällt", "title")


def test_strip_site_suffix_from_host_name_and_trailing_date():
    assert strip_site_affixes("Post-Vac-Syndrom – EXN – 13.06.2023", {"exn", "exncom"}) == (
        "Post-Vac-Syndrom"
    )
    assert strip_site_affixes("Akkus gebaut? - Harbourpost.de",
                              {"harbourpostde", "harbourpost"}) == "Akkus gebaut?"


def test_strip_site_name_with_generic_word():
    assert strip_site_affixes("Ceasefire talks | EXN News", {"exn", "exnca"}) == "Ceasefire talks"


def test_strip_site_prefix_and_keep_inner_dashes():
    names = {"tageblatt"}
    assert strip_site_affixes("TAGEBLATT | Wahl - und was nun", names) == "Wahl - und was nun"
    assert strip_site_affixes("Eins - zwei - drei", names) == "Eins - zwei - drei"


def test_og_title_is_preferred_over_h1_and_title():
    html = page('<meta property="og:title" content="The headline">'
                "<title>Another title | Example</title>",
                "<h1>Kicker The headline</h1>")
    assert refine(html).title == "The headline"
    assert refine(html).title_source == "og"


def test_jsonld_headline_when_no_og_and_entities_unescaped():
    headline = "Fight &#8216;illogical&#8217; tariffs"
    html = page(jsonld={"@type": "NewsArticle", "headline": headline})
    meta = refine(html)
    assert (meta.title, meta.title_source) == ("Fight ‘illogical’ tariffs", "jsonld")


def test_drop_unconfirmed_tail_only_when_other_sources_omit_it():
    assert drop_unconfirmed_tail("Russia hits Kyiv - National", ["Russia hits Kyiv"]) == (
        "Russia hits Kyiv"
    )
    assert drop_unconfirmed_tail("Russia hits Kyiv - National", ["Other"]) == (
        "Russia hits Kyiv - National"
    )


def test_drop_conflicting_kicker_needs_disjoint_kickers():
    core = "«Die Zurückhaltung hat viel mit den USA zu tun»"
    assert drop_conflicting_kicker(f"Angriff auf Israel: {core}", [f"Eskalation - {core}"]) == core
    # "Premier League Rückschlag" contains "Rückschlag": not a conflict, keep the og title.
    title = "Rückschlag im Titelkampf - Liverpool verliert"
    assert drop_conflicting_kicker(title, [f"Premier League {title}"]) == title


def test_repair_mojibake():
    assert repair_mojibake("jetzt fÃ¼r nur 5,99 Euro") == "jetzt für nur 5,99 Euro"
    assert repair_mojibake("für") == "für"


def test_title_falls_back_to_h1_and_removes_soft_hyphens():
    meta = refine(page(body="<h1>Verfassungs\u00adbeschwerde  eingelegt</h1>"))
    assert (meta.title, meta.title_source) == ("Verfassungsbeschwerde eingelegt", "h1")


# --------------------------------------------------------------------------- date


def test_jsonld_date_published_keeps_offset():
    html = page(jsonld={"@context": "https://schema.org", "@graph": [
        {"@type": "WebSite", "name": "Example"},
        {"@type": "NewsArticle", "datePublished": "2024-04-30T16:38:37+02:00",
         "dateModified": "2024-04-30T18:00:00+02:00"},
    ]})
    meta = refine(html)
    assert meta.date_source == "jsonld"
    assert meta.published_at == datetime(2024, 4, 30, 16, 38, 37,
                                         tzinfo=timezone(timedelta(hours=2)))


def test_article_published_time_naive_is_utc():
    html = page('<meta property="article:published_time" content="2024-04-20T14:15:30.813">')
    meta = refine(html)
    assert meta.date_source == "og"
    assert meta.published_at == datetime(2024, 4, 20, 14, 15, 30, tzinfo=UTC)


def test_time_element_inside_article():
    html = page(body='<article><time datetime="2024-03-02T08:00:00Z">2. März</time></article>')
    meta = refine(html)
    assert (meta.published_at.date().isoformat(), meta.date_source) == ("2024-03-02", "time")


def test_date_later_than_fetch_is_rejected():
    html = page('<meta property="article:published_time" content="2030-01-01T00:00:00Z">')
    meta = refine(html)
    assert (meta.published_at, meta.date_source) == (None, None)
    assert meta.date_rejections == ["date_in_future"]


def test_date_stated_in_title():
    assert date_in_title("Ziele, Chancen, Risiken | EXN | 28.04.2023") == datetime(
        2023, 4, 28, tzinfo=UTC)
    assert date_in_title("Chancen | 04/05/2023") is None  # ambiguous month/day
    meta = refine(page("<title>Ziele | EXN | 28.04.2023</title>"))
    assert (meta.published_at.date().isoformat(), meta.date_source) == ("2023-04-28", "title")


def test_trafilatura_date_is_taken_only_under_its_rule():
    # htmldate's value may come from a copyright line or free text: not a statement. It is
    # a last resort under the rule date.trafilatura only (tests/.../test_metadata_rules.py).
    html = page(body="<p>Some text.</p><footer>© 2023 Example Media</footer>")
    rules = DEFAULT_RULES - {"date.trafilatura"}
    for guessed in ("2023-01-01", "2023-06-05"):
        meta = refine_metadata(facts_of(html), "https://news.example.com/a/1", {"date": guessed},
                               FETCHED, rules)
        assert (meta.published_at, meta.date_source, meta.date_rejections) == (None, None, [])


def test_no_date_is_invented():
    assert refine(page(body="<p>No date anywhere.</p>")).published_at is None


def test_parse_date_variants():
    assert parse_date("2024-01-07T01:20:00Z") == datetime(2024, 1, 7, 1, 20, tzinfo=UTC)
    assert parse_date("2024-01-07T01:20:00+0530").utcoffset() == timedelta(hours=5, minutes=30)
    assert parse_date("yesterday") is None
    assert parse_date("2024-02-30") is None


# --------------------------------------------------------------------------- author


def test_jsonld_authors_joined_and_split_on_and():
    html = page(jsonld={"@type": "NewsArticle", "author": [
        {"@type": "Person", "name": "Mara Quell and Ilse Brandt"},
        {"@type": "Person", "name": "By Jane Roe"},
    ]})
    meta = refine(html)
    assert meta.author == "Mara Quell; Ilse Brandt; Jane Roe"
    assert meta.author_source == "jsonld"


def test_site_name_author_yields_to_byline():
    html = page('<meta property="og:site_name" content="Tin Cảng">',
                "<article><p>Long article text here.</p>"
                '<p style="text-align:right"><strong>Trần Minh Thư</strong></p></article>',
                jsonld={"@type": "NewsArticle", "author": {"@type": "Organization",
                                                           "name": "Tin Cảng"}})
    meta = refine(html, url="https://tincang.example/x")
    assert (meta.author, meta.author_source) == ("Trần Minh Thư", "byline")


def test_site_name_author_kept_when_nothing_else():
    html = page('<meta property="og:site_name" content="EXN News">',
                jsonld={"@type": "NewsArticle", "author": {"@type": "Organization",
                                                           "name": "EXN News"}})
    assert refine(html, url="https://www.exn.example/news/1").author == "EXN News"


def test_labeled_author_field():
    html = page(body="<ul><li><strong>Datum</strong> 28.04.2023</li>"
                     "<li><strong>Autorin/Autor</strong> Tomas Lindqvist</li></ul>")
    meta = refine(html, author="Deutsche Welle")
    assert (meta.author, meta.author_source) == ("Tomas Lindqvist", "byline")


def test_author_page_link():
    html = page('<meta name="author" content="EXR">',
                '<p>von <a href="/autoren/name/jan-weber">Dr. Jan Weber</a></p>')
    meta = refine(html, url="https://www.exr.example/recht/x")
    assert (meta.author, meta.author_source) == ("Dr. Jan Weber", "byline")


def test_meta_author_handles_urls_and_photo_credits_are_ignored():
    html = page('<meta name="twitter:creator" content="@example">'
                '<meta property="article:author" content="https://facebook.com/example">',
                '<span class="credit">Foto: Andrew Harnik / AP</span>')
    assert refine(html).author is None


def test_clean_author_and_split():
    assert clean_author("By Jane Doe, Staff Writer") == "Jane Doe"
    assert clean_author("Greta Hollenstein (gho)") == "Greta Hollenstein"
    assert clean_author("lena-fischer") == "Lena Fischer"
    assert split_authors("Von Jana Brückner und Max Muster") == ["Jana Brückner", "Max Muster"]


# --------------------------------------------------------------------------- robustness


@pytest.mark.parametrize("html", [
    "", "   ", "plain text, no markup", "<html>", "<?xml version='1.0' encoding='utf-8'?><a/>",
    page(jsonld=None) + '<script type="application/ld+json">{broken</script>',
    page(jsonld=[1, "x", None, {"@type": ["NewsArticle"], "author": 5, "headline": 7}]),
    "\x00\x01<h1>x</h1>",
])
def test_never_raises(html):
    meta = refine_metadata(facts_of(html), None,
                           {"title": "T", "date": "2024-01-02", "author": "A"})
    assert isinstance(meta, RefinedMetadata)


def test_falls_back_to_trafilatura_values():
    meta = refine_metadata(facts_of(""), None,
                           {"title": "T", "date": "2024-01-02", "author": "A B"})
    assert (meta.title, meta.title_source) == ("T", "trafilatura")
    assert (meta.published_at, meta.date_source) == (None, None)  # a guess, not a statement
    assert (meta.author, meta.author_source) == ("A B", "trafilatura")


def test_empty_extracted_and_no_evidence():
    meta = refine_metadata(facts_of("<html><body><p>x</p></body></html>"), None, {})
    assert meta == RefinedMetadata(None, "none", None, None, None, "none")


def test_trafilatura_options_are_plain_kwargs():
    from trafilatura import bare_extraction

    html = page("<title>T</title>", "<article><p>" + "Word " * 60 + "</p></article>")
    doc = bare_extraction(html, with_metadata=True, **TRAFILATURA_OPTIONS)
    assert doc is not None
    assert TRAFILATURA_OPTIONS.get("deduplicate") is False


def test_site_name_from_canonical_url_for_local_files():
    html = page('<link rel="canonical" href="https://www.exr.example/recht/x">'
                '<meta name="author" content="EXR">',
                '<p>von <a href="/autoren/name/jan-weber">Dr. Jan Weber</a></p>')
    meta = refine(html, url="file:///tmp/pages/1.html")
    assert meta.author == "Dr. Jan Weber"
