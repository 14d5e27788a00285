"""No invented date: HTML pages through the real extract stage (trafilatura + the rules).

A published date comes only from a statement of publication. Copyright lines, free text,
bare years, impossible values and dates more than a day after the fetch give no date — the
article still loads, `date_source` is None, and a stated value that was refused is counted
in the stage's notes by reason. Positive controls keep the rules honest: real statements
(meta, JSON-LD, <time>, URL path, dateline, title) are still found.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from etl.extract import ExtractStage
from etl.extract.metadata.dates import (
    DATE_AMBIGUOUS,
    DATE_IN_FUTURE,
    DATE_INCOMPLETE,
    DATE_TOO_OLD,
    DATE_UNPARSEABLE,
    read_date,
)
from etl.extract.pool import PoolSettings
from etl.records import Article, Dropped

FETCHED = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
STORY = "".join(
    f"<p>{sentence}</p>" for sentence in [
        "The harbour committee met on Tuesday evening to discuss the winter ferry timetable "
        "and the repairs to the old wooden pier on the north side of the bay.",
        "Residents of the two islands asked for an earlier first crossing, because the school "
        "bus on the mainland leaves before the current ferry arrives at the quay.",
        "The operator said it would study the request and publish a revised timetable once "
        "the repairs are finished and the new gangway has been inspected.",
    ])


def page(head: str = "", before: str = "", after: str = "", jsonld: dict | None = None,
         footer: str = "") -> str:
    """A whole article page; `before`/`after` go around the story inside <article>."""
    if jsonld is not None:
        head += f'<script type="application/ld+json">{json.dumps(jsonld)}</script>'
    return (f"<html lang='en'><head><meta charset='utf-8'><title>Ferry timetable</title>"
            f"{head}</head><body><nav><a href='/'>Home</a></nav><article>"
            f"<h1>Ferry timetable under review</h1>{before}{STORY}{after}</article>"
            f"<footer>{footer}</footer></body></html>")


def meta_date(value: str) -> str:
    return f'<meta property="article:published_time" content="{value}">'


def news_article(value: str) -> dict:
    return {"@context": "https://schema.org", "@type": "NewsArticle",
            "headline": "Ferry timetable under review", "datePublished": value}


def iso(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def date_notes(stage: ExtractStage) -> dict[str, int]:
    """The stage's notes about dates (it also notes charsets, repairs and bodies)."""
    return {k: v for k, v in stage.stats.notes.items()
            if not k.startswith(("charset_", "text_", "title_", "body_"))}


def extract(html: str, url: str = "https://news.example.com/harbour/ferry-timetable",
            **fields) -> tuple[Article, ExtractStage]:
    drops: list[Dropped] = []
    stage = ExtractStage(drops.append, {})
    article = Article(url=url, source="s", raw=html.encode(), fetched_at=FETCHED, **fields)
    out = list(stage([article]))
    assert drops == [] and len(out) == 1, "the article itself must always load"
    assert out[0].text and "harbour committee" in out[0].text
    return out[0], stage


# --------------------------------------------------------------------------- no date

