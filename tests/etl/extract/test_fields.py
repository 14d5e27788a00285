"""The extra fields (etl.extract.metadata.extra_fields): the updated date and the
publisher's offset and day of the published date, through the extract stage.

Each fixture is an original page showing one pattern; each negative case checks that
nothing is invented (no update stated → NULL, never the published date).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from support.ferry_page import URL, jsonld, page

from etl.extract import ExtractStage
from etl.records import Article, Dropped

FETCHED = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def date_notes(stage: ExtractStage) -> dict[str, int]:
    """The stage's notes about refused dates (other notes, e.g. decoding's, left out)."""
    return {k: v for k, v in stage.stats.notes.items()
            if k.startswith(("date_", "modified_"))}


def extract(html: str, **article: object) -> tuple[Article, ExtractStage]:
    drops: list[Dropped] = []
    stage = ExtractStage(drops.append, {})
    item = Article(url=URL, source="s", raw=html.encode(), fetched_at=FETCHED, **article)
    out = list(stage([item]))
    assert drops == [] and len(out) == 1
    return out[0], stage


# ---------------------------------------------------------------------------- updated date


@pytest.mark.parametrize(("head", "before", "expected", "source"), [
    (jsonld(datePublished="2024-05-03T08:00:00Z", dateModified="2024-05-04T09:30:00Z"), "",
     datetime(2024, 5, 4, 9, 30, tzinfo=UTC), "jsonld"),
    ("<meta property='article:published_time' content='2024-05-03T08:00:00+02:00'>"
     "<meta property='article:modified_time' content='2024-05-03T17:45:00+02:00'>", "",
     datetime(2024, 5, 3, 15, 45, tzinfo=UTC), "og"),
    ("<meta property='og:updated_time' content='2024-05-05T06:00:00Z'>", "",
     datetime(2024, 5, 5, 6, 0, tzinfo=UTC), "og"),
    ("", "<p class='meta'><time class='published' datetime='2024-05-03T08:00:00Z'>3 May"
         "</time> · <time class='updated' datetime='2024-05-06T10:00:00Z'>6 May</time></p>",
     datetime(2024, 5, 6, 10, 0, tzinfo=UTC), "time"),
    ("", "<div class='stamp'><span>Veröffentlicht am 02.05.2024</span> "
         "<span>Zuletzt aktualisiert am 04.05.2024, 10:42 Uhr</span></div>",
     datetime(2024, 5, 4, 10, 42, tzinfo=UTC), "dateline"),
    ("", "<p class='note'><strong>Updated:</strong> <span>7 May 2024</span></p>",
     datetime(2024, 5, 7, tzinfo=UTC), "dateline"),
])
def test_the_updated_date_the_page_states(head, before, expected, source) -> None:
    article, _ = extract(page(head, before))
    assert (article.modified_at, article.modified_source) == (expected, source)


def test_no_updated_date_stated_is_null_not_the_published_date() -> None:
    html = page(jsonld(datePublished="2024-05-03T08:00:00Z")
                + "<meta property='article:published_time' content='2024-05-03T08:00:00Z'>",
                "<p class='date'><time datetime='2024-05-03T08:00:00Z'>3 May 2024</time></p>")
    article, stage = extract(html)
    assert article.published_at == datetime(2024, 5, 3, 8, 0, tzinfo=UTC)
    assert (article.modified_at, article.modified_source) == (None, None)
    assert article.date_rejections == [] and not date_notes(stage)


def test_an_update_stamp_in_a_teaser_of_another_story_is_not_this_pages() -> None:
    html = page(after="<aside class='related'><p>Other story <time class='updated' "
                      "datetime='2024-05-20T10:00:00Z'>20 May</time></p></aside>")
    assert extract(html)[0].modified_at is None


@pytest.mark.parametrize(("modified", "reason"), [
    ("2024-13-45T25:61:00Z", "modified_date_unparseable"),
    ((FETCHED + timedelta(days=3)).isoformat(), "modified_date_in_future"),
    ("1970-01-01T00:00:00Z", "modified_date_too_old"),
    ("2024-04-20T08:00:00Z", "modified_before_published"),
])
def test_an_impossible_updated_date_is_refused_and_counted(modified: str, reason: str) -> None:
    html = page(jsonld(datePublished="2024-05-03T08:00:00Z", dateModified=modified))
    article, stage = extract(html)
    assert (article.modified_at, article.modified_source) == (None, None)
    assert article.published_at == datetime(2024, 5, 3, 8, 0, tzinfo=UTC)  # untouched
    assert article.date_rejections == [reason]
    assert date_notes(stage) == {reason: 1}


def test_a_refused_statement_gives_way_to_the_next_one() -> None:
    html = page(jsonld(datePublished="2024-05-03T08:00:00Z", dateModified="2024-02-30")
                + "<meta property='article:modified_time' content='2024-05-07T07:00:00Z'>")
    article, _ = extract(html)
    assert (article.modified_at, article.modified_source) == (
        datetime(2024, 5, 7, 7, 0, tzinfo=UTC), "og")
    assert article.date_rejections == ["modified_date_unparseable"]


def test_an_update_in_a_sentence_of_the_story_is_no_update_stamp() -> None:
    html = page(before="<p>The harbour office said the timetable was updated on 2 May 2024 "
                       "after the pier inspection, and that the winter crossings would keep "
                       "the same times as last year for every island.</p>")
    assert extract(html)[0].modified_at is None


def test_an_update_line_without_a_date_states_nothing() -> None:
    html = page(before="<p class='note'>Updated 2 hours ago</p>")
    article, stage = extract(html)
    assert article.modified_at is None and not date_notes(stage)


# ------------------------------------------------------------------ the publisher's offset


@pytest.mark.parametrize(("stated", "utc", "offset", "local"), [
    # 01:00 at +03:00 is still the 14th in UTC: the publisher's day is the 15th.
    ("2024-05-15T01:00:00+03:00", datetime(2024, 5, 14, 22, 0, tzinfo=UTC), 180,
     date(2024, 5, 15)),
    # 22:00 at -05:00 is already the 15th in UTC: the publisher's day is the 14th.
    ("2024-05-14T22:00:00-05:00", datetime(2024, 5, 15, 3, 0, tzinfo=UTC), -300,
     date(2024, 5, 14)),
    ("2024-05-14T23:30:00+0530", datetime(2024, 5, 14, 18, 0, tzinfo=UTC), 330,
     date(2024, 5, 14)),
    ("2024-05-14T23:30:00Z", datetime(2024, 5, 14, 23, 30, tzinfo=UTC), 0, date(2024, 5, 14)),
    ("2024-05-14T23:30:00+00:00", datetime(2024, 5, 14, 23, 30, tzinfo=UTC), 0,
     date(2024, 5, 14)),
    # No zone stated: the offset is unknown; the day is the one the page wrote.
    ("2024-05-14T23:30:00", datetime(2024, 5, 14, 23, 30, tzinfo=UTC), None, date(2024, 5, 14)),
    ("2024-05-14", datetime(2024, 5, 14, tzinfo=UTC), None, date(2024, 5, 14)),
])
def test_offset_and_day_of_the_publisher(stated, utc, offset, local) -> None:
    article, _ = extract(page(jsonld(datePublished=stated)))
    assert article.published_at == utc
    assert article.published_utc_offset_min == offset
    assert article.published_local_date == local


def test_rfc_2822_zones_count_and_unknown_zone_does_not() -> None:
    meta = "<meta name='pubdate' content='{}'>"
    gmt, _ = extract(page(meta.format("Tue, 14 May 2024 23:30:00 GMT")))
    assert (gmt.published_utc_offset_min, gmt.published_local_date) == (0, date(2024, 5, 14))
    east, _ = extract(page(meta.format("Wed, 15 May 2024 01:00:00 +0300")))
    assert (east.published_utc_offset_min, east.published_local_date) == (180,
                                                                          date(2024, 5, 15))
    unknown, _ = extract(page(meta.format("Tue, 14 May 2024 23:30:00 -0000")))
    assert unknown.published_utc_offset_min is None


def test_a_feed_hint_or_url_date_states_no_offset() -> None:
    hinted, _ = extract(page(), hint_published_at=datetime(2024, 5, 14, 22, 0, tzinfo=UTC))
    assert hinted.date_source == "hint"
    assert (hinted.published_utc_offset_min, hinted.published_local_date) == (None, None)
    undated, _ = extract(page())
    assert (undated.published_at, undated.published_local_date) == (None, None)


def test_the_fields_survive_staging_files() -> None:
    article, _ = extract(page(jsonld(datePublished="2024-05-15T01:00:00+03:00",
                                     dateModified="2024-05-15T09:00:00+03:00")))
    again = Article.from_json(article.to_json())
    assert again == article
    assert isinstance(again.published_local_date, date)
    assert not isinstance(again.published_local_date, datetime)


def test_a_text_file_has_none_of_them() -> None:
    drops: list[Dropped] = []
    stage = ExtractStage(drops.append, {})
    [article] = stage([Article(url="file:///in/a.txt", source="s", content_type="text",
                               raw=b"Title\n" + b"Some words of the story. " * 20)])
    assert (article.modified_at, article.image_url, article.is_paywalled,
            article.is_liveblog, article.published_local_date) == (None,) * 5
