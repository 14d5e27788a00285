"""Longest tests first under pytest-xdist, so the suite does not end on one long test.

A handful of tests (the Airflow end-to-end runs, the browser, the fault injections) take
minutes each. In collection order they came last: in a 12-minute run one xdist worker had
nothing left for the final 160 s while three ran Airflow tests side by side. On two cores
that cost no time (the suite is CPU-bound, and three Airflow runs keep both cores busy);
with cores to spare, a tail of long tests is what decides when the suite ends.

`--dist worksteal` hands each worker one contiguous slice of the collection, in order, and
idle workers steal from the tail of another's slice. So the tests marked
`@pytest.mark.long(seconds)` — their usual wall time here, a scheduling hint only — are
dealt longest first to the least-loaded slice (LPT), and each slice starts with its share.
Without xdist the order is left alone. Every worker reorders the same collection the same
way, as xdist requires.
"""

from __future__ import annotations

import os
from itertools import islice

import pytest

MARKER = ("long(seconds): a test that usually takes this many seconds of wall time here; "
          "under pytest-xdist the longest start first, spread over the workers")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", MARKER)


def slice_sizes(total: int, workers: int) -> list[int]:
    """The sizes of the slices worksteal's first distribution cuts `total` tests into."""
    sizes = []
    for i in range(workers):
        size = total // (workers - i)
        sizes.append(size)
        total -= size
    return sizes


def longest_first(items: list, workers: int) -> list:
    """`items` reordered so that each of the `workers` slices starts with its share of the
    marked tests (longest first, each to the slice with the least marked time so far)."""
    weight = {}
    for item in items:
        marker = item.get_closest_marker("long")
        if marker is not None:
            weight[item.nodeid] = float(marker.args[0])
    if workers < 2 or not weight:
        return items
    loads = [0.0] * workers
    heads: list[list] = [[] for _ in range(workers)]
    for item in sorted((i for i in items if i.nodeid in weight),
                       key=lambda i: -weight[i.nodeid]):
        lightest = loads.index(min(loads))
        heads[lightest].append(item)
        loads[lightest] += weight[item.nodeid]
    rest = iter([i for i in items if i.nodeid not in weight])
    ordered: list = []
    for head, size in zip(heads, slice_sizes(len(items), workers), strict=True):
        ordered += head
        ordered += islice(rest, max(0, size - len(head)))
    ordered += list(rest)  # more marked tests than a slice holds: nothing is dropped
    return ordered


@pytest.hookimpl(trylast=True)  # after -m/-k have deselected
def pytest_collection_modifyitems(config: pytest.Config, items: list) -> None:
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    items[:] = longest_first(items, workers)
