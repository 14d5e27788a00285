"""The throughput corpus: the benchmark pages replicated into distinct copies.

Every copy has its own file name, ~30 % of the words of its text nodes replaced by other
words of the same page (so exact and near dedup keep it), its canonical/og:url links moved
to a per-copy path (else exact dedup on canonical URL would drop it) and its meta charset
set to UTF-8 (the copy is written as UTF-8).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
from pathlib import Path

from _common import extraction_data_dir

REPLACE_RATE = 0.30

_SEGMENT = re.compile(r"(<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>)",
                      re.S | re.I)
_WORD = re.compile(r"[^\W\d_]{3,}")
_URL_ATTR = re.compile(r"""((?:href|content)\s*=\s*["'])(https?://[^"'\s>]+)""", re.I)
_CHARSET = re.compile(r"""charset\s*=\s*["']?[A-Za-z0-9_:.\-]+""", re.I)
_JSON_URL = re.compile(r'("(?:url|@id|mainEntityOfPage)"\s*:\s*")(https?://[^"]+)')

Pages = dict[str, tuple[bytes, str, str]]  # id → (raw bytes, ground-truth URL, articleBody)


def load_pages() -> Pages:
    """id → (raw bytes, ground-truth URL, articleBody)."""
    data = extraction_data_dir()
    truth = json.loads((data / "ground-truth.json").read_text(encoding="utf-8"))
    pages = {}
    for path in sorted((data / "html").glob("*.html.gz")):
        key = path.name.split(".")[0]
        if key in truth:
            pages[key] = (gzip.decompress(path.read_bytes()), truth[key].get("url") or "",
                          truth[key].get("articleBody") or "")
    return pages


def _moved(url: str, copy: int) -> str:
    base, _, query = url.partition("?")
    return f"{base.rstrip('/')}/copy-{copy}" + (f"?{query}" if query else "")


def mutate(html: str, copy: int, rng: random.Random) -> str:
    """A distinct copy of a page: words replaced, canonical URLs moved, charset UTF-8."""
    parts = _SEGMENT.split(html)
    vocab = [w for part in parts[::2] for w in _WORD.findall(part)] or ["news"]

    def swap(match: re.Match[str]) -> str:
        return rng.choice(vocab) if rng.random() < REPLACE_RATE else match.group(0)

    for i, part in enumerate(parts):
        if i % 2 == 0:
            parts[i] = _WORD.sub(swap, part)
            continue
        low = part[:40].lower()
        if low.startswith(("<link", "<meta")):
            if "canonical" in part or "og:url" in part or "twitter:url" in part:
                part = _URL_ATTR.sub(lambda m: m.group(1) + _moved(m.group(2), copy), part)
            parts[i] = _CHARSET.sub("charset=utf-8", part)
        elif low.startswith("<script") and "ld+json" in part[:200]:
            parts[i] = _JSON_URL.sub(lambda m: m.group(1) + _moved(m.group(2), copy), part)
    return "".join(parts)


def build_corpus(folder: Path, pages: Pages, n: int, seed: int = 7) -> list[Path]:
    """n distinct copies, round-robin over the pages; file names sort in creation order."""
    from etl.decode import decode_html

    folder.mkdir(parents=True, exist_ok=True)
    decoded = [(key, decode_html(raw)) for key, (raw, _, _) in pages.items()]
    paths = []
    for i in range(n):
        key, html = decoded[i % len(decoded)]
        path = folder / f"{i:06d}_{key[:16]}.html"
        if not path.exists():
            copy = i // len(decoded)
            rng = random.Random(f"{seed}-{key}-{copy}")
            path.write_text(mutate(html, copy, rng), encoding="utf-8")
        paths.append(path)
    return paths


def subset(folder: Path, paths: list[Path]) -> Path:
    """A folder holding exactly `paths` (hard links: no copy, same page-cache pages)."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in paths:
        target = folder / path.name
        if not target.exists():
            os.link(path, target)
    return folder
