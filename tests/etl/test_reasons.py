"""Reject reasons read as sentences beside the Great Expectations names: in the stored
reject detail and in `news-etl report`, on both warehouses."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, select
from support.operator import clear_environment, newsroom

from etl import reasons
from etl.cli import main
from etl.warehouse.schema import article_rejects

TOO_SHORT = "expect_column_pair_values_a_to_be_greater_than_b[word_count,min_words]"
MISMATCH = "expect_column_pair_values_to_be_equal[language,expected_language]"


@pytest.fixture(autouse=True)
def _outputs_in_tmp(monkeypatch, tmp_path):
    clear_environment(monkeypatch)
    monkeypatch.chdir(tmp_path)  # PostgreSQL runs write their files under ./data


def suite_reason_names() -> list[str]:
    """The names the validate stage gives every expectation of the real suite."""
    from etl.validate import _Validator

    names = []
    for expectation in _Validator.get().suite.expectations:
        config = expectation.configuration
        kwargs = config.kwargs
        column = kwargs.get("column") or f"{kwargs.get('column_A')},{kwargs.get('column_B')}"
        names.append(f"{config.type}[{column}]")
    return names


def test_every_expectation_of_the_suite_has_a_sentence() -> None:
    for name in suite_reason_names():
        assert not reasons.label(name).startswith("failed "), name


@pytest.mark.parametrize(("name", "facts", "expected"), [
    (TOO_SHORT, {"word_count": 32, "min_words": 50}, "too short (32 words, minimum 50)"),
    (MISMATCH, {"language": "en", "expected_language": "fr"},
     "language mismatch (page: en, source expects fr)"),
    ("expect_column_values_to_be_between[text_damage]", {"text": "caf\u00c3\u00a9 \ufffd"},
     "garbled text (2 mis-decoded characters, e.g. 'Ã©')"),
    ("expect_column_values_to_be_between[published_ts]",
     {"published_at": datetime(1970, 1, 2, tzinfo=UTC)}, "published before 1990 (1970-01-02)"),
    ("expect_column_values_to_not_be_null[title]", {}, "no title"),
    (TOO_SHORT, {}, "too short"),  # values missing: the rule's meaning alone
    ("expect_something_new[col]", {}, "failed expect_something_new[col]"),
])
def test_sentence(name, facts, expected) -> None:
    assert reasons.sentence(name, facts) == expected


def test_summary_of_differing_values_gives_an_example() -> None:
    said = ["too short (32 words, minimum 50)", "too short (12 words, minimum 50)",
            "too short (32 words, minimum 50)"]
    assert reasons.summarise(TOO_SHORT, said) == "too short (e.g. 32 words, minimum 50)"
    assert reasons.summarise(TOO_SHORT, said[:1]) == said[0]


def test_rows_without_a_detail_fall_back_to_labels() -> None:
    assert reasons.sentences_of([TOO_SHORT, MISMATCH], None) == ["too short",
                                                                 "language mismatch"]


def test_report_and_stored_detail_say_why_in_words(migrated_warehouse_url, tmp_path,
                                                   capsys) -> None:
    sources = newsroom(tmp_path, language="fr")  # English pages, a French source
    url = migrated_warehouse_url
    assert main(["ingest", str(sources), "--warehouse", url, "--workers", "1",
                 "--run-id", "r1"]) == 0
    capsys.readouterr()

    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(select(article_rejects.c.url, article_rejects.c.reasons,
                                   article_rejects.c.detail)).all()
    engine.dispose()
    by_file = {row.url.rsplit("/", 1)[-1]: row for row in rows}
    assert set(by_file) == {"trains.html", "ferry.html", "stub.html"}
    assert by_file["ferry.html"].detail == "language mismatch (page: en, source expects fr)"
    stub = by_file["stub.html"]
    assert stub.reasons == sorted([MISMATCH, TOO_SHORT])
    assert re.fullmatch(r"too short \(\d+ words, minimum 50\); "
                        r"language mismatch \(page: en, source expects fr\)", stub.detail)

    assert main(["report", "r1", "--warehouse", url]) == 0
    out = capsys.readouterr().out
    assert re.search(r"rejected +3  language mismatch \(page: en, source expects fr\)  "
                     + re.escape(f"[{MISMATCH}]"), out), out
    assert re.search(r"rejected +1  too short \(\d+ words, minimum 50\)  "
                     + re.escape(f"[{TOO_SHORT}]"), out), out
