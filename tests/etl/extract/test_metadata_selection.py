"""The out-of-fold rule selection of benchmarks/metadata.py: folds hold whole publishers and
come out the same on every run; a rule stays only when it helps several publishers and hurts
no set."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from metadata_select import Scorer, assign_folds, select_rules  # noqa: E402
from metadata_sets import Page, publisher_of  # noqa: E402


def _page(key: str, set_name: str, group: str) -> Page:
    return Page(set=set_name, id=key, url=f"https://{group}/{key}", path=Path("/nonexistent"),
                group=group, fetched_at=None, title="t")


def test_folds_hold_whole_publishers_and_are_the_same_every_run():
    pages = {f"p{i}": _page(f"p{i}", "a" if i % 3 else "b", f"pub{i % 7}.example")
             for i in range(60)}
    folds = assign_folds(pages, 5)
    assert folds == assign_folds(dict(reversed(pages.items())), 5)
    by_group: dict[str, set[int]] = {}
    for key, fold in folds.items():
        by_group.setdefault(pages[key].group, set()).add(fold)
    assert all(len(f) == 1 for f in by_group.values())
    assert len(set(folds.values())) == 5


def test_publisher_is_the_registered_domain():
    assert publisher_of("https://news.example.co.uk/a") == "example.co.uk"
    assert publisher_of("https://m.example.com/a") == "example.com"


class FakeScorer(Scorer):
    """Pages score 1 when every rule that fixes them is on (`fixes`), minus the harm of
    rules that break them (`breaks`)."""

    def __init__(self, pages, fixes, breaks):
        super().__init__(pages, {}, {"title": ["title.good", "title.single", "title.mixed"]})
        self.fixes, self.breaks = fixes, breaks

    def page_score(self, key, field, rules):
        score = float(all(r in rules for r in self.fixes.get(key, ())))
        return 0.0 if any(r in rules for r in self.breaks.get(key, ())) else score


def test_selection_keeps_a_rule_of_many_publishers_and_drops_a_single_page_rule():
    pages = {f"k{i}": _page(f"k{i}", "b" if i in (6, 7, 8, 9) else "a", f"pub{i}.example")
             for i in range(12)}
    fixes = {"k0": ["title.good"], "k1": ["title.good"], "k6": ["title.good"],
             "k2": ["title.single"],
             **{k: ["title.mixed"] for k in ("k3", "k4", "k5", "k10", "k11")}}
    breaks = {"k8": ["title.mixed"], "k9": ["title.mixed"]}
    scorer = FakeScorer(pages, fixes, breaks)
    start = frozenset({"title.good", "title.single", "title.mixed"})
    # good: 3 publishers helped; single: 1 (goes); mixed: 5 helped in set a, 2 hurt in set b:
    # 3 more helped than hurt, but set b vetoes it
    assert select_rules(scorer, list(pages), "title", start) == {"title.good"}
    assert select_rules(scorer, list(pages), "title", start, min_support=1) == {
        "title.good", "title.single"}


def test_text_rules_are_weighed_per_page_on_the_text_before_them():
    from metadata_select import field_pred
    from metadata_sets import page_text_score, score_field

    from etl.extract.metadata.page import PageFacts

    body = Page(set="a", id="b", url="https://pub.example/b", path=Path("/nonexistent"),
                group="pub.example", fetched_at=None, body="quiet harbour reopens today")
    ex = {"text": "Harbour news\nquiet harbour reopens today", "data": None,
          "facts": PageFacts(h1=["Harbour news"])}
    on = field_pred("text", body, ex, frozenset({"text.drop_headline"}))
    off = field_pred("text", body, ex, frozenset())
    assert (on, off) == ("quiet harbour reopens today", ex["text"])
    assert score_field("text", {"text": on}, body) == 1.0
    assert score_field("text", {"text": off}, body) < 1.0
    snippets = Page(set="t", id="s", url="", path=Path("/nonexistent"), group="x",
                    fetched_at=None, with_=("reopens today",), without=("Harbour news",))
    assert page_text_score(on, snippets) == 1.0  # both snippets judged right
    assert page_text_score(off, snippets) == 0.5  # the unwanted one found
    assert page_text_score(on, _page("n", "a", "pub.example")) is None  # nothing labelled
