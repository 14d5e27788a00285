"""Quality benchmark of near-duplicate detection (MinHash + LSH), used to pick DEFAULT_SETTINGS.

Corpus
------
Real article bodies come from the article-extraction benchmark
(``ground-truth.json``: ``{id: {"articleBody", "url"}}``, 181 articles in several languages),
read in place from ``../shared/data/article-extraction-benchmark`` next to the repository or
from ``$NEWS_ETL_BENCH_DATA_EXTRACTION``; nothing is copied into the repository.

Every article long enough to be checked (``min_words``) is a *base story*. From each base the
script derives five syndicated copies, the way wire stories reappear on other sites:

* ``exact``     – an identical copy;
* ``header_footer`` – a site header (site, section, byline, date) and a site footer ("Read
  more" links to other headlines, newsletter blurb, copyright) added; the boilerplate comes
  from one of four fixed "sites", so copies of *different* stories on the same site share it
  (hard negatives);
* ``prefix80``  – only the first 80 % of the words (trimmed ending);
* ``edits5``    – ~5 % of the words replaced by corpus words or removed;
* ``reorder``   – paragraphs shuffled (sentence blocks if the article has one paragraph).

Evaluation follows the warehouse path exactly: the band keys of the stored documents (all
bases and all ``header_footer`` copies) are put in a dict, standing in for the indexed SQL
table; every document is then checked as a new arrival against the others: candidates are
stored documents sharing any band key, confirmed when the estimated Jaccard is >= threshold.
A pair is a true duplicate iff both documents derive from the same base story, so the
negatives are all pairs of different articles — including the most similar pairs of
different articles (by exact shingle overlap, listed in the report as "hard negatives") and
same-site copies sharing boilerplate. Precision and recall are computed over unordered pairs.

Run: ``.venv/bin/python benchmarks/dedup_quality.py [--out FILE] [--seed N] [--no-sweep]``
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from _common import publish_report

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from etl.dedup.minhash import (
    DEFAULT_SETTINGS,
    NearDupSettings,
    band_keys,
    shingles,
    signature,
    similarity,
    tokens,
)

DEFAULT_DATA = (
    Path(__file__).resolve().parents[1].parent / "shared/data/article-extraction-benchmark"
)
THRESHOLDS = [round(0.30 + 0.05 * i, 2) for i in range(13)]  # 0.30 .. 0.90
VARIANTS = ("exact", "header_footer", "prefix80", "edits5", "reorder")
STORED_KINDS = ("base", "header_footer")  # what the simulated warehouse holds

SITES = (
    (
        "THE MORNING LEDGER | {section} | By {author} | Published {date}",
        "Read more: {links}\nSign up for the Morning Ledger newsletter and get the day's top "
        "stories in your inbox every morning. © 2024 The Morning Ledger. All rights reserved. "
        "This material may not be published, broadcast, rewritten or redistributed.",
    ),
    (
        "{section} — Riverside Courier — {date} — Reporting by {author}",
        "Related stories: {links}\nThe Riverside Courier is an independent newsroom. Support "
        "our journalism: subscribe today for unlimited access. Copyright 2024 Riverside "
        "Media Group.",
    ),
    (
        "Metro Wire / {section} / {date} / {author}, staff writer",
        "More from Metro Wire: {links}\nFollow us on social media for breaking news. Have a "
        "tip? Email the newsroom. Terms of use | Privacy policy | Cookie settings.",
    ),
    (
        "Global Dispatch · {section} · Updated {date} · {author}",
        "You may also like: {links}\nComments are closed for this article. Global Dispatch "
        "uses cookies to improve your experience. © Global Dispatch Ltd, all rights reserved.",
    ),
)
SECTIONS = ("World", "Business", "Technology", "Culture", "Politics", "Science", "Sport")
AUTHORS = ("Jane Miller", "Ahmed Rahman", "Sofia Rossi", "Lukas Becker", "Mei Chen", "Olga Ivanova")


@dataclass(frozen=True)
class Doc:
    story: int  # index of the base article it derives from
    kind: str  # "base" or a variant name
    text: str


# --------------------------------------------------------------------------- corpus


def load_articles(data_dir: Path) -> list[str]:
    path = data_dir / "ground-truth.json"
    with path.open(encoding="utf-8") as fh:
        data = json.load(fh)
    return [v["articleBody"] for _, v in sorted(data.items()) if v.get("articleBody")]


_PARA_SPLIT = re.compile(r"\n\s*\n|\n")
_SENT_SPLIT = re.compile(r"(?<=[.!?。！？])\s*")


def _headline(text: str, rng: random.Random) -> str:
    # ~8 words, or ~16 characters of a script without spaces (whose whitespace "words" are
    # whole clauses and would paste half of another article into the footer).
    words = text.split()
    if len(words) * 4 < len(tokens(text)):
        start = rng.randrange(max(1, len(text) - 16))
        return text[start : start + 16].replace("\n", " ")
    start = rng.randrange(max(1, len(words) - 10))
    return " ".join(words[start : start + 8])


def header_footer(text: str, others: list[str], rng: random.Random, site: int) -> str:
    head_t, foot_t = SITES[site]
    date = f"{rng.randint(1, 28)} March 2024, {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
    header = head_t.format(section=rng.choice(SECTIONS), author=rng.choice(AUTHORS), date=date)
    links = "\n".join("• " + _headline(rng.choice(others), rng) for _ in range(3))
    return f"{header}\n\n{text}\n\n{foot_t.format(links=links)}"


def _prefix_tokens(text: str, keep: int) -> str:
    """Shortest prefix of ``text`` with ``keep`` tokens, original layout preserved."""
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi) // 2
        if len(tokens(text[:mid])) >= keep:
            hi = mid
        else:
            lo = mid + 1
    return text[:lo]


def prefix80(text: str) -> str:
    # Trimmed ending: 80 % of the tokens (characters for CJK).
    return _prefix_tokens(text, int(len(tokens(text)) * 0.8))


def edits5(text: str, vocab: list[str], rng: random.Random) -> str:
    # Edit ~5 % of the whitespace words (half replaced, half removed); for CJK, whose
    # "words" are whole clauses, edit ~5 % of the characters instead.
    if len(text.split()) * 4 < len(tokens(text)):
        chars = list(text)
        for i in rng.sample(range(len(chars)), max(1, len(chars) // 20)):
            chars[i] = (
                rng.choice("的是了在有和人这中大为上个国我以要他时来用们")
                if rng.random() < 0.5
                else ""
            )
        return "".join(chars)
    parts = re.split(r"(\s+)", text)
    word_idx = [i for i, p in enumerate(parts) if p and not p.isspace()]
    for i in rng.sample(word_idx, max(1, len(word_idx) // 20)):
        parts[i] = rng.choice(vocab) if rng.random() < 0.5 else ""
    return "".join(parts)


def reorder(text: str, rng: random.Random) -> str:
    paras = [p for p in _PARA_SPLIT.split(text) if p.strip()]
    if len(paras) < 3:  # one block: shuffle groups of sentences instead
        sents = [s for s in _SENT_SPLIT.split(text) if s.strip()]
        size = max(1, len(sents) // 4)
        paras = [" ".join(sents[i : i + size]) for i in range(0, len(sents), size)]
    order = list(range(len(paras)))
    while len(order) > 1 and order == sorted(order):
        rng.shuffle(order)
    return "\n\n".join(paras[i] for i in order)


def build_corpus(articles: list[str], min_words: int, seed: int) -> tuple[list[Doc], int]:
    rng = random.Random(seed)
    bases = [a for a in articles if len(tokens(a)) >= min_words]
    vocab = sorted({w for a in bases for w in a.split() if w.isalpha() and len(w) > 3})
    docs: list[Doc] = []
    for story, text in enumerate(bases):
        others = bases[:story] + bases[story + 1 :]
        docs.append(Doc(story, "base", text))
        docs.append(Doc(story, "exact", text))
        docs.append(
            Doc(story, "header_footer", header_footer(text, others, rng, story % len(SITES)))
        )
        docs.append(Doc(story, "prefix80", prefix80(text)))
        docs.append(Doc(story, "edits5", edits5(text, vocab, rng)))
        docs.append(Doc(story, "reorder", reorder(text, rng)))
    return docs, len(articles) - len(bases)


# --------------------------------------------------------------------------- evaluation


@dataclass
class Evaluation:
    settings: NearDupSettings
    candidate_sims: dict[tuple[int, int], float]  # pair -> estimated Jaccard, candidates only
    positives: set[tuple[int, int]]  # all true duplicate pairs
    candidates_per_query: float
    exempt_docs: int  # documents the signature declined (below min_words)

    def counts(self, threshold: float) -> tuple[int, int, int]:
        predicted = {p for p, s in self.candidate_sims.items() if s >= threshold}
        tp = len(predicted & self.positives)
        return tp, len(predicted) - tp, len(self.positives) - tp

    def precision_recall(self, threshold: float) -> tuple[float, float]:
        tp, fp, fn = self.counts(threshold)
        return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def evaluate(
    docs: list[Doc], sigs: list[np.ndarray | None], settings: NearDupSettings
) -> Evaluation:
    # The dict plays the warehouse's indexed (band_key -> article) table.
    keys = [band_keys(s, settings) if s is not None else [] for s in sigs]
    index: dict[int, list[int]] = defaultdict(list)
    stored = [i for i, d in enumerate(docs) if d.kind in STORED_KINDS]
    for i in stored:
        for key in keys[i]:
            index[key].append(i)
    candidate_sims: dict[tuple[int, int], float] = {}
    n_candidates = []
    for q, sig in enumerate(sigs):
        if sig is None:
            continue
        cands = {d for key in keys[q] for d in index.get(key, ()) if d != q}
        n_candidates.append(len(cands))
        for d in cands:
            pair = (min(q, d), max(q, d))
            if pair not in candidate_sims:
                candidate_sims[pair] = similarity(sig, sigs[d])
    # Every pair a query could have matched: query x stored document, different documents.
    stored_set = set(stored)
    positives = {
        (min(q, d), max(q, d))
        for q in range(len(docs))
        for d in stored_set
        if q != d and docs[q].story == docs[d].story
    }
    return Evaluation(
        settings,
        candidate_sims,
        positives,
        statistics.mean(n_candidates) if n_candidates else 0.0,
        sum(s is None for s in sigs),
    )


def timed_signatures(docs: list[Doc], settings: NearDupSettings) -> tuple[list, list[float]]:
    sigs, times = [], []
    for d in docs:
        t0 = time.perf_counter()
        sigs.append(signature(d.text, settings))
        times.append((time.perf_counter() - t0) * 1000)
    return sigs, times


def datasketch_ms(docs: list[Doc], settings: NearDupSettings) -> float | None:
    """Same shingles through datasketch's MinHash, for the speed comparison only."""
    try:
        from datasketch import MinHash
    except ImportError:
        return None
    t0 = time.perf_counter()
    for d in docs:
        mh = MinHash(num_perm=settings.num_perm, seed=settings.seed)
        mh.update_batch([v.to_bytes(8, "little") for v in shingles(d.text, settings.shingle_size)])
    return (time.perf_counter() - t0) * 1000 / len(docs)


