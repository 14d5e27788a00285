from datetime import UTC, datetime, timedelta

from etl.records import Article, Dropped, Outcome
from etl.validate import ValidateStage

WORDS = " ".join(f"word{i}" for i in range(80))


def article(**kw) -> Article:
    base = dict(url="https://news.example/a", source="s", title="A headline", text=WORDS,
                word_count=80, language="en", expected_language="en",
                fetched_at=datetime.now(UTC))
    base.update(kw)
    return Article(**base)


def reasons_for(*articles: Article, min_words: int = 50) -> list[list[str] | None]:
    drops: list[Dropped] = []
    stage = ValidateStage(drops.append, {"s": min_words}, batch_size=3)
    passed = list(stage(articles))
    assert len(passed) + len(drops) == len(articles)
    assert all(d.outcome is Outcome.REJECTED for d in drops)
    by_url = {d.article.url: d.reasons for d in drops}
    return [by_url.get(a.url) for a in articles]


def test_good_article_passes_and_result_is_kept() -> None:
    drops: list[Dropped] = []
    stage = ValidateStage(drops.append)
    assert len(list(stage([article()]))) == 1
    assert stage.results and stage.results[0]["success"] is True


def test_each_rule_rejects_with_the_expectation_name() -> None:
    now = datetime.now(UTC)
    cases = [
        article(url="https://x/1", title=None),
        article(url="https://x/2", text="too short", word_count=2),
        article(url="https://x/3", language="de"),
        article(url="https://x/4", published_at=now + timedelta(days=30)),
        article(url="https://x/5", published_at=datetime(1985, 5, 1, tzinfo=UTC)),
        article(url="https://x/6", text="CafÃ© Ã©tÃ© " * 30),
        article(url="https://x/7", title="Broken \ufffd title with \ufffd twice"),
        article(url="not a url"),
        article(url="https://x/9", language="english", expected_language=None),
    ]
    got = reasons_for(*cases)
    expected = [
        "expect_column_values_to_not_be_null[title]",
        "expect_column_pair_values_a_to_be_greater_than_b[word_count,min_words]",
        "expect_column_pair_values_to_be_equal[language,expected_language]",
        "expect_column_pair_values_a_to_be_greater_than_b[latest_allowed_ts,published_ts]",
        "expect_column_values_to_be_between[published_ts]",
        "expect_column_values_to_be_between[text_damage]",
        "expect_column_values_to_be_between[title_damage]",
        "expect_column_values_to_match_regex[url]",
        "expect_column_values_to_match_regex[language]",
    ]
    for reasons, name in zip(got, expected, strict=True):
        assert reasons is not None and name in reasons, (name, reasons)


def test_undeclared_language_and_missing_date_are_fine() -> None:
    assert reasons_for(article(expected_language=None, language="pt"), article(
        url="https://x/b", published_at=None)) == [None, None]


SIX_HUNDRED = " ".join(f"Der Rat beriet über Vorschlag {i}." for i in range(100))


def test_one_stray_replacement_character_does_not_lose_the_article() -> None:
    stray = SIX_HUNDRED.replace("Vorschlag 60.", "Vorschlag 60\ufffd", 1)
    assert stray.count("\ufffd") == 1 and len(stray.split()) == 600
    two = stray.replace("Vorschlag 70.", "Vorschlag 70\ufffd", 1)
    assert reasons_for(article(text=stray, word_count=600),
                       article(url="https://x/2", text=two, word_count=600),
                       article(url="https://x/3", title="Caf\ufffd reopens")) == [None] * 3


def test_a_page_mis_decoded_throughout_is_rejected_with_a_clear_reason() -> None:
    # What a Latin-1 page read as UTF-8 with errors replaced looks like: every umlaut lost.
    broken = SIX_HUNDRED.replace("ü", "\ufffd")
    assert broken.count("\ufffd") == 100
    [reasons] = reasons_for(article(text=broken, word_count=600))
    assert reasons == ["expect_column_values_to_be_between[text_damage]"]


def test_damage_threshold_is_a_share_of_the_text() -> None:
    from etl.validate import TEXT_DAMAGE_MAX_SHARE, text_damage, title_damage

    assert text_damage("a\ufffd b\ufffd") == 0.0  # under the minimum number of marks
    assert text_damage("x\ufffd" * 3) == 0.5
    long_text = "word " * 2000 + "\ufffd" * 5  # 5 marks in ~8000 letters: kept
    assert 0 < text_damage(long_text) <= TEXT_DAMAGE_MAX_SHARE
    assert title_damage("CafÃ© â€œquotedâ€\x9d") == 3
