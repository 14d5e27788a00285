"""Extraction (cached) and out-of-fold rule selection for benchmarks/metadata.py.

Each page is extracted once per code version: bare trafilatura's fields, and the pipeline's
text (before the text rules), trafilatura fields and `PageFacts` (pickled under --cache).
The rules then choose title, date and author from the facts, and the text rules filter the
text, under any set of enabled rule names, which is cheap, so a rule set is scored without
re-parsing.

Selection (`select_rules`): greedy backward elimination per field, counted in publishers:
a rule stays only if, with the other rules still on, it helps at least two more training
publishers than it hurts, and hurts two or more beyond those it helps in no labelled set;
a whole chooser (`REPLACING`) is then weighed the same way against the rules that stayed.
Folds (`assign_folds`) hold whole publishers and a share of every set.
"""

from __future__ import annotations

import hashlib
import os
import pickle
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from metadata_sets import Page, parse_dt, read_raw, score_field

REPO = Path(__file__).resolve().parents[1]


# The cache key: the gathering of the facts the rules read. The rule modules (rules,
# titles, published, authors, names, refine) run on the facts at scoring time, so editing
# them never stales the cache.
_FACT_SOURCES = ("etl/extract/metadata/page.py", "etl/extract/metadata/datelines.py",
                 "etl/extract/metadata/placement.py", "etl/extract/metadata/jsonld.py",
                 "etl/extract/metadata/dates.py", "etl/extract/metadata/text.py")
# Recorded with each entry, not part of the key: the text and whether the page is kept come
# from these (edited often by others); the report counts entries taken from other versions.
_TEXT_SOURCES = ("etl/decode.py", "etl/extract/document.py", "etl/extract/settings.py",
                 "etl/extract/structured_body.py", "etl/extract/repair.py")


def _hash(names: tuple[str, ...], seed: str = "") -> str:
    digest = hashlib.sha256(seed.encode())
    for name in names:
        path = REPO / name
        digest.update(path.read_bytes() if path.exists() else b"-")
    return digest.hexdigest()[:16]


def code_version() -> str:
    """The cache key of the pipeline part: trafilatura's version and the fact gathering."""
    import trafilatura

    return _hash(_FACT_SOURCES, trafilatura.__version__)


def text_version() -> str:
    return _hash(_TEXT_SOURCES)


def _bare(raw: bytes, url: str) -> dict[str, Any]:
    """trafilatura with its defaults on the raw bytes (it decodes them itself)."""
    from trafilatura import bare_extraction

    doc = bare_extraction(raw, url=url, with_metadata=True)
    data = doc.as_dict() if doc is not None else {}
    return {"text": data.get("text"), "title": data.get("title"),
            "date": parse_dt(data.get("date")), "author": data.get("author")}


def _pipeline(raw: bytes, url: str, fetched_at: Any) -> dict[str, Any]:
    """What the extract stage stores (etl.extract.document.read_html) plus the facts the
    rules read, from the same tree read_html reads them from."""
    import trafilatura

    from etl.decode import decode_html
    from etl.extract.document import read_html
    from etl.extract.metadata.page import parse_html, read_facts

    html = decode_html(raw)
    found = read_html(html, url, fetched_at)
    if found is None:  # no article: the page is lost whatever the rules
        return {"text": None, "data": None, "facts": None, "text_version": text_version()}
    data, _meta = found
    tree = trafilatura.load_html(html)
    if tree is not None and tree.getparent() is not None:
        tree = parse_html(html)
    keep = {k: data.get(k) for k in ("title", "author", "sitename", "date")}
    # The text before the text rules (etl.extract.metadata.body): they run at scoring time,
    # under each rule set, like the metadata rules.
    text = data.get("extracted_text", data.get("text"))
    return {"text": text, "data": keep, "facts": read_facts(tree),
            "text_version": text_version()}


