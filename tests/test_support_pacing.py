"""The pacing check the politeness tests rely on tells impolite starts from late ones."""

from __future__ import annotations

import pytest
from support.pacing import assert_paced


def test_paced_starts_with_one_late_arrival_pass() -> None:
    starts = [0.0, 1.0, 2.37, 3.0, 4.0, 5.0]  # the third seen 0.37 s late: a gap of 0.63
    assert_paced(starts, 1.0, lateness=0.6)
    starts = [0.0, 1.5, 3.79, 4.5, 6.0]  # 1.5 s gaps, the third 0.79 s late: a gap of 0.71
    assert_paced(starts, 1.5, lateness=0.9)


@pytest.mark.parametrize(("starts", "gap"), [
    ([0.0, 0.01, 0.02, 0.03], 0.5),  # not paced at all
    ([0.0, 0.4, 1.0, 1.4, 2.0, 2.4], 1.0),  # two runs paced 1 s each, limiters not shared
    ([0.0, 0.7, 1.5, 2.2, 3.0, 3.7], 1.5),  # the same at 1.5 s (tests/etl/fetch concurrency)
    ([0.0, 0.05, 0.1, 0.2, 0.25, 0.3], 0.2),  # three streams paced 0.2 s each, not shared
])
def test_unpaced_or_unshared_starts_fail(starts: list[float], gap: float) -> None:
    with pytest.raises(AssertionError):
        assert_paced(starts, gap, lateness=0.6 * gap)