NO_DATE = {
    # copyright lines: a site's years, in the footer or anywhere else
    "copyright footer range": (page(footer="<p>© Example News 2009-2024. All rights "
                                           "reserved.</p>"), []),
    "copyright in a site-info block": (page(after="<div class='site-info'>Copyright 2024 "
                                                  "Example News</div>"), []),
    "copyright year right after the story": (page(after="<p>(c) 2025 Example News</p>"), []),
    # a bare year or month is no day: never 1 January / the 1st
    "year-only meta": (page(meta_date("2025")), [DATE_INCOMPLETE]),
    "year-month JSON-LD": (page(jsonld=news_article("2025-03")), [DATE_INCOMPLETE]),
    "year-only dateline": (page(before="<p class='date'>Published 2025</p>"),
                           [DATE_INCOMPLETE]),
    "month-year dateline": (page(before="<span class='date'>March 2025</span>"),
                            [DATE_INCOMPLETE]),
    # impossible values are unparseable, never rounded or rolled over
    "impossible meta": (page(meta_date("2026-13-45T25:61")), [DATE_UNPARSEABLE]),
    "impossible JSON-LD": (page(jsonld=news_article("2026-13-45T25:61")), [DATE_UNPARSEABLE]),
    "impossible <time>": (page(before="<time datetime='2026-02-30T10:00'>30 Feb</time>"),
                          [DATE_UNPARSEABLE]),
    "impossible dateline": (page(before="<div class='dateline'>31.02.2026</div>"),
                            [DATE_UNPARSEABLE]),
    "garbage meta": (page(meta_date("soon")), [DATE_UNPARSEABLE]),
    # more than a day after the fetch
    "future meta": (page(meta_date(iso(FETCHED + timedelta(days=3)))), [DATE_IN_FUTURE]),
    "future JSON-LD": (page(jsonld=news_article(iso(FETCHED + timedelta(days=1, hours=2)))),
                       [DATE_IN_FUTURE]),
    "far future dateline": (page(before="<p class='date'>4 May 2031</p>"), [DATE_IN_FUTURE]),
    "before 1990": (page(meta_date("1970-01-01T00:00:00Z")), [DATE_TOO_OLD]),
    # neither a statement nor decidable
    "ambiguous slashed date": (page(before="<span class='date'>04/05/2026</span>"),
                               [DATE_AMBIGUOUS]),
    "date in running text": (page(after="<p>The pier was first opened on 3 March 2021 and "
                                        "has been repaired twice since then by the town.</p>"),
                             []),
    "<time> inside a sentence": (page(after="<p>The committee will vote on <time datetime="
                                            "'2026-06-01'>1 June</time> after a last public "
                                            "hearing in the town hall.</p>"), []),
    "update stamp only": (page(before="<span class='updated'>Updated 04.05.2026</span>"), []),
    "nothing at all": (page(), []),
}


@pytest.mark.parametrize("case", list(NO_DATE))
def test_pages_that_state_no_usable_date_load_without_one(case: str) -> None:
    html, reasons = NO_DATE[case]
    article, stage = extract(html)
    assert (article.published_at, article.date_source) == (None, None)
    assert article.date_rejections == reasons
    assert date_notes(stage) == {r: 1 for r in reasons}


def test_a_refused_statement_does_not_hide_a_good_one() -> None:
    html = page(meta_date("2026-13-45T25:61"), jsonld=news_article(
        iso(FETCHED + timedelta(days=5))), before="<p class='dateline'>Published on "
                                                  "4 May 2026</p>")
    article, stage = extract(html)
    assert (article.published_at, article.date_source) == (
        datetime(2026, 5, 4, tzinfo=UTC), "dateline")
    assert sorted(date_notes(stage)) == [DATE_IN_FUTURE, DATE_UNPARSEABLE]


# --------------------------------------------------------------------------- kept

def test_a_date_a_few_hours_ahead_of_the_fetch_is_kept() -> None:
    ahead = FETCHED + timedelta(hours=5)  # a publisher east of UTC, or a clock ahead
    article, stage = extract(page(meta_date(iso(ahead))))
    assert (article.published_at, article.date_source) == (ahead, "og")
    assert article.date_rejections == [] and not date_notes(stage)