def _cached(path: Path | None, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    if path is not None and path.exists():
        with open(path, "rb") as fh:
            return pickle.load(fh)
    result = compute()
    if path is not None:
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(result, fh)
        tmp.replace(path)
    return result


def _extract(task: tuple[str, Page, str, str | None]) -> tuple[str, dict[str, Any]]:
    """Bare trafilatura (cached by its version) and the pipeline (cached by code_version)."""
    import trafilatura

    key, page, version, cache = task
    raw = read_raw(page)
    digest = hashlib.sha256(raw + page.url.encode() + str(page.fetched_at).encode()).hexdigest()
    folder = Path(cache) if cache else None
    bare = _cached(folder / f"bare-{trafilatura.__version__}-{digest[:32]}.pkl" if folder
                   else None, lambda: _bare(raw, page.url))
    ours = _cached(folder / f"ours-{version}-{digest[:32]}.pkl" if folder else None,
                   lambda: _pipeline(raw, page.url, page.fetched_at))
    if ours.get("data") is not None and "date" not in ours["data"]:
        # entries cached before trafilatura's own date was kept: htmldate as read_html runs
        # it (TRAFILATURA_OPTIONS' date_extraction_params), cached beside them
        import htmldate

        found = _cached(folder / f"htmldate-{htmldate.__version__}-{digest[:32]}.pkl"
                        if folder else None, lambda: {"date": _htmldate(raw, page.url)})
        ours = {**ours, "data": {**ours["data"], "date": found["date"]}}
    return key, {"bare": bare, **ours}


def _htmldate(raw: bytes, url: str) -> str | None:
    from htmldate import find_date

    from etl.decode import decode_html
    from etl.extract.settings import TRAFILATURA_OPTIONS

    params = TRAFILATURA_OPTIONS.get("date_extraction_params") or {}
    try:
        return find_date(decode_html(raw), url=url or None, **params)
    except Exception:  # htmldate on a page it cannot read: no date, as in trafilatura
        return None


def extract_all(pages: dict[str, Page], cache: Path | None, workers: int = 2
                ) -> dict[str, dict[str, Any]]:
    """Every page's extraction, keyed like `pages`, through a pool of `workers` processes."""
    version = code_version()
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    # Pages in id order (ids are hashes: a random order), so that a run cut short has
    # covered an even sample of every set, and pages shared by two sets come once.
    order = sorted(pages, key=lambda k: (pages[k].set != "news-metadata", pages[k].id))
    tasks = [(key, pages[key], version, str(cache) if cache else None) for key in order]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(_extract, tasks, chunksize=8))


# --------------------------------------------------------------------------- rules


def field_pred(field: str, page: Page, ex: dict[str, Any], rules: frozenset[str]) -> Any:
    """One field as refine_metadata chooses it under `rules` (the same calls, one field);
    the text as the text rules (etl.extract.metadata.body) leave it."""
    from etl.extract.metadata.authors import choose_author
    from etl.extract.metadata.body import refine_body
    from etl.extract.metadata.published import choose_date
    from etl.extract.metadata.refine import refine_metadata
    from etl.extract.metadata.titles import choose_title, site_names

    facts, data = ex["facts"], ex["data"]
    if field == "text":
        return refine_body(ex["text"], facts, rules)
    if data is None:
        return None
    if facts is None:
        meta = refine_metadata(None, page.url, data, page.fetched_at, rules)
        return {"title": meta.title, "date": meta.published_at, "author": meta.author}[field]
    if field == "date":
        return choose_date(facts, page.fetched_at, (page.url, facts.canonical_url),
                           rules, data.get("date")).published_at
    if "site_names" not in ex:  # the same under every rule set: read once per page
        ex["site_names"] = site_names(facts, page.url, data)
    if field == "title":
        return choose_title(facts, page.url, data, rules, ex["site_names"])[0]
    return choose_author(facts, data, ex["site_names"], rules)[0]


class Scorer:
    """Field scores of pages under rule sets, memoised on the rules of that field."""

    def __init__(self, pages: dict[str, Page], extracted: dict[str, dict[str, Any]],
                 field_rules: dict[str, list[str]]) -> None:
        self.pages, self.extracted, self.field_rules = pages, extracted, field_rules
        self._memo: dict[tuple[str, str, frozenset[str]], float | None] = {}

    def page_score(self, key: str, field: str, rules: frozenset[str]) -> float | None:
        own = rules & frozenset(self.field_rules[field])
        memo_key = (key, field, own)
        if memo_key not in self._memo:
            page = self.pages[key]
            pred = {field: field_pred(field, page, self.extracted[key], own)}
            self._memo[memo_key] = score_field(field, pred, page)
        return self._memo[memo_key]


