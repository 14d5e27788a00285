"""tests/support/scheduling.py: the longest tests start first, one slice of the
collection per xdist worker, and nothing is lost or repeated."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from support.scheduling import longest_first, slice_sizes


@dataclass
class Marker:
    args: tuple


@dataclass
class Item:
    nodeid: str
    seconds: float | None = None

    def get_closest_marker(self, name: str) -> Marker | None:
        return Marker((self.seconds,)) if name == "long" and self.seconds else None


def collection() -> list[Item]:
    items = [Item(f"t{i}") for i in range(20)]
    items[3].seconds, items[9].seconds, items[15].seconds = 30, 200, 90
    items[18].seconds, items[19].seconds = 120, 60
    return items


@pytest.mark.parametrize("total, workers", [(20, 4), (21, 4), (5, 3), (1580, 4)])
def test_slices_are_cut_as_worksteal_cuts_them(total, workers):
    sizes = slice_sizes(total, workers)
    assert sum(sizes) == total and max(sizes) - min(sizes) <= 1
    assert sizes == sorted(sizes)  # worksteal hands the remainder to the later workers


def test_each_slice_starts_with_its_share_of_the_longest_tests():
    ordered = longest_first(collection(), workers=4)
    assert sorted(i.nodeid for i in ordered) == sorted(i.nodeid for i in collection())
    heads = [ordered[start].nodeid for start in (0, 5, 10, 15)]
    assert heads == ["t9", "t18", "t15", "t19"]  # 200, 120, 90, 60 each to an empty slice
    # The fifth (30 s) joins the least-loaded slice, behind its head.
    assert ordered[16].nodeid == "t3"
    # The unmarked tests keep their order.
    rest = [i.nodeid for i in ordered if i.seconds is None]
    assert rest == [i.nodeid for i in collection() if i.seconds is None]


def test_without_workers_or_marks_the_order_is_left_alone():
    items = collection()
    assert longest_first(items, workers=0) == items
    plain = [Item(f"t{i}") for i in range(6)]
    assert longest_first(plain, workers=4) == plain


def test_more_marked_tests_than_a_slice_holds_are_all_kept():
    items = [Item(f"t{i}", seconds=10 + i) for i in range(7)] + [Item("x")]
    ordered = longest_first(items, workers=4)
    assert sorted(i.nodeid for i in ordered) == sorted(i.nodeid for i in items)
