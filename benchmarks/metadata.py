"""Score text, title, date and author on every labelled set, in-sample and out-of-fold.

Usage::

    .venv/bin/python benchmarks/metadata.py [--out FILE] [--folds 5] [--workers 2]
        [--sets news-metadata,trafilatura-eval,htmldate-eval] [--cache DIR | --no-cache]
        [--details FILE] [--via-cli]

Sets (benchmarks/metadata_sets.py): news-metadata (130 pages, body/title/date/authors),
trafilatura-eval (990 pages, text snippets, title/author/date for most), htmldate-eval
(799 pages, dates). Columns:

  bare        trafilatura's `bare_extraction` with its defaults
  all rules   our extraction with every rule of etl/extract/metadata/rules.py on
  in-sample   our extraction as production runs it (DEFAULT_RULES), scored on every page
  out-of-fold the pages are split into k folds by publisher (registered domain of the page
              URL; the folds hold a share of every set); for each fold the rules are chosen
              on the other folds only (metadata_select.select_rules: a rule stays if it
              helps at least --min-support more training publishers than it hurts and
              hurts no set by that many; a whole chooser, `title.agree`, is weighed
              against the rules kept without it) and the held-out fold is scored with
              them; the figure pools the held-out folds

Text is trafilatura's with our options (and the structured-body fallback), filtered by the
text rules (etl/extract/metadata/body.py), which are chosen per fold like the others.
With --via-cli the news-metadata pages also go through `news-etl ingest`.
The labels are read by the benchmark only; nothing under etl/ ever sees them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
for path in (REPO, Path(__file__).resolve().parent):  # runnable as a plain script
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from _common import publish_report  # noqa: E402
from metadata_cli import extract_via_cli  # noqa: E402
from metadata_select import Scorer, assign_folds, extract_all, select_rules  # noqa: E402
from metadata_sets import FIELDS, SETS, Page, labelled, load_set, mean_field  # noqa: E402
from metadata_titles import title_table  # noqa: E402

TARGETS = {"text": 0.95, "title": 0.85, "date": 0.98, "author": 0.90}
RULE_FIELDS = ("title", "date", "author", "text")


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def _preds(keys: list[str], pages: dict[str, Page], get: Any) -> dict[str, dict[str, Any]]:
    """{page id: {field: value}} for mean_field, from get(key) -> {field: value}."""
    return {pages[k].id: get(k) for k in keys}


def run(args: argparse.Namespace) -> tuple[str, dict[str, Any]]:
    from etl.extract.metadata.rules import ALL_RULES, DEFAULT_RULES, RULES, rules_of

    sets = args.sets.split(",")
    pages: dict[str, Page] = {}
    for name in sets:
        root = Path(os.environ["NEWS_ETL_BENCH_DATA"]) if (
            name == "news-metadata" and os.environ.get("NEWS_ETL_BENCH_DATA")) else None
        for page in load_set(name, root):
            if name != "news-metadata" and int(page.id[:4], 16) >= args.sample * 0x10000:
                continue  # --sample: an even share by id (ids are hashes)
            pages[f"{name}/{page.id}"] = page
    t0 = time.perf_counter()
    ex = extract_all(pages, None if args.no_cache else args.cache, args.workers)
    t_extract = time.perf_counter() - t0
    from metadata_select import text_version

    args.stale_text = sum(1 for e in ex.values() if e.get("text_version") != text_version())

    scorer = Scorer(pages, ex, {f: rules_of(f) for f in RULE_FIELDS})
    fold_of = assign_folds(pages, args.folds)
    chosen: list[frozenset[str]] = []
    for fold in range(args.folds):
        train = [k for k in pages if fold_of[k] != fold]
        rules: frozenset[str] = frozenset()
        for field in RULE_FIELDS:
            rules |= select_rules(scorer, train, field, ALL_RULES, args.min_support)
        chosen.append(rules)
    survived = Counter(r for rules in chosen for r in rules)

    by_set = {name: [k for k in pages if pages[k].set == name] for name in sets}
    results: dict[str, dict[str, dict[str, float | None]]] = {}
    for name, keys in by_set.items():
        row: dict[str, dict[str, float | None]] = {}
        bare = _preds(keys, pages, lambda k: ex[k]["bare"])
        for field in FIELDS:
            if not labelled(field, [pages[k] for k in keys]):
                continue
            row[field] = {
                "bare": mean_field(field, bare, [pages[k] for k in keys]),
                "all": _mean(scorer, keys, field, lambda k: ALL_RULES),
                "in": _mean(scorer, keys, field, lambda k: DEFAULT_RULES),
                "oof": _mean(scorer, keys, field, lambda k: chosen[fold_of[k]]),
            }
        results[name] = row

    folds_table = _fold_rows(pages, ex, scorer, fold_of, chosen, args.folds)
    effects = _rule_effects(scorer, by_set, DEFAULT_RULES, ALL_RULES)
    report = _report(args, pages, results, folds_table, survived, effects, RULES,
                     DEFAULT_RULES, t_extract)
    if any(p.title is not None for p in pages.values()):
        report += "\n".join(["", "Title: the chooser by agreement against the fixed-priority "
                             "rules (benchmarks/metadata_titles.py):", "",
                             *title_table(scorer, pages, ex, fold_of, chosen, args.folds,
                                          args.min_support)]) + "\n"
    cli = None
    if args.via_cli and "news-metadata" in by_set:
        cli = extract_via_cli([pages[k] for k in by_set["news-metadata"]])
        keys = by_set["news-metadata"]
        report += "\n" + _cli_table(cli, [pages[k] for k in keys])
    state = {"pages": pages, "ex": ex, "scorer": scorer, "fold_of": fold_of, "chosen": chosen}
    return report, state


def _mean(scorer: Scorer, keys: list[str], field: str, rules_for: Any) -> float | None:
    """The field's figure on `keys` under the rules `rules_for(key)`: the mean page score,
    except the text, scored as metadata_sets.text_score pools it (snippet F1 over a set)."""
    if field == "text":
        from metadata_select import field_pred

        preds = {scorer.pages[k].id: {"text": field_pred(
            "text", scorer.pages[k], scorer.extracted[k], rules_for(k))} for k in keys}
        return mean_field("text", preds, [scorer.pages[k] for k in keys])
    values = [v for v in (scorer.page_score(k, field, rules_for(k)) for k in keys)
              if v is not None]
    return sum(values) / len(values) if values else None


def _fold_rows(pages, ex, scorer, fold_of, chosen, k) -> list[list[str]]:
    rows = []
    for fold in range(k):
        keys = [key for key in pages if fold_of[key] == fold and pages[key].set == "news-metadata"]
        if not keys:
            continue
        cells = [str(fold + 1), str(len({pages[key].group for key in keys})), str(len(keys))]
        bare = _preds(keys, pages, lambda key: ex[key]["bare"])
        for field in RULE_FIELDS:
            cells.append(f"{_fmt(mean_field(field, bare, [pages[key] for key in keys]))} / "
                         f"{_fmt(_mean(scorer, keys, field, lambda key, f=fold: chosen[f]))}")
        rows.append(cells)
    return rows


def _rule_effects(scorer, by_set, default, all_rules) -> dict[str, dict[str, float | None]]:
    """Per rule and set: its field's score with the rule minus without it, from the
    production set (a rule off in production: added to it)."""
    from etl.extract.metadata.rules import RULES

    effects: dict[str, dict[str, float | None]] = {}
    for name, rule in RULES.items():
        with_rule, without = default | {name}, default - {name}
        effects[name] = {}
        for set_name, keys in by_set.items():
            a = _mean(scorer, keys, rule.field, lambda k, r=with_rule: r)
            b = _mean(scorer, keys, rule.field, lambda k, r=without: r)
            effects[name][set_name] = None if a is None or b is None else a - b
    return effects


def _report(args, pages, results, folds_table, survived, effects, rules_by_name, default,
            t_extract) -> str:
    k = args.folds
    command = " ".join([".venv/bin/python benchmarks/metadata.py", *args.argv])
    nm = results.get("news-metadata", {})
    lines = ["<!-- summary -->",
             "| metric | target | out-of-fold | in-sample | bare trafilatura | command |",
             "|---|---|---|---|---|---|"]
    for field in FIELDS:
        if field in nm:
            r = nm[field]
            lines.append(f"| news-metadata {field} | ≥ {TARGETS[field]:.2f} | "
                         f"**{_fmt(r['oof'])}** | {_fmt(r['in'])} | {_fmt(r['bare'])} | "
                         f"`{command}` |")
    for name in results:
        if name == "news-metadata":
            continue
        for field, r in results[name].items():
            lines.append(f"| {name} {field} | ≥ bare | **{_fmt(r['oof'])}** | {_fmt(r['in'])} | "
                         f"{_fmt(r['bare'])} | `{command}` |")
    lines += ["<!-- /summary -->", ""]
    n_sets = ", ".join(f"{n} {sum(1 for p in pages.values() if p.set == n)}" for n in results)
    lines += [
        f"Pages: {n_sets}; {len({p.group for p in pages.values()})} publishers (registered "
        f"domains) in {k} folds. Extraction {t_extract:.0f} s with {args.workers} workers"
        f"{' (cache ' + str(args.cache) + ')' if not args.no_cache else ''}"
        + (f"; sample {args.sample:.0%} of trafilatura-eval and htmldate-eval by page id"
           if args.sample < 1 else "")
        + (f"; the text of {args.stale_text} pages comes from a cached extraction by an "
           f"earlier version of etl/decode.py and etl/extract/ (text only: the rules run "
           f"on current code)" if args.stale_text else "") + ".",
        "",
        "Out-of-fold: for each fold, each field's rules are chosen by greedy backward "
        "elimination on the other folds (a rule stays only if it helps at least "
        f"{args.min_support} more training publishers than it hurts, summed over the sets, "
        f"and in no set hurts {args.min_support} or more beyond those it helps; rules are "
        "tried from the lowest priority up; the title chooser `title.agree`, which replaces "
        "the other title rules, is weighed last against the title rules kept without it), "
        "and the held-out fold is scored with them. In-sample: "
        "the production rule set (DEFAULT_RULES) scored on every page. All rules: every rule "
        "on (the set before selection). The text rules (etl/extract/metadata/body.py) are "
        "chosen the same way, a page helped or hurt by its own text score (token F1, or the "
        "share of its snippets judged right).",
        "",
        "| set | field | pages | bare | all rules | in-sample | out-of-fold | target |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, row in results.items():
        set_pages = [p for p in pages.values() if p.set == name]
        for field, r in row.items():
            target = f"{TARGETS[field]:.2f}" if name == "news-metadata" else "≥ bare"
            lines.append(f"| {name} | {field} | {labelled(field, set_pages)} | {_fmt(r['bare'])} | "
                         f"{_fmt(r['all'])} | {_fmt(r['in'])} | {_fmt(r['oof'])} | {target} |")
    lines += ["", "news-metadata per fold (bare / out-of-fold pipeline):", "",
              "| fold | publishers | pages | title | date | author | text |",
              "|---:|---:|---:|---|---|---|---|"]
    lines += ["| " + " | ".join(cells) + " |" for cells in folds_table]
    set_names = list(results)
    lines += ["", f"Rules: folds in which selection kept each (of {k}); production keeps those "
              f"kept in a majority. Effect = the field's score with the rule minus without it, "
              f"from the production set, per set (+ helps, − hurts).", "",
              "| rule | field | kept in folds | production | "
              + " | ".join(f"effect {n}" for n in set_names) + " |",
              "|---|---|---:|---|" + "---:|" * len(set_names)]
    for name, rule in rules_by_name.items():
        cells = [f"{effects[name][n]:+.3f}" if effects[name].get(n) is not None else "–"
                 for n in set_names]
        lines.append(f"| `{name}` | {rule.field} | {survived.get(name, 0)}/{k} | "
                     f"{'on' if name in default else 'off'} | " + " | ".join(cells) + " |")
    majority = sorted(r for r in rules_by_name if survived.get(r, 0) > k / 2)
    if set(majority) != set(default):
        lines += ["", f"**Note:** DEFAULT_RULES differs from the rules kept in a majority of "
                  f"folds: on but not kept {sorted(set(default) - set(majority))}, kept but off "
                  f"{sorted(set(majority) - set(default))}."]
    return "\n".join(lines) + "\n"


def _cli_table(cli: dict[str, dict[str, Any]], pages: list[Page]) -> str:
    lines = ["news-metadata through `news-etl ingest` (--via-cli, production rules):", "",
             "| field | via CLI |", "|---|---:|"]
    for field in FIELDS:
        lines.append(f"| {field} | {_fmt(mean_field(field, cli, pages))} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, help="also write the markdown report here")
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--sample", type=float, default=1.0,
                        help="share of the trafilatura-eval and htmldate-eval pages to use "
                             "(by id; news-metadata is always whole)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--min-support", type=int, default=2,
                        help="publishers a rule must help beyond those it hurts to stay")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/news-etl-bench-cache"),
                        help="pickled extractions, keyed by page and code version")
    parser.add_argument("--no-cache", action="store_true")
    parser.add_argument("--details", type=Path, help="per-page predictions (JSON lines)")
    parser.add_argument("--via-cli", action="store_true",
                        help="also run the news-metadata pages through `news-etl ingest`")
    args = parser.parse_args(argv)
    raw = list(sys.argv[1:] if argv is None else argv)
    # the command as run, without where the output goes (for the summary table)
    args.argv = [a for i, a in enumerate(raw) if not (
        a in ("--out", "--details") or (i and raw[i - 1] in ("--out", "--details")))]
    if args.folds < 2:
        parser.error("--folds must be at least 2")
    report, state = run(args)
    publish_report(report, args.out)
    if args.details:
        _write_details(args.details, state)
    return 0


def _write_details(path: Path, state: dict[str, Any]) -> None:
    from metadata_select import field_pred
    from metadata_sets import score_field

    from etl.extract.metadata.rules import DEFAULT_RULES

    pages, ex, fold_of, chosen = state["pages"], state["ex"], state["fold_of"], state["chosen"]
    with open(path, "w", encoding="utf-8") as fh:
        for key, page in pages.items():
            row: dict[str, Any] = {"key": key, "url": page.url, "fold": fold_of[key] + 1}
            for field in RULE_FIELDS:
                ours = field_pred(field, page, ex[key], DEFAULT_RULES)
                oof = field_pred(field, page, ex[key], chosen[fold_of[key]])
                if field == "text":  # scores only: the texts would swamp the file
                    row[field] = {"score": score_field(field, {field: ours}, page),
                                  "oof": score_field(field, {field: oof}, page),
                                  "bare": score_field(field, ex[key]["bare"], page),
                                  "extracted": score_field(field, {field: ex[key]["text"]},
                                                           page)}
                    continue
                gold = {"title": page.title, "date": page.date, "author": page.authors}[field]
                row[field] = {"ours": str(ours), "oof": str(oof),
                              "bare": str(ex[key]["bare"].get(field)), "gold": str(gold),
                              "score": score_field(field, {field: ours}, page)}
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