POSITIVE = {
    "meta article:published_time": (page(meta_date("2026-05-04T08:30:00+02:00")), "og",
                                     datetime(2026, 5, 4, 6, 30, tzinfo=UTC)),
    "meta with vendor prefix": (page('<meta name="article:published:time" '
                                     'content="2026-05-04T08:30:00Z">'), "og",
                                datetime(2026, 5, 4, 8, 30, tzinfo=UTC)),
    "JSON-LD datePublished": (page(jsonld=news_article("2026-05-04T08:30:00Z")), "jsonld",
                              datetime(2026, 5, 4, 8, 30, tzinfo=UTC)),
    "JSON-LD WebPage": (page(jsonld={"@type": "WebPage", "datePublished": "2026-05-04"}),
                        "jsonld", datetime(2026, 5, 4, tzinfo=UTC)),
    "itemprop datePublished": (page(before="<span itemprop='datePublished' content="
                                           "'2026-05-04'>4 May</span>"), "meta",
                               datetime(2026, 5, 4, tzinfo=UTC)),
    "RDFa dc:date": (page(before="<span property='dc:date dc:created' content="
                                 "'2026-05-04T10:00:00Z'></span>"), "meta",
                     datetime(2026, 5, 4, 10, tzinfo=UTC)),
    "<time> in the article header": (page(before="<header><time datetime='2026-05-04T08:00"
                                                 ":00Z'>4 May</time></header>"), "time",
                                     datetime(2026, 5, 4, 8, tzinfo=UTC)),
    "dateline with label": (page(before="<p class='dateline'>Published on 4 May 2026</p>"),
                            "dateline", datetime(2026, 5, 4, tzinfo=UTC)),
    "byline with numeric date and clock": (page(before="<div class='byline'>By Jane Roe · "
                                                       "04.05.2026, 10:42</div>"),
                                           "dateline", datetime(2026, 5, 4, 10, 42,
                                                                tzinfo=UTC)),
    "published before updated": (page(before="<div class='meta'>Published 4 May 2026 · "
                                             "Updated 6 May 2026</div>"), "dateline",
                                 datetime(2026, 5, 4, tzinfo=UTC)),
    "label then value": (page(before="<dl><dt>Published</dt><dd>4 May 2026</dd></dl>"),
                         "dateline", datetime(2026, 5, 4, tzinfo=UTC)),
    "press-release dateline": (page(before="<p>HARBOURTOWN, 4 May 2026 – The council "
                                           "said on Monday that the ferry will run.</p>"),
                               "dateline", datetime(2026, 5, 4, tzinfo=UTC)),
    "date in the title": (page().replace("<title>Ferry timetable</title>",
                                         "<title>Ferry timetable | 04.05.2026</title>"),
                          "title", datetime(2026, 5, 4, tzinfo=UTC)),
    "script data": (page("<script>var page = {\"section\": \"local\", \"datePublished\": "
                         "\"2026-05-04T09:00:00Z\"};</script>"), "script",
                    datetime(2026, 5, 4, 9, tzinfo=UTC)),
}


@pytest.mark.parametrize("case", list(POSITIVE))
def test_statements_of_publication_are_still_found(case: str) -> None:
    html, source, expected = POSITIVE[case]
    article, stage = extract(html)
    assert (article.published_at, article.date_source) == (expected, source)
    assert article.date_rejections == [] and not date_notes(stage)


@pytest.mark.parametrize("url", [
    "https://news.example.com/2026/05/04/ferry-timetable",
    "https://news.example.com/local/2026-05-04/ferry-timetable.html",
    "https://news.example.com/local/ferry-timetable-2026-05-04",
])
def test_a_date_in_the_url_path_is_a_statement(url: str) -> None:
    article, _ = extract(page(), url=url)
    assert (article.published_at, article.date_source) == (datetime(2026, 5, 4, tzinfo=UTC),
                                                           "url")


@pytest.mark.parametrize("url", [
    "https://news.example.com/2026/05/ferry-timetable",  # a month, no day
    "https://news.example.com/2026/13/45/ferry-timetable",  # impossible
    "https://news.example.com/story?date=2026-05-04",  # query, not path
])
def test_no_date_from_a_url_without_a_full_date_in_its_path(url: str) -> None:
    article, _ = extract(page(), url=url)
    assert (article.published_at, article.date_source) == (None, None)


# --------------------------------------------------------------------------- feed hints

def test_a_feed_hint_is_used_only_when_the_page_states_nothing_and_it_is_plausible() -> None:
    hint = datetime(2026, 6, 14, 8, tzinfo=UTC)
    article, _ = extract(page(), hint_published_at=hint)
    assert (article.published_at, article.date_source) == (hint, "hint")
    article, _ = extract(page(meta_date("2026-06-13T10:00:00Z")), hint_published_at=hint)
    assert article.date_source == "og"
    article, stage = extract(page(), hint_published_at=FETCHED + timedelta(days=2))
    assert (article.published_at, article.date_source) == (None, None)
    assert date_notes(stage) == {DATE_IN_FUTURE: 1}


