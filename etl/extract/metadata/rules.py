"""The metadata rules by name: each can be switched off, so each can be proven on its own.

Every rule that `titles`, `published`, `authors` and `body` (the text) apply is named here
with its field.
`refine_metadata` takes a set of enabled names (`DEFAULT_RULES` in production); the
benchmark (benchmarks/metadata.py) turns rules off to choose, per fold of publishers, the set
that holds on publishers it did not see. `DEFAULT_RULES` is the set that survived that
selection in a majority of folds (see BENCHMARKS.md); the others stay here, off, so the
selection can be re-run. With every rule off, the title is trafilatura's and there is no
date or author (trafilatura's author is a rule of its own; its date is never taken: see
`published`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    field: str  # "title", "date" or "author"
    does: str


_RULES = (
    # title: candidate sources in priority order, then trims
    Rule("title.og", "title", "og:title is a candidate (first)"),
    Rule("title.jsonld", "title", "JSON-LD headline of the article is a candidate"),
    Rule("title.twitter", "title", "twitter:title is a candidate"),
    Rule("title.h1", "title", "the first <h1> is a candidate"),
    Rule("title.tag", "title", "<title> is a candidate"),
    Rule("title.strip_site", "title", "remove separator-delimited segments naming the site"),
    Rule("title.site_fuzzy", "title",
         "a segment near a site name (prefix/suffix, plus a generic word) names the site"),
    Rule("title.date_segment", "title", "a bare date segment is stripped like a site name"),
    Rule("title.skip_site_name", "title", "a candidate that is only the site name is skipped"),
    Rule("title.drop_tail", "title", "drop a short trailing segment other sources omit"),
    Rule("title.drop_kicker", "title", "drop a kicker that another source replaces"),
    Rule("title.mojibake", "title", "repair UTF-8 read as cp1252 in candidates"),
    # Last of the title rules, so selection weighs it first, against all the others on.
    Rule("title.agree", "title",
         "choose by agreement between all the page's candidates (title_chooser); the "
         "title rules above then do nothing"),
    # date: statements of publication in priority order
    Rule("date.jsonld", "date", "JSON-LD datePublished of the article"),
    Rule("date.og", "date", "article:published_time and vendor-prefixed variants"),
    Rule("date.itemprop", "date", "microdata itemprop=datePublished"),
    Rule("date.meta", "date", "other publication meta names (pubdate, dc.date, ...)"),
    Rule("date.jsonld_page", "date", "datePublished of the JSON-LD page object"),
    Rule("date.time_article", "date", "a <time> standing as the date inside the article"),
    Rule("date.time_first", "date", "the first such <time> outside <article>"),
    Rule("date.jsonld_created", "date", "JSON-LD dateCreated of the article"),
    Rule("date.script", "date", "one agreed datePublished in page script data"),
    Rule("date.title", "date", "a trailing day-first date in the title"),
    Rule("date.url", "date", "a full date in the URL path"),
    Rule("date.dateline", "date", "a short 'Published ...' or date-classed line"),
    Rule("date.trafilatura", "date",
         "trafilatura's date (htmldate on the markup only) when no statement was read"),
    # author: sources in priority order, then cleaning
    Rule("author.jsonld", "author", "JSON-LD author/creator of the article"),
    Rule("author.meta", "author", "standard author meta names"),
    Rule("author.meta_any", "author", "any other meta name containing 'author'"),
    Rule("author.rel", "author", "rel=author links and itemprop=author"),
    Rule("author.links", "author", "links to an author page (/author/name)"),
    Rule("author.labeled", "author", "a labelled field ('Author: ...')"),
    Rule("author.trafilatura", "author", "trafilatura's author"),
    Rule("author.byline_class", "author", "an element classed byline/author"),
    Rule("author.signature", "author", "a closing emphasised short-name paragraph"),
    Rule("author.site_fallback", "author", "the site's own name when nothing names a person"),
    Rule("author.slug", "author", "a URL slug where a name was expected becomes a name"),
    # text: lines of the extracted body that are not the article's (metadata/body.py)
    Rule("text.drop_headline", "text", "a body line stating only the page's <h1> is dropped"),
    Rule("text.drop_credit", "text", "a short picture-credit or copyright line is dropped"),
)

RULES: dict[str, Rule] = {rule.name: rule for rule in _RULES}
FIELDS = ("title", "date", "author", "text")
ALL_RULES: frozenset[str] = frozenset(RULES)

# Title, author and text: the rules kept in a majority (3 or more) of 5 folds by
# benchmarks/metadata.py on every labelled set (2026-12-01, BENCHMARKS.md); the others are
# off. Title: the chooser by agreement (`title.agree`, etl/extract/metadata/title_chooser.py)
# was kept in 5 of 5 folds against the priority rules the folds keep without it (the JSON-LD
# headline, then trafilatura's title, site name removed), which stay listed but do nothing
# while it is on.
_KEPT_IN_MAJORITY: frozenset[str] = frozenset({
    "title.agree", "title.jsonld", "title.strip_site", "title.site_fuzzy",
    "author.jsonld", "author.links", "author.labeled", "author.trafilatura",
    "author.byline_class", "author.site_fallback",
    # Text (2026-12-01): the repeated headline and credit lines go (metadata/body.py).
    "text.drop_headline", "text.drop_credit",
})
# Date: every statement rule, and not trafilatura's date. The folds kept og, itemprop,
# dateline and trafilatura's date ("date.trafilatura") only; adopting that changes the date
# contract (date_source values, the rejection reasons of refused statements, "trafilatura's
# date is never stored") that the pipeline, its tests and docs/validation.md rely on, so it
# waits for that decision. BENCHMARKS.md shows both.
_DATE_RULES: frozenset[str] = frozenset(
    rule.name for rule in _RULES if rule.field == "date" and rule.name != "date.trafilatura")
DEFAULT_RULES: frozenset[str] = _KEPT_IN_MAJORITY | _DATE_RULES


def rules_of(field: str) -> list[str]:
    """The names of `field`'s rules in registry order."""
    return [rule.name for rule in _RULES if rule.field == field]
