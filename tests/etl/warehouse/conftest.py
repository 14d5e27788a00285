"""Article and outcome builders for the warehouse tests."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from etl.records import Article, Dropped, Outcome


def build_article(n: int, *, source: str = "wire", language: str = "en",
                  title: str | None = None, text: str | None = None,
                  published_at: datetime | None = None, **fields) -> Article:
    body = text if text is not None else f"Story number {n}. " + "Plain words of news. " * 40
    return Article(
        url=f"https://news.example/{source}/{n}", source=source,
        canonical_url=f"https://news.example/{source}/{n}", language=language,
        title=title if title is not None else f"Headline {n}", text=body,
        text_sha256=hashlib.sha256(body.encode()).hexdigest(), word_count=len(body.split()),
        published_at=published_at or datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
        categories=["world"], tags=["t1", "t2"], **fields,
    )


def build_reject(n: int, reasons: list[str], source: str = "wire") -> Dropped:
    article = build_article(10_000 + n, source=source)
    return Dropped(article, Outcome.REJECTED, "validate", reasons, detail="too short")


@pytest.fixture(scope="session")  # a plain function: module fixtures use it too
def make_article():
    return build_article


@pytest.fixture
def make_reject():
    return build_reject
