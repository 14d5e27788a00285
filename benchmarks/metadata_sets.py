"""The labelled page sets under ../shared/data and how each field is scored on them.

Every set becomes a list of `Page`s with the same gold fields (None where the set does not
label one), so the metadata benchmark scores them alike:

  news-metadata    130 pages: body text, title, published date, authors
  trafilatura-eval 990 pages: with/without text snippets; title, author, date for most
  htmldate-eval    799 pages: published date (the publisher's local day)

Scores per page: text = token-bag F1 against the body (news-metadata) or the snippet counts
(trafilatura-eval: a `with` snippet found is a true positive, a `without` snippet found a
false positive); title = exact match after NFKC, soft-hyphen removal and whitespace folding;
date = same calendar day; author = token F1 >= 0.5 against the labelled authors.
The labels are read here only; nothing under etl/ ever sees them.
"""

from __future__ import annotations

import ast
import gzip
import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SHARED = Path(__file__).resolve().parents[2] / "shared/data"
SETS = {
    "news-metadata": "news-metadata-benchmark",
    "trafilatura-eval": "trafilatura-eval",
    "htmldate-eval": "htmldate-eval",
}
FIELDS = ("text", "title", "date", "author")

_TOKEN = re.compile(r"\w+")
_WS = re.compile(r"\s+")


@dataclass(slots=True)
class Page:
    set: str
    id: str
    url: str
    path: Path  # html/<id>.html.gz
    group: str  # the publisher: folds never split one
    fetched_at: datetime | None
    body: str | None = None  # news-metadata
    with_: tuple[str, ...] = ()  # trafilatura-eval snippets
    without: tuple[str, ...] = ()
    title: str | None = None
    date: date | None = None
    published_at: datetime | None = None  # with its offset, when the set gives one
    authors: str | None = None


def parse_dt(value: Any) -> datetime | None:
    """ISO strings with or without an offset; None for anything else."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    text = str(value).strip().replace("Z", "+00:00")
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        try:
            return datetime.fromisoformat(text[:10])
        except ValueError:
            return None


def _list(value: Any) -> list[str]:
    """A list, or a Python-list string like "['A B']"."""
    if isinstance(value, str):
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            value = [value]
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in (value or []) if str(v).strip()]


_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "gv", "or", "ne"}


def publisher_of(url: str) -> str:
    """The registered domain of the page's host ("news.example.co.uk" -> "example.co.uk"):
    one publisher, whatever its subdomains; pages of one host never straddle folds."""
    labels = (urlsplit(url).hostname or "").lower().split(".")
    keep = 3 if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2 else 2
    return ".".join(labels[-keep:])


def load_set(name: str, root: Path | None = None) -> list[Page]:
    root = root or SHARED / SETS[name]
    pages = []
    if name == "news-metadata":
        truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
        for pid, t in truth.items():
            crawl = parse_dt(t.get("crawl_date"))
            published = parse_dt(t.get("published_at"))
            pages.append(Page(
                set=name, id=pid, url=t["url"], path=root / "html" / f"{pid}.html.gz",
                group=publisher_of(t["url"]),
                fetched_at=crawl.replace(tzinfo=UTC) if crawl and crawl.tzinfo is None else crawl,
                body=t.get("body"), title=t.get("title"),
                date=published.date() if published else None, published_at=published,
                authors=" ".join(_list(t.get("authors"))) or None,
            ))
        return pages
    labels = json.loads((root / "labels.json").read_text(encoding="utf-8"))
    for pid, t in labels.items():
        day = parse_dt(t.get("date"))
        url = t.get("url") or ""  # a few pages come without their address
        pages.append(Page(
            set=name, id=pid, url=url, path=root / "html" / f"{pid}.html.gz",
            group=publisher_of(url) if url else f"unknown-{pid}", fetched_at=None,
            with_=tuple(_list(t.get("with"))), without=tuple(_list(t.get("without"))),
            title=(t.get("title") or None), date=day.date() if day else None,
            authors=" ".join(a.strip() for a in (
                t["author"] if isinstance(t.get("author"), list) else [t.get("author") or ""]
            )).strip() or None,
        ))
    return pages


def read_raw(page: Page) -> bytes:
    with gzip.open(page.path, "rb") as fh:
        return fh.read()


# --------------------------------------------------------------------------- scoring


def tokens(text: str | None) -> Counter[str]:
    return Counter(_TOKEN.findall((text or "").lower()))


def token_f1(pred: str | None, gold: str | None) -> float:
    p, g = tokens(pred), tokens(gold)
    common = sum((p & g).values()) if p and g else 0
    if common == 0:
        return 0.0
    precision, recall = common / sum(p.values()), common / sum(g.values())
    return 2 * precision * recall / (precision + recall)


_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff"))  # = the pipeline's


def norm_title(text: str | None) -> str:
    # Marks no reader sees (soft hyphen, zero-width space, word joiner, BOM) do not make a
    # title different; the pipeline drops the same ones (etl.extract.metadata.text).
    text = unicodedata.normalize("NFKC", text or "").translate(_INVISIBLE)
    return _WS.sub(" ", text).strip()


def same_day(pred: datetime | None, page: Page) -> bool:
    if pred is None or page.date is None:
        return False
    if pred.date() == page.date:
        return True
    # The same instant in the publisher's own offset, when the label states one.
    gold = page.published_at
    if gold is not None and gold.tzinfo is not None and pred.tzinfo is not None:
        return pred.astimezone(gold.tzinfo).date() == page.date
    return False


def _fold(text: str | None) -> str:
    return _WS.sub(" ", unicodedata.normalize("NFKC", text or "")).strip().casefold()


def snippet_counts(text: str | None, page: Page) -> tuple[int, int, int, int]:
    """(tp, fn, fp, tn) of the page's with/without snippets in `text`."""
    folded = _fold(text)
    found_with = sum(1 for s in page.with_ if _fold(s) and _fold(s) in folded)
    found_without = sum(1 for s in page.without if _fold(s) and _fold(s) in folded)
    return (found_with, len(page.with_) - found_with, found_without,
            len(page.without) - found_without)


