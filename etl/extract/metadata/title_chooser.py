"""The title chosen by agreement between the candidates a page offers (rule `title.agree`).

A page states its headline in several places: the JSON-LD headline, og:title,
twitter:title, its <h1>s, microdata `headline` and <title>. Each is cleaned and the site's
name removed (`titles.strip_site_affixes`; a heading that repeats the last segment of
<title>, as in "Post | Blog name" with <h1>Blog name</h1>, names the site too), with a
separator left dangling at its end ("Headline -"). Then:

- The JSON-LD headline, when the page states one, is the title: it is the article's own
  structured statement of its headline, and where it disagreed with the other places'
  majority it was the right one more often, on both labelled benchmark sets.
- Otherwise each distinct candidate is backed by the places that state the same words
  (case, punctuation and quote style aside: `title_words`) or extend them with a tail or
  a kicker after a separator ("Headline - Tip with photo", "Kicker: Headline"), so the
  common form wins over the variants that add to it. A page's <h1>s count as one place:
  the <h1> that repeats a meta title is found among logo, menu and sidebar headings, and
  headings cannot outvote the meta titles alone. The best-backed candidate wins; a tie
  goes to the earlier place in `_PLACES`.
- The winner is written as the visible <h1> writes the same words, unless that drops
  characters: meta tags often flatten typographic quotes and dashes or lose a closing
  quote, while a heading built of separate elements may lose a kicker's separator.

trafilatura's title, itself read from these places, backs nothing and is taken only when the
page offers no candidate. Nothing is fitted to a publisher: benchmarks/metadata.py scores
the chooser as a whole out of fold, against the fixed-priority rules of `titles`.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from etl.extract.metadata.jsonld import jsonld_str
from etl.extract.metadata.page import PageFacts
from etl.extract.metadata.text import clean_text, name_key, repair_mojibake
from etl.extract.metadata.titles import split_segments, strip_site_affixes

# Places in order of precedence for ties, with the `title_source` each is recorded as.
_PLACES = ("jsonld", "og", "twitter", "h1", "itemprop", "title")
_SOURCE = {"og": "og", "jsonld": "jsonld", "twitter": "meta", "h1": "h1",
           "itemprop": "meta", "title": "title"}
_MAX_H1 = 12  # headings beyond these are page furniture (lists of other stories)


@dataclass(frozen=True, slots=True)
class Candidate:
    place: str
    text: str
    order: int  # position among the candidates (its place's precedence, then page order)

    @property
    def words(self) -> tuple[str, ...]:
        return title_words(self.text)


def title_words(text: str) -> tuple[str, ...]:
    """The comparison form of a title: its words, NFKC case-folded, punctuation dropped."""
    return tuple(re.findall(r"\w+", unicodedata.normalize("NFKC", text).casefold()))


def gather_candidates(facts: PageFacts, names: set[str]) -> list[Candidate]:
    """Every title the page states, cleaned, site name removed, bare site names skipped."""
    raw: list[tuple[str, str | None]] = [
        ("og", facts.first_meta("og:title")),
        ("jsonld", next((h for h in (jsonld_str(o, "headline") for o in facts.jsonld_articles)
                         if h), None)),
        ("twitter", facts.first_meta("twitter:title")),
        *(("h1", h) for h in facts.h1[:_MAX_H1]),
        ("itemprop", next((h for h in facts.itemprop.get("headline", ()) if h), None)),
        ("title", facts.title_tag),
    ]
    names = names | _headings_naming_the_site(raw)
    out: list[Candidate] = []
    for place, value in raw:
        text = repair_mojibake(clean_text(value))
        if not text:
            continue
        text = _DANGLING.sub("", strip_site_affixes(text, names))
        if not title_words(text) or name_key(text) in names:
            continue  # punctuation only, or the site's own name
        out.append(Candidate(place, text, len(out)))
    out.sort(key=lambda c: (_PLACES.index(c.place), c.order))
    return [Candidate(c.place, c.text, i) for i, c in enumerate(out)]


# A separator left at the end, where a CMS dropped the site's name but not the dash before
# it ("Headline -"). Not at the start: a leading dash opens a quotation in Nordic headlines
# ("- We will stay"); nor quotes and guillemets, which close one.
_DANGLING = re.compile(r"\s+[|\-–—·•/~]+$")


def _headings_naming_the_site(raw: list[tuple[str, str | None]]) -> set[str]:
    """A heading that repeats the last segment of <title> ("Post | Blog name" and
    <h1>Blog name</h1>) names the site, unless a meta title states it as the headline."""
    title = next((clean_text(v) for p, v in raw if p == "title" and v), "")
    parts = split_segments(title)
    if len(parts) < 3 or not _SITE_SEPARATOR.search(parts[-2]):
        return set()
    last = title_words(parts[-1])
    headlines = {title_words(clean_text(v)) for p, v in raw if p in _META and v}
    if last in headlines or not any(title_words(clean_text(v)) == last
                                     for p, v in raw if p == "h1" and v):
        return set()
    return {name_key(parts[-1])}


_SITE_SEPARATOR = re.compile(r"[|\-–—·•»/~]")
_META = ("og", "jsonld", "twitter", "itemprop")


def _extends(longer: Candidate, shorter: Candidate) -> bool:
    """`longer` is `shorter` with a tail or a kicker after a separator ("Headline |
    Section", "Kicker: Headline"); a title cut short at a comma or a space is not."""
    n, words = len(shorter.words), _word_spans(longer.text)
    if n < _MIN_CORE_WORDS or len(words) <= n:
        return False
    text = unicodedata.normalize("NFKC", longer.text)
    keys = tuple(w for w, _, _ in words)
    # The visible <h1> is never cut short, so a meta title that adds plain words after it
    # ("Plum cake recipe") extends it; otherwise the words must meet at a separator.
    tail = _GAP if shorter.place == "h1" else _SEPARATOR
    if keys[:n] == shorter.words and tail.search(text[words[n - 1][2]:words[n][1]]):
        return True
    return keys[-n:] == shorter.words and bool(
        _SEPARATOR.search(text[words[-n - 1][2]:words[-n][1]]))


_SEPARATOR = re.compile(r"[|\-–—:·•»«/~]")
_GAP = re.compile(r"\W")


def _word_spans(text: str) -> list[tuple[str, int, int]]:
    text = unicodedata.normalize("NFKC", text)
    return [(m.group(0).casefold(), m.start(), m.end()) for m in re.finditer(r"\w+", text)]


_MIN_CORE_WORDS = 2  # a one-word candidate ("News", "Menu") is never a shared core


def backing(candidate: Candidate, candidates: list[Candidate]) -> tuple[int, int]:
    """(places stating it or extending it, places stating exactly it)."""
    mine = candidate.words
    same = {c.place for c in candidates if c.words == mine}
    extend = {c.place for c in candidates if _extends(c, candidate)}
    return len(same | extend), len(same)


def _written_as(winner: Candidate, candidates: list[Candidate]) -> Candidate:
    """The visible <h1>'s spelling of the winner's words, unless it drops characters (a
    heading built of separate elements loses the separator between kicker and headline);
    meta tags often flatten typographic quotes and dashes or lose a closing quote."""
    length = len(unicodedata.normalize("NFKC", winner.text))
    for c in candidates:
        if (c.place == "h1" and c.words == winner.words and c.text != winner.text
                and len(unicodedata.normalize("NFKC", c.text)) >= length):
            return c
    return winner


def choose_by_agreement(facts: PageFacts, extracted: dict[str, Any], names: set[str]
                        ) -> tuple[str | None, str]:
    """(title, source): the candidate most places back; trafilatura's title when the page
    offers none; (None, "none") when there is no title at all."""
    candidates = gather_candidates(facts, names)
    if not candidates:
        fallback = clean_text(extracted.get("title"))
        return (fallback, "trafilatura") if fallback else (None, "none")
    best = max(candidates, key=lambda c: (c.place == "jsonld", *backing(c, candidates),
                                          -c.order))
    chosen = _written_as(best, candidates)
    return chosen.text, _SOURCE[chosen.place]
