"""benchmarks/metadata_select: a whole chooser (`REPLACING`, e.g. `title.agree`) is weighed
against the rules the folds keep without it, not against every rule on at once."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[3] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from metadata_select import REPLACING, Scorer, select_rules  # noqa: E402
from metadata_sets import Page  # noqa: E402

RULES = ["title.solid", "title.one_page", "title.agree"]


def _page(key: str) -> Page:
    return Page(set="a", id=key, url=f"https://pub-{key}.example/x", path=Path("/nonexistent"),
                group=f"pub-{key}.example", fetched_at=None, title="t")


class ChooserScorer(Scorer):
    """With `title.agree` on, a page scores `agree[key]` whatever else is on; without it,
    1 when every rule in `needs[key]` is on."""

    def __init__(self, pages, needs, agree):
        super().__init__(pages, {}, {"title": RULES})
        self.needs, self.agree = needs, agree

    def page_score(self, key, field, rules):
        if "title.agree" in rules:
            return self.agree[key]
        return float(all(r in rules for r in self.needs.get(key, ())))


def _scorer(agree_right: int) -> ChooserScorer:
    """Ten publishers: `solid` fixes k0-k5, `one_page` fixes k6 only; the chooser gets
    k0-k5 right, k6 wrong, and `agree_right` of k7-k9."""
    pages = {f"k{i}": _page(f"k{i}") for i in range(10)}
    needs = {**{f"k{i}": ["title.solid"] for i in range(6)}, "k6": ["title.one_page"],
             **{f"k{i}": ["title.never"] for i in range(7, 10)}}
    agree = {f"k{i}": float(i < 6 or 7 <= i < 7 + agree_right) for i in range(10)}
    return ChooserScorer(pages, needs, agree)


def test_title_agree_is_a_replacing_rule():
    assert "title.agree" in REPLACING


def test_a_chooser_is_kept_when_it_beats_what_the_others_keep():
    # Against every rule on, the chooser helps k7 and k8 but loses k6 (the single-page
    # rule's page): one more helped than hurt, so it would go. Weighed against the rules
    # that stay (solid alone) it helps two and hurts nobody.
    scorer = _scorer(agree_right=2)
    start = frozenset(RULES)
    assert select_rules(scorer, list(scorer.pages), "title", start) == {
        "title.solid", "title.agree"}


def test_a_chooser_that_does_not_help_enough_publishers_goes():
    scorer = _scorer(agree_right=1)  # helps k7 only: 1 more than it hurts, below 2
    assert select_rules(scorer, list(scorer.pages), "title", frozenset(RULES)) == {"title.solid"}
