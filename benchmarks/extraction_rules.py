"""How often the charset, repair, damage, word-count and structured-body rules fire on every
shared set, and what the structured body does to text F1 (docs/extraction.md).

Usage::

    .venv/bin/python benchmarks/extraction_rules.py [--workers 2] [--out FILE]

Sets under ../shared/data: news-metadata (body), trafilatura-eval (with/without snippets),
htmldate-eval (no text label: firing rates only) and article-extraction (articleBody).
Text F1 is scored as benchmarks/metadata.py scores it: token-bag F1 of lower-cased \\w+
tokens against the whole text, snippet F1 on trafilatura-eval; on trafilatura's text
("off") and on the text the extract stage keeps ("on", with the structured-body fallback).
The labels are read here only; nothing under etl/ ever sees them.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import unicodedata
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, Path(__file__).resolve().parent):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from _common import extraction_data_dir, markdown_table  # noqa: E402

SHARED = REPO.parent / "shared/data"
SETS = ("news-metadata", "article-extraction", "trafilatura-eval", "htmldate-eval")
_OLD_WORD = re.compile(r"\w+")
_TOKEN = re.compile(r"\w+")
_WS = re.compile(r"\s+")


@dataclass(slots=True)
class Page:
    id: str
    url: str
    path: Path  # html/<id>.html.gz
    fetched_at: datetime | None = None
    body: str | None = None  # the whole text (news-metadata, article-extraction)
    with_: tuple[str, ...] = ()  # snippets the text must hold (trafilatura-eval)
    without: tuple[str, ...] = ()  # snippets it must not


def _snippets(value: Any) -> tuple[str, ...]:
    value = [value] if isinstance(value, str) else (value or [])
    return tuple(str(v) for v in value if str(v).strip())


def load_pages(name: str) -> list[Page]:
    if name == "article-extraction":
        root = extraction_data_dir()
        truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
        return [Page(pid, t.get("url") or "", root / "html" / f"{pid}.html.gz",
                     body=t.get("articleBody") or "")
                for pid, t in truth.items() if (root / "html" / f"{pid}.html.gz").exists()]
    if name == "news-metadata":
        root = SHARED / "news-metadata-benchmark"
        truth = json.loads((root / "ground-truth.json").read_text(encoding="utf-8"))
        pages = []
        for pid, t in truth.items():
            crawl = datetime.fromisoformat(t["crawl_date"]) if t.get("crawl_date") else None
            if crawl is not None and crawl.tzinfo is None:
                crawl = crawl.replace(tzinfo=UTC)
            pages.append(Page(pid, t["url"], root / "html" / f"{pid}.html.gz", crawl,
                              body=t.get("body")))
        return pages
    root = SHARED / name
    labels = json.loads((root / "labels.json").read_text(encoding="utf-8"))
    return [Page(pid, t.get("url") or "", root / "html" / f"{pid}.html.gz",
                 with_=_snippets(t.get("with")), without=_snippets(t.get("without")))
            for pid, t in labels.items()]


def read_raw(page: Page) -> bytes:
    with gzip.open(page.path, "rb") as fh:
        return fh.read()


def _tokens(text: str | None) -> Counter[str]:
    return Counter(_TOKEN.findall((text or "").lower()))


def token_f1(pred: str | None, gold: str | None) -> float:
    p, g = _tokens(pred), _tokens(gold)
    common = sum((p & g).values()) if p and g else 0
    if common == 0:
        return 0.0
    precision, recall = common / sum(p.values()), common / sum(g.values())
    return 2 * precision * recall / (precision + recall)


def _fold(text: str | None) -> str:
    return _WS.sub(" ", unicodedata.normalize("NFKC", text or "")).strip().casefold()


def text_score(texts: dict[str, str | None], pages: list[Page]) -> float | None:
    """Mean token F1 against the whole text, else snippet F1 (as benchmarks/metadata.py
    scores the same sets); None when the set labels no text."""
    bodies = [p for p in pages if p.body is not None]
    if bodies:
        return sum(token_f1(texts.get(p.id), p.body) for p in bodies) / len(bodies)
    tp = fn = fp = 0
    for p in pages:
        folded = _fold(texts.get(p.id))
        hits = sum(1 for s in p.with_ if _fold(s) and _fold(s) in folded)
        tp, fn = tp + hits, fn + len(p.with_) - hits
        fp += sum(1 for s in p.without if _fold(s) and _fold(s) in folded)
    if tp + fn + fp == 0:
        return None
    precision, recall = tp / max(1, tp + fp), tp / max(1, tp + fn)
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


def measure(page: Page) -> dict[str, Any]:
    """The text path of etl.extract.document.read_html (one parse, structured bodies read
    before trafilatura, the same options and fallback rule) without the metadata rules,
    which do not touch the text; the title checked for repair is trafilatura's."""
    import trafilatura

    from etl.decode import DecodeError, decode_page
    from etl.extract.repair import repair_text
    from etl.extract.settings import TRAFILATURA_OPTIONS
    from etl.extract.structured_body import fallback_body, structured_bodies
    from etl.extract.words import count_words
    from etl.validate import MOJIBAKE_REGEXES, TEXT_DAMAGE_MAX_SHARE, text_damage, title_damage

    damage = re.compile("|".join(MOJIBAKE_REGEXES))

    raw = read_raw(page)
    try:
        html, how, _ = decode_page(raw)
    except DecodeError:
        return {"id": page.id, "charset": "decode_error"}
    out: dict[str, Any] = {"id": page.id, "charset": how, "found": False}
    try:
        tree = trafilatura.load_html(html)
    except (TypeError, ValueError):
        return out
    if tree is None:
        return out
    trafilatura_input: Any = tree
    if tree.getparent() is not None:
        from etl.extract.metadata.page import parse_html

        trafilatura_input, tree = html, parse_html(html)
    bodies = structured_bodies(tree)
    document = trafilatura.bare_extraction(trafilatura_input, url=page.url,
                                           with_metadata=True, **TRAFILATURA_OPTIONS)
    data = document.as_dict() if document is not None else {}
    off = data.get("text") or ""
    body = fallback_body(bodies, off) if bodies else None
    text = body if body is not None else off
    if not text.strip():
        return out
    repaired, text_fixed = repair_text(text)
    title, title_fixed = repair_text(data.get("title"))
    out.update({
        "found": True, "off_found": bool(off.strip()), "structured": body is not None,
        "has_structured": bool(bodies),
        "text_on": repaired, "text_off": repair_text(off)[0],
        "text_repaired": text_fixed, "title_repaired": title_fixed,
        # the rule before this one: any single mark in the text or title rejected
        "damaged_any": bool(damage.search(text) or damage.search(data.get("title") or "")),
        "damaged_before": (text_damage(text) > TEXT_DAMAGE_MAX_SHARE
                           or title_damage(data.get("title")) > 1),
        "damaged_after": text_damage(repaired) > TEXT_DAMAGE_MAX_SHARE or title_damage(title) > 1,
        "old_words": len(_OLD_WORD.findall(repaired)), "words": count_words(repaired),
    })
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    rows = []
    for name in args.sets.split(","):
        pages = load_pages(name)
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            results = list(pool.map(measure, pages, chunksize=4))
        charsets = Counter(r["charset"] for r in results)
        found = [r for r in results if r.get("found")]
        count: Counter[str] = Counter()
        for r in found:
            for key in ("has_structured", "structured", "text_repaired", "title_repaired",
                        "damaged_any", "damaged_before", "damaged_after"):
                count[key] += bool(r[key])
            count["only_structured"] += r["structured"] and not r["off_found"]
            count["short_before"] += r["old_words"] < 50
            count["short_after"] += r["words"] < 50
        by_id = {p.id: p for p in pages}
        for r in found:  # the fired pages' own F1 change, where the whole text is labelled
            page = by_id[r["id"]]
            if r["structured"] and page.body is not None:
                delta = token_f1(r["text_on"], page.body) - token_f1(r["text_off"], page.body)
                count["fired_up" if delta > 0 else "fired_down" if delta < 0 else "fired_same"] += 1
        off = text_score({r["id"]: r.get("text_off") for r in results}, pages)
        on = text_score({r["id"]: r.get("text_on") for r in results}, pages)
        rows.append([
            name, len(pages), len(found),
            ", ".join(f"{k} {v}" for k, v in sorted(charsets.items())),
            count["text_repaired"], count["title_repaired"],
            f"{count['damaged_any']} / {count['damaged_before']} → {count['damaged_after']}",
            f"{count['short_before']} → {count['short_after']}",
            f"{count['structured']} of {count['has_structured']} "
            f"({count['only_structured']} with no trafilatura text)",
            f"+{count['fired_up']} / -{count['fired_down']} / ={count['fired_same']}"
            if any(p.body is not None for p in pages) else "–",
            "–" if off is None else f"{off:.4f}", "–" if on is None else f"{on:.4f}",
        ])
        print(json.dumps(rows[-1], ensure_ascii=False), file=sys.stderr, flush=True)
    table = markdown_table(
        ["set", "pages", "text found", "charset (how decided)", "text repaired",
         "title repaired",
         "rejected as damaged: old rule (any mark) / new rule before → after repair",
         "< 50 words (old → new count)", "structured body fired (of pages with one)",
         "fired pages' F1 up/down/same", "text F1 off", "text F1 on"],
        rows)
    print(table)
    if args.out:
        args.out.write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
