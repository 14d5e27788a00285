"""`benchmarks/metadata.py`: the title chooser (`title.agree`) against the fixed-priority
title rules, per set, in-sample and out of fold.

Rows, on every set that labels titles:

  bare trafilatura     trafilatura's own title
  priority rules       the fixed-priority title rules (etl/extract/metadata/titles.py)
                       without the chooser: in-sample the rules kept in a majority of
                       folds, out-of-fold the rules chosen on the other folds
  chooser              `title.agree` alone, the same on every fold (nothing in it is chosen
                       per fold, so its out-of-fold figure is its in-sample one)
  selection            what the benchmark's headline uses: the chooser is one more rule the
                       folds may keep or drop (in-sample: DEFAULT_RULES)
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from metadata_select import Scorer, select_rules
from metadata_sets import Page, mean_field

CHOOSER = "title.agree"


def _mean(scorer: Scorer, keys: list[str], rules_for: Any) -> float | None:
    values = [v for v in (scorer.page_score(k, "title", rules_for(k)) for k in keys)
              if v is not None]
    return sum(values) / len(values) if values else None


def title_table(scorer: Scorer, pages: dict[str, Page], ex: dict[str, dict[str, Any]],
                fold_of: dict[str, int], chosen: list[frozenset[str]], folds: int,
                min_support: int) -> list[str]:
    """Markdown lines: the comparison table, one row per (set, method)."""
    from etl.extract.metadata.rules import ALL_RULES, DEFAULT_RULES, rules_of

    title_rules = frozenset(rules_of("title"))
    priority_start = (ALL_RULES & title_rules) - {CHOOSER}
    priority_chosen = []
    for fold in range(folds):
        train = [k for k in pages if fold_of[k] != fold]
        priority_chosen.append(select_rules(scorer, train, "title", priority_start, min_support))
    kept = Counter(r for rules in priority_chosen for r in rules)
    priority_in = frozenset(r for r, n in kept.items() if n > folds / 2)
    kept_chooser = sum(CHOOSER in rules for rules in chosen)

    def fmt(value: float | None) -> str:
        return "–" if value is None else f"{value:.3f}"

    lines = ["| set | pages | method | in-sample | out-of-fold |", "|---|---:|---|---:|---:|"]
    for set_name in sorted({p.set for p in pages.values()}):
        keys = [k for k in pages if pages[k].set == set_name and pages[k].title is not None]
        if not keys:
            continue
        bare = mean_field("title", {pages[k].id: ex[k]["bare"] for k in keys},
                          [pages[k] for k in keys])
        rows = [
            ("bare trafilatura", bare, bare),
            ("priority rules", _mean(scorer, keys, lambda k: priority_in),
             _mean(scorer, keys, lambda k: priority_chosen[fold_of[k]])),
            ("chooser (`title.agree`)", _mean(scorer, keys, lambda k: frozenset({CHOOSER})),
             _mean(scorer, keys, lambda k: frozenset({CHOOSER}))),
            ("selection (headline figure)", _mean(scorer, keys, lambda k: DEFAULT_RULES),
             _mean(scorer, keys, lambda k: chosen[fold_of[k]])),
        ]
        lines += [f"| {set_name} | {len(keys)} | {name} | {fmt(a)} | {fmt(b)} |"
                  for name, a, b in rows]
    lines += ["", f"The folds kept `{CHOOSER}` in {kept_chooser} of {folds}; without it they "
              f"kept the priority rules {sorted(priority_in)} in a majority."]
    return lines