# --------------------------------------------------------------------------- report


def curve_table(ev: Evaluation) -> list[str]:
    lines = [
        "| threshold | precision | recall | F1 | TP | FP | FN |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for t in THRESHOLDS:
        tp, fp, fn = ev.counts(t)
        p, r = ev.precision_recall(t)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        mark = " **(default)**" if abs(t - ev.settings.threshold) < 1e-9 else ""
        lines.append(f"| {t:.2f}{mark} | {p:.4f} | {r:.4f} | {f1:.4f} | {tp} | {fp} | {fn} |")
    return lines


def recall_by_variant(docs: list[Doc], sigs: list, ev: Evaluation) -> list[str]:
    base_of = {d.story: i for i, d in enumerate(docs) if d.kind == "base"}
    t = ev.settings.threshold
    lines = [
        "| variant vs its base | pairs | LSH candidate | recall | min est. Jaccard | median |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for kind in VARIANTS:
        pairs = [
            (min(i, base_of[d.story]), max(i, base_of[d.story]))
            for i, d in enumerate(docs)
            if d.kind == kind
        ]
        sims = [similarity(sigs[a], sigs[b]) for a, b in pairs]
        cand = sum(p in ev.candidate_sims for p in pairs)
        hit = sum(ev.candidate_sims.get(p, 0.0) >= t for p in pairs)
        lines.append(
            f"| {kind} | {len(pairs)} | {cand / len(pairs):.4f} | "
            f"{hit / len(pairs):.4f} | {min(sims):.3f} | {statistics.median(sims):.3f} |"
        )
    return lines


def hard_negatives(docs: list[Doc], sigs: list, settings: NearDupSettings, top: int) -> list[str]:
    bases = [i for i, d in enumerate(docs) if d.kind == "base"]
    sets = {i: shingles(docs[i].text, settings.shingle_size) for i in bases}
    scored = []
    for a, b in itertools.combinations(bases, 2):
        inter = len(sets[a] & sets[b])
        if inter:
            scored.append((inter / len(sets[a] | sets[b]), a, b))
    scored.sort(reverse=True)
    keys = {i: set(band_keys(sigs[i], settings)) for i in bases}
    lines = [
        "| pair (base ids) | exact Jaccard | est. Jaccard | shares a band | flagged |",
        "|---|---:|---:|:-:|:-:|",
    ]
    for jac, a, b in scored[:top]:
        est = similarity(sigs[a], sigs[b])
        shared = bool(keys[a] & keys[b])
        flagged = shared and est >= settings.threshold
        lines.append(
            f"| {docs[a].story}–{docs[b].story} | {jac:.3f} | {est:.3f} | "
            f"{'yes' if shared else 'no'} | {'**YES**' if flagged else 'no'} |"
        )
    return lines


def separation(docs: list[Doc], sigs: list) -> tuple[float, float, float]:
    """(max est. Jaccard over pairs of different stories, 1st and 5th percentile over
    duplicate pairs), all pairs of documents, LSH aside: the margin the threshold sits in."""
    ok = [i for i, s in enumerate(sigs) if s is not None]
    mat = np.stack([sigs[i] for i in ok])
    story = np.array([docs[i].story for i in ok])
    neg_max, pos = 0.0, []
    for row in range(len(ok)):
        sims = (mat[row + 1 :] == mat[row]).mean(axis=1)
        same = story[row + 1 :] == story[row]
        if (~same).any():
            neg_max = max(neg_max, float(sims[~same].max()))
        pos.extend(sims[same].tolist())
    return neg_max, float(np.percentile(pos, 1)), float(np.percentile(pos, 5))


def sweep(docs: list[Doc], base: NearDupSettings) -> list[str]:
    """Precision/recall at each setting's best-F1 threshold (and at the default threshold)."""
    shapes = (
        (128, 32, 4),
        (128, 16, 8),
        (126, 42, 3),
        (125, 25, 5),
        (128, 64, 2),
        (64, 16, 4),
        (256, 64, 4),
    )
    lines = [
        "| shingle | perms | bands×rows | LSH knee | cand./query | neg. max | pos. p1 | pos. p5 "
        f"| P@t={base.threshold} | R@t={base.threshold} | best t | P@best | R@best |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    cache: dict[tuple[int, int], list] = {}
    seps: dict[tuple[int, int], tuple[float, float, float]] = {}
    for size in (2, 3, 4, 5):
        for num_perm, bands, rows in shapes:
            s = replace(base, shingle_size=size, num_perm=num_perm, bands=bands, rows=rows)
            if (size, num_perm) not in cache:  # banding does not change the signature
                cache[size, num_perm] = [signature(d.text, s) for d in docs]
            sigs = cache[size, num_perm]
            if (size, num_perm) not in seps:
                seps[size, num_perm] = separation(docs, sigs)
            neg_max, pos_p1, pos_p5 = seps[size, num_perm]
            ev = evaluate(docs, sigs, s)
            p0, r0 = ev.precision_recall(s.threshold)
            best = max(THRESHOLDS, key=lambda t: _f1(*ev.precision_recall(t)))
            pb, rb = ev.precision_recall(best)
            lines.append(
                f"| {size} | {num_perm} | {bands}×{rows} | {s.lsh_threshold:.2f} | "
                f"{ev.candidates_per_query:.2f} | {neg_max:.3f} | {pos_p1:.3f} | {pos_p5:.3f} | "
                f"{p0:.4f} | {r0:.4f} | {best:.2f} | "
                f"{pb:.4f} | {rb:.4f} |"
            )
    return lines


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def length_table(articles: list[str], base: NearDupSettings, seed: int) -> list[str]:
    """Detection quality on texts cut to N tokens, nothing exempt: the basis of min_words.

    Short texts are where the fixed-size site boilerplate of ``header_footer`` copies
    dominates: it both hides true copies and makes different stories look alike.
    """
    s = replace(base, min_words=0)
    lines = [
        "| tokens per base | bases | precision | recall | recall header_footer | FP |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for n in (10, 20, 30, 50, 75, 100, 200):
        cut = [_prefix_tokens(a, n) for a in articles if len(tokens(a)) >= n]
        docs, _ = build_corpus(cut, 0, seed)
        sigs = [signature(d.text, s) for d in docs]
        ev = evaluate(docs, sigs, s)
        p, r = ev.precision_recall(s.threshold)
        _, fp, _ = ev.counts(s.threshold)
        base_of = {d.story: i for i, d in enumerate(docs) if d.kind == "base"}
        hf = [
            (min(i, base_of[d.story]), max(i, base_of[d.story]))
            for i, d in enumerate(docs)
            if d.kind == "header_footer"
        ]
        r_hf = sum(ev.candidate_sims.get(x, 0.0) >= s.threshold for x in hf) / len(hf)
        lines.append(f"| {n} | {len(cut)} | {p:.4f} | {r:.4f} | {r_hf:.4f} | {fp} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="also write the markdown report here")
    parser.add_argument("--seed", type=int, default=20240301, help="variant generation seed")
    parser.add_argument("--no-sweep", action="store_true", help="skip the settings grid")
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("NEWS_ETL_BENCH_DATA_EXTRACTION", DEFAULT_DATA)),
        help="directory holding ground-truth.json",
    )
    args = parser.parse_args(argv)
    if not (args.data / "ground-truth.json").is_file():
        print(
            f"error: {args.data / 'ground-truth.json'} not found "
            "(set NEWS_ETL_BENCH_DATA_EXTRACTION)",
            file=sys.stderr,
        )
        return 2

    settings = DEFAULT_SETTINGS
    articles = load_articles(args.data)
    docs, exempt = build_corpus(articles, settings.min_words, args.seed)
    signature(docs[0].text, settings)  # warm caches (hash family, regexes) before timing
    sigs, times = timed_signatures(docs, settings)
    ev = evaluate(docs, sigs, settings)
    p, r = ev.precision_recall(settings.threshold)
    ds = datasketch_ms(docs, settings)
    n_bases = len(docs) // 6

    out = [
        "# Near-duplicate detection quality",
        "",
        f"Settings: `{settings}`; LSH knee (1/b)^(1/r) = {settings.lsh_threshold:.3f}.",
        "",
        f"Corpus: {len(articles)} articles, {n_bases} bases with >= {settings.min_words} "
        f"tokens ({exempt} exempt as short), {len(docs)} documents "
        f"({len(ev.positives)} duplicate pairs); variant seed {args.seed}.",
        f"Stored in the simulated warehouse: {', '.join(STORED_KINDS)}; "
        f"{ev.candidates_per_query:.2f} LSH candidates per query on average.",
        "",
        f"**At the default threshold {settings.threshold}: precision {p:.4f}, recall {r:.4f}** "
        "(targets: precision >= 0.98, recall >= 0.95).",
        "",
        f"Signature time per document: mean {statistics.mean(times):.2f} ms, median "
        f"{statistics.median(times):.2f} ms, p95 {np.percentile(times, 95):.2f} ms, max "
        f"{max(times):.2f} ms (mean {statistics.mean(len(tokens(d.text)) for d in docs):.0f} "
        "tokens per document)"
        + (f"; datasketch MinHash on the same shingles: {ds:.2f} ms." if ds else "."),
        "",
        "## Threshold curve (full path: band-key candidates, then estimated Jaccard)",
        "",
        *curve_table(ev),
        "",
        "## Recall per variant",
        "",
        *recall_by_variant(docs, sigs, ev),
        "",
        "## Hard negatives: most similar pairs of different articles",
        "",
        *hard_negatives(docs, sigs, settings, top=10),
        "",
        "## Text length (first N tokens of each article, nothing exempt, default threshold)",
        "",
        *length_table(articles, settings, args.seed),
    ]
    if not args.no_sweep:
        out += ["", "## Settings grid", "", *sweep(docs, settings)]
    report = "\n".join(out) + "\n"
    publish_report(report, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
