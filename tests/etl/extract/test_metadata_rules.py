"""The rule registry: every rule the modules apply is named there, and switching a rule off
changes what it decides (and nothing else)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from etl.extract.metadata import rules as registry
from etl.extract.metadata.page import parse_html, read_facts
from etl.extract.metadata.refine import refine_metadata

FETCHED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
URL = "https://news.example.com/2024/04/02/story"
PACKAGE = Path(registry.__file__).parent


def test_every_rule_the_modules_test_for_is_registered_and_every_registered_one_is_used():
    used: set[str] = set()
    for path in PACKAGE.glob("*.py"):
        if path.name != "rules.py":
            used |= set(re.findall(r"""["']((?:title|date|author|text)\.[a-z0-9_]+)["']""",
                                   path.read_text(encoding="utf-8")))
    assert used == set(registry.RULES)


def test_registry_partitions_the_rules_by_field():
    names = [n for field in registry.FIELDS for n in registry.rules_of(field)]
    assert sorted(names) == sorted(registry.RULES)
    assert registry.DEFAULT_RULES <= registry.ALL_RULES
    assert all(registry.RULES[n].field == n.split(".")[0] for n in registry.RULES)


def _refine(html: str, rules: frozenset[str], url: str = URL, **extracted):
    return refine_metadata(read_facts(parse_html(html)), url, extracted, FETCHED, rules)


def _page(head: str = "", body: str = "", jsonld: dict | None = None) -> str:
    script = (f'<script type="application/ld+json">{json.dumps(jsonld)}</script>'
              if jsonld else "")
    return f"<html><head>{head}{script}</head><body>{body}</body></html>"


ARTICLE = {"@type": "NewsArticle", "headline": "Ledger headline",
           "datePublished": "2024-04-03T08:00:00+02:00",
           "author": {"@type": "Person", "name": "Ines Roe"}}

# rule -> (page, field, value with every rule on, value with this rule off[, page URL])
CASES = {
    "title.og": (_page('<meta property="og:title" content="Open headline">', jsonld=ARTICLE),
                 "title", "Open headline", "Ledger headline"),
    "title.jsonld": (_page("<title>Tag headline</title>", jsonld=ARTICLE),
                     "title", "Ledger headline", "Tag headline"),
    "title.strip_site": (_page('<meta property="og:site_name" content="Example News">'
                               "<title>Quiet harbour | Example News</title>"),
                         "title", "Quiet harbour", "Quiet harbour | Example News"),
    "title.date_segment": (_page("<title>Quiet harbour - 02.04.2024</title>"),
                           "title", "Quiet harbour", "Quiet harbour - 02.04.2024"),
    # og:title is the odd one out: the fixed priority takes it, agreement does not
    "title.agree": (_page('<meta property="og:title" content="Harbour news">'
                          '<meta name="twitter:title" content="Quiet harbour reopens">'
                          "<title>Quiet harbour reopens | Example News</title>",
                          "<h1>Quiet harbour reopens</h1>"),
                    "title", "Quiet harbour reopens", "Harbour news"),
    "date.jsonld": (_page('<meta property="article:published_time" content="2024-04-01">',
                          jsonld=ARTICLE),
                    "published_at", datetime.fromisoformat("2024-04-03T08:00:00+02:00"),
                    datetime(2024, 4, 1, tzinfo=UTC)),
    "date.og": (_page('<meta property="article:published_time" content="2024-04-01">'),
                "published_at", datetime(2024, 4, 1, tzinfo=UTC), datetime(2024, 4, 2, tzinfo=UTC)),
    "date.url": (_page(), "published_at", datetime(2024, 4, 2, tzinfo=UTC), None),
    "date.dateline": (_page(body='<article><p class="date">Published 30 March 2024</p></article>'),
                      "published_at", datetime(2024, 3, 30, tzinfo=UTC), None,
                      "https://news.example.com/story"),
    "author.jsonld": (_page('<meta name="author" content="Meta Roe">', jsonld=ARTICLE),
                      "author", "Ines Roe", "Meta Roe"),
    "author.meta": (_page('<meta name="author" content="Meta Roe">'), "author", "Meta Roe", None),
    "author.labeled": (_page(body="<p><strong>Autor:</strong> Karl Poe</p>"),
                       "author", "Karl Poe", None),
    "author.site_fallback": (_page('<meta property="og:site_name" content="Example News">'
                                   '<meta name="author" content="Example News">'),
                             "author", "Example News", None),
}


def _every_rule_for(rule: str) -> frozenset[str]:
    """Every rule on; for the fixed-priority title rules, every rule but `title.agree`,
    which replaces them."""
    if rule.startswith("title.") and rule != "title.agree":
        return registry.ALL_RULES - {"title.agree"}
    return registry.ALL_RULES


@pytest.mark.parametrize("rule", sorted(CASES))
def test_switching_a_rule_off_changes_its_decision(rule: str):
    html, field, with_rule, without_rule, *url = CASES[rule]
    rules = _every_rule_for(rule)
    assert getattr(_refine(html, rules, *url), field) == with_rule
    assert getattr(_refine(html, rules - {rule}, *url), field) == without_rule


def test_under_title_agree_the_other_title_rules_do_nothing():
    html = CASES["title.agree"][0]
    legacy = {r for r in registry.rules_of("title") if r != "title.agree"}
    assert _refine(html, registry.ALL_RULES).title == _refine(
        html, registry.ALL_RULES - legacy).title == "Quiet harbour reopens"


def test_url_date_comes_before_a_dateline_and_both_can_be_off():
    html = _page(body='<article><p class="date">Published 30 March 2024</p></article>')
    assert _refine(html, registry.ALL_RULES).date_source == "url"
    meta = _refine(html, registry.ALL_RULES - {"date.url", "date.dateline"})
    assert meta.published_at is None and meta.date_source is None


def test_with_every_rule_off_the_title_is_trafilaturas_and_nothing_else_is_taken():
    html = _page('<meta property="og:title" content="Open headline">', jsonld=ARTICLE)
    meta = _refine(html, frozenset(), title="Its title", author="Its Author",
                   date="2024-04-01")
    assert (meta.title, meta.title_source) == ("Its title", "trafilatura")
    assert (meta.author, meta.published_at) == (None, None)
    only = _refine(html, frozenset({"author.trafilatura"}), author="Its Author")
    assert (only.author, only.author_source) == ("Its Author", "trafilatura")


def test_production_uses_the_default_rules():
    html = _page('<meta property="og:title" content="Open headline">', jsonld=ARTICLE)
    facts = read_facts(parse_html(html))
    assert refine_metadata(facts, URL, {}, FETCHED) == refine_metadata(
        facts, URL, {}, FETCHED, registry.DEFAULT_RULES)


def test_trafilatura_date_only_under_its_rule_and_only_when_nothing_is_stated():
    bare = _page()
    url = "https://news.example.com/story"
    on = _refine(bare, registry.ALL_RULES, url, date="2024-03-30")
    assert (on.published_at, on.date_source) == (datetime(2024, 3, 30, tzinfo=UTC), "trafilatura")
    off = _refine(bare, registry.ALL_RULES - {"date.trafilatura"}, url, date="2024-03-30")
    assert off.published_at is None
    stated = _refine(_page('<meta property="article:published_time" content="2024-04-01">'),
                     registry.ALL_RULES, url, date="2024-03-30")
    assert stated.date_source == "og"
    future = _refine(bare, registry.ALL_RULES, url, date="2024-06-30")  # after the fetch
    assert future.published_at is None
