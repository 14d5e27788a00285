"""The title chosen by agreement (etl/extract/metadata/title_chooser.py, rule `title.agree`):
one original page per pattern."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from etl.extract.metadata.page import parse_html, read_facts
from etl.extract.metadata.refine import refine_metadata
from etl.extract.metadata.rules import ALL_RULES
from etl.extract.metadata.title_chooser import choose_by_agreement, title_words
from etl.extract.metadata.titles import site_names

URL = "https://www.harbourgazette.example/2024/04/02/story"


def _page(og: str | None = None, twitter: str | None = None, title: str | None = None,
          h1: tuple[str, ...] = (), headline: str | None = None, site: str | None = None,
          body: str = "") -> str:
    head = ""
    if og is not None:
        head += f'<meta property="og:title" content="{og}">'
    if twitter is not None:
        head += f'<meta name="twitter:title" content="{twitter}">'
    if site is not None:
        head += f'<meta property="og:site_name" content="{site}">'
    if title is not None:
        head += f"<title>{title}</title>"
    if headline is not None:
        head += ('<script type="application/ld+json">'
                 + json.dumps({"@type": "NewsArticle", "headline": headline}) + "</script>")
    headings = "".join(f"<h1>{h}</h1>" for h in h1)
    return f"<html><head>{head}</head><body>{headings}{body}</body></html>"


def choose(html: str, url: str = URL, **extracted) -> tuple[str | None, str]:
    facts = read_facts(parse_html(html))
    return choose_by_agreement(facts, extracted, site_names(facts, url, extracted))


def test_site_name_suffix_is_removed_from_every_candidate():
    html = _page(og="Ferry timetable changes in May | Harbour Gazette",
                 title="Ferry timetable changes in May | Harbour Gazette",
                 site="Harbour Gazette")
    assert choose(html) == ("Ferry timetable changes in May", "og")


def test_a_heading_that_repeats_the_last_title_segment_names_the_site():
    # A blog: <title>Post | Blog name</title> and the blog's name as its first <h1>.
    html = _page(title="Mending old nets by hand | Notes from the Quay",
                 h1=("Notes from the Quay",))
    assert choose(html, "https://quaynotes.example/p/42") == ("Mending old nets by hand", "title")


def test_the_heading_that_matches_a_meta_title_is_found_among_menu_headings():
    html = _page(og="Lighthouse keeper retires after forty years",
                 h1=("Menu", "Lighthouse keeper retires after forty years", "Most read"))
    assert choose(html)[0] == "Lighthouse keeper retires after forty years"


def test_a_kicker_that_one_place_adds_is_dropped_when_the_others_omit_it():
    html = _page(og="Storm season: Harbour wall to be raised by a metre",
                 twitter="Harbour wall to be raised by a metre",
                 h1=("Harbour wall to be raised by a metre",))
    assert choose(html) == ("Harbour wall to be raised by a metre", "meta")


def test_a_tail_that_meta_titles_add_is_dropped_when_the_heading_omits_it():
    html = _page(og="Smoked mackerel pâté - Recipe with photos",
                 title="Smoked mackerel pâté - Recipe with photos",
                 h1=("Smoked mackerel pâté",))
    assert choose(html) == ("Smoked mackerel pâté", "h1")
    # the visible heading is never cut short: plain words after it are a tail too
    assert choose(_page(og="Plum cake with crumble recipe", h1=("Plum cake with crumble",)))[0] == (
        "Plum cake with crumble")


def test_a_title_cut_short_is_not_taken_for_the_common_form():
    full = "Council approves new marina, ending a decade of debate"
    html = _page(og=full, twitter=full, h1=(full,), title="Council approves new marina")
    assert choose(html)[0] == full


def test_the_jsonld_headline_wins_when_the_page_states_one():
    html = _page(og="Marina plan approved", twitter="Marina plan approved",
                 h1=("Marina plan approved",), headline="Council approves new marina")
    assert choose(html) == ("Council approves new marina", "jsonld")


def test_agreement_decides_between_disagreeing_places_and_a_tie_goes_to_og():
    html = _page(og="Ferries resume", twitter="Ferry service back after strike",
                 h1=("Ferry service back after strike",),
                 title="Ferry service back after strike | Harbour Gazette")
    assert choose(html)[0] == "Ferry service back after strike"
    assert choose(_page(og="Ferries resume", h1=("Harbour at dawn",)))[0] == "Ferries resume"


def test_the_visible_heading_spells_the_title_unless_it_drops_characters():
    html = _page(og="Mayor: &quot;We will rebuild the pier&quot;",
                 h1=("Mayor: \u201cWe will rebuild the pier\u201d",))
    assert choose(html) == ("Mayor: \u201cWe will rebuild the pier\u201d", "h1")
    # a heading of two elements loses the kicker's separator: the meta spelling stays
    spans = _page(og="Pier: Repairs start on Monday",
                  body="<h1><span>Pier</span> <span>Repairs start on Monday</span></h1>")
    assert choose(spans) == ("Pier: Repairs start on Monday", "og")


def test_a_separator_left_at_the_end_is_dropped_but_a_leading_quote_dash_is_kept():
    # The CMS removed the site's name from og:title, not the dash before it.
    html = _page(og="Lifeboat crew rescues two kayakers -",
                 twitter="Lifeboat crew rescues two kayakers -")
    assert choose(html) == ("Lifeboat crew rescues two kayakers", "og")
    # A leading dash opens a quotation in some languages' headlines: it stays.
    assert choose(_page(og="- We will sail again next spring")) == (
        "- We will sail again next spring", "og")
    # A closing guillemet is no separator.
    assert choose(_page(og="Harbour master: «Not before May»")) == (
        "Harbour master: «Not before May»", "og")


def test_candidates_that_only_name_the_site_are_skipped():
    html = _page(og="Harbour Gazette", site="Harbour Gazette",
                 h1=("Tide tables for the summer",))
    assert choose(html) == ("Tide tables for the summer", "h1")


def test_trafilaturas_title_only_when_the_page_offers_no_candidate():
    assert choose(_page(), title="Its title") == ("Its title", "trafilatura")
    assert choose(_page()) == (None, "none")
    assert choose(_page(h1=("Net repairs",)), title="Its title") == ("Net repairs", "h1")


def test_comparison_ignores_case_punctuation_and_width():
    assert title_words("Ｆerry  — Times, UPDATED!") == ("ferry", "times", "updated")


def test_refine_metadata_uses_the_chooser_under_title_agree():
    html = _page(og="Ferries resume", twitter="Ferry service back after strike",
                 h1=("Ferry service back after strike",))
    facts = read_facts(parse_html(html))
    fetched = datetime(2024, 5, 1, tzinfo=UTC)
    on = refine_metadata(facts, URL, {}, fetched, ALL_RULES)
    off = refine_metadata(facts, URL, {}, fetched, ALL_RULES - {"title.agree"})
    assert (on.title, off.title) == ("Ferry service back after strike", "Ferries resume")