def score_field(name: str, pred: dict[str, Any], page: Page) -> float | None:
    """The page's score for one metadata field, None when the set does not label it."""
    if name == "title":
        return None if page.title is None else float(
            norm_title(pred.get("title")) == norm_title(page.title))
    if name == "date":
        return None if page.date is None else float(same_day(pred.get("date"), page))
    if name == "author":
        return None if page.authors is None else float(
            token_f1(pred.get("author"), page.authors) >= 0.5)
    if name == "text":
        return page_text_score(pred.get("text"), page)
    raise ValueError(name)


def page_text_score(text: str | None, page: Page) -> float | None:
    """One page's text score, for weighing a text rule page by page: token F1 against the
    body, else the share of the page's snippets judged right (`with` found, `without` not
    found). A set's text figure is `text_score`, pooled over its pages."""
    if page.body is not None:
        return token_f1(text, page.body)
    if not (page.with_ or page.without):
        return None
    tp, _fn, _fp, tn = snippet_counts(text, page)
    return (tp + tn) / (len(page.with_) + len(page.without))


def text_score(preds: dict[str, dict[str, Any]], pages: list[Page]) -> float | None:
    """Mean token F1 (news-metadata) or snippet F1 (trafilatura-eval); None when unlabelled."""
    bodies = [p for p in pages if p.body is not None]
    if bodies:
        return sum(token_f1((preds.get(p.id) or {}).get("text"), p.body) for p in bodies) / len(
            bodies)
    snips = [p for p in pages if p.with_ or p.without]
    if not snips:
        return None
    tp = fn = fp = 0
    for p in snips:
        a, b, c, _ = snippet_counts((preds.get(p.id) or {}).get("text"), p)
        tp, fn, fp = tp + a, fn + b, fp + c
    precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def mean_field(name: str, preds: dict[str, dict[str, Any]], pages: list[Page]) -> float | None:
    if name == "text":
        return text_score(preds, pages)
    values = [s for s in (score_field(name, preds.get(p.id) or {}, p) for p in pages)
              if s is not None]
    return sum(values) / len(values) if values else None


def labelled(name: str, pages: list[Page]) -> int:
    if name == "text":
        return sum(1 for p in pages if p.body is not None or p.with_ or p.without)
    attr = {"title": "title", "date": "date", "author": "authors"}[name]
    return sum(1 for p in pages if getattr(p, attr) is not None)