def support(scorer: Scorer, keys: list[str], field: str, rules: frozenset[str], rule: str
            ) -> dict[str, tuple[int, int]]:
    """Per set, (publishers helped, publishers hurt) by `rule` within `rules` on the pages
    `keys`: a publisher is helped when its pages score higher with the rule than without."""
    without = rules - {rule}
    delta: dict[tuple[str, str], float] = {}
    for key in keys:
        with_score = scorer.page_score(key, field, rules)
        if with_score is None:
            continue
        page = scorer.pages[key]
        change = with_score - (scorer.page_score(key, field, without) or 0.0)
        delta[(page.set, page.group)] = delta.get((page.set, page.group), 0.0) + change
    out: dict[str, tuple[int, int]] = {}
    for (set_name, _group), change in delta.items():
        helped, hurt = out.get(set_name, (0, 0))
        out[set_name] = (helped + (change > 0), hurt + (change < 0))
    return out


# Rules that, when on, replace the field's other rules (a whole chooser): weighed against
# the selection of the others, not against all of them on, so a chooser is compared with
# what the folds would otherwise keep, rather than with every single-page rule at once.
REPLACING = frozenset({"title.agree"})


def select_rules(scorer: Scorer, keys: list[str], field: str, start: frozenset[str],
                 min_support: int = 2, log: Callable[[str], None] | None = None
                 ) -> frozenset[str]:
    """Greedy backward elimination of `field`'s rules on the training pages `keys`.

    A rule stays only while, among the rules still on, it helps at least `min_support`
    more training publishers than it hurts (summed over the sets), and in no set hurts
    `min_support` or more publishers beyond those it helps. So a rule that does not change
    the training score goes, one that fixes a single publisher's pages goes, and one that
    helps one set at another's expense goes. Rules are tried from the last in priority
    order to the first (so of two sources that state the same value the earlier one is
    kept), in passes until no rule goes. A rule in `REPLACING` is then weighed, by the same
    test, against the rules that stayed.
    """
    current = frozenset(r for r in start if r in scorer.field_rules[field])
    replacing = current & REPLACING
    current -= replacing
    changed = True
    while changed:
        changed = False
        for rule in reversed(scorer.field_rules[field]):
            if rule not in current:
                continue
            if not _stays(scorer, keys, field, current, rule, min_support, log):
                current, changed = current - {rule}, True
    for rule in sorted(replacing):
        if _stays(scorer, keys, field, current | {rule}, rule, min_support, log):
            current |= {rule}
    return current


def _stays(scorer: Scorer, keys: list[str], field: str, rules: frozenset[str], rule: str,
           min_support: int, log: Callable[[str], None] | None) -> bool:
    per_set = support(scorer, keys, field, rules, rule)
    net = sum(helped - hurt for helped, hurt in per_set.values())
    if net < min_support or any(hurt - helped >= min_support
                                for helped, hurt in per_set.values()):
        if log:
            log(f"  {field}: drop {rule} ({per_set})")
        return False
    return True


def assign_folds(pages: dict[str, Page], k: int) -> dict[str, int]:
    """Fold of each page: whole publishers, balanced per set by page count, in an order
    fixed by a hash of the publisher (the same folds on every run)."""
    by_group: dict[str, list[str]] = {}
    for key, page in pages.items():
        by_group.setdefault(page.group, []).append(key)
    groups = sorted(by_group, key=lambda g: hashlib.sha256(g.encode()).hexdigest())
    # Largest groups first so the folds come out even; a group goes to the fold that holds
    # the fewest pages of the set the group has most pages in.
    groups.sort(key=lambda g: -len(by_group[g]))
    load: dict[tuple[str, int], int] = {}
    total = [0] * k
    fold_of: dict[str, int] = {}
    for group in groups:
        keys = by_group[group]
        sets = [pages[key].set for key in keys]
        main_set = max(sorted(set(sets)), key=sets.count)  # sorted: ties the same every run
        fold = min(range(k), key=lambda f: (load.get((main_set, f), 0), total[f], f))
        for key in keys:
            fold_of[key] = fold
            load[(pages[key].set, fold)] = load.get((pages[key].set, fold), 0) + 1
            total[fold] += 1
    return fold_of