def test_the_process_pool_counts_refusals_in_the_parent() -> None:
    drops: list[Dropped] = []
    stage = ExtractStage(drops.append, {}, PoolSettings(workers=2))
    items = [Article(url=f"https://news.example.com/a/{i}", source="s", raw=html.encode(),
                     fetched_at=FETCHED)
             for i, html in enumerate([page(meta_date("2026-13-45T25:61")),
                                       page(meta_date(iso(FETCHED + timedelta(days=9)))),
                                       page(meta_date("2026-05-04T08:00:00Z"))])]
    out = list(stage(items))
    assert drops == [] and len(out) == 3
    assert [a.date_source for a in out] == [None, None, "og"]
    assert date_notes(stage) == {DATE_UNPARSEABLE: 1, DATE_IN_FUTURE: 1}


def test_without_a_fetch_time_the_future_is_measured_from_now() -> None:
    drops: list[Dropped] = []
    stage = ExtractStage(drops.append, {})
    future = datetime.now(UTC) + timedelta(days=3)
    [article] = list(stage([Article(url="file:///story.html", source="s",
                                    raw=page(meta_date(iso(future))).encode())]))
    assert (article.published_at, article.date_source) == (None, None)
    assert article.date_rejections == [DATE_IN_FUTURE]


# --------------------------------------------------------------------------- read_date

@pytest.mark.parametrize(("value", "expected"), [
    ("2026-05-04T08:30:00+02:00", datetime(2026, 5, 4, 6, 30, tzinfo=UTC)),
    ("2026-05-04", datetime(2026, 5, 4, tzinfo=UTC)),
    ("20260504", datetime(2026, 5, 4, tzinfo=UTC)),
    ("20260504T083000Z", datetime(2026, 5, 4, 8, 30, tzinfo=UTC)),
    ("Mon, 04 May 2026 08:30:00 GMT", datetime(2026, 5, 4, 8, 30, tzinfo=UTC)),
    ("04.05.2026", datetime(2026, 5, 4, tzinfo=UTC)),
    ("2026/05/04", datetime(2026, 5, 4, tzinfo=UTC)),
    ("13/05/2026", datetime(2026, 5, 13, tzinfo=UTC)),
    ("05/13/2026", datetime(2026, 5, 13, tzinfo=UTC)),
    ("4 May 2026", datetime(2026, 5, 4, tzinfo=UTC)),
    ("May 4, 2026", datetime(2026, 5, 4, tzinfo=UTC)),
    ("4. Mai 2026", datetime(2026, 5, 4, tzinfo=UTC)),
])
def test_read_date_reads_full_dates(value: str, expected: datetime) -> None:
    assert read_date(value) == (expected, None)


@pytest.mark.parametrize(("value", "reason"), [
    ("2026-13-45T25:61", DATE_UNPARSEABLE),
    ("2026-02-30", DATE_UNPARSEABLE),
    ("20261345", DATE_UNPARSEABLE),
    ("31.02.2026", DATE_UNPARSEABLE),
    ("Mon, 45 Foo 2026 25:61:00 GMT", DATE_UNPARSEABLE),
    ("yesterday", DATE_UNPARSEABLE),
    ("2026", DATE_INCOMPLETE),
    ("2026-05", DATE_INCOMPLETE),
    ("May 2026", DATE_INCOMPLETE),
    ("04/05/2026", DATE_AMBIGUOUS),
])
def test_read_date_names_why_a_value_is_no_date(value: str, reason: str) -> None:
    assert read_date(value) == (None, reason)


def test_read_date_stops_at_an_impossible_first_date() -> None:
    # "2026-13-45" must not make the parser go looking for some other date in the value.
    assert read_date("2026-13-45T25:61 (4 May 2026)") == (None, DATE_UNPARSEABLE)
