"""Checking that request starts are paced, on a machine that may be loaded.

A limiter spaces the moments it grants a start; the start is observed (stamped, or seen by
the server) a little after its grant, later when the process or thread is descheduled. One
late observation shortens the gap before it and lengthens the one after, so a check on each
gap fails on a loaded machine although nothing was impolite. The rate is what a host sees:
any three consecutive starts must span at least two gaps, less the lateness allowed. Starts
that are not paced at all, or paced by limiters that do not share their state, put three
starts within one gap somewhere, so the check still tells them apart when `lateness` is
below one gap.
"""

from __future__ import annotations

from collections.abc import Iterable


def assert_paced(starts: Iterable[float], min_gap: float, lateness: float) -> None:
    """Every three consecutive `starts` span at least 2 * min_gap - lateness seconds."""
    assert lateness < min_gap, "a lateness of a whole gap cannot tell unpaced starts apart"
    times = sorted(starts)
    assert len(times) >= 3, times
    spans = [round(last - first, 3) for first, last in zip(times, times[2:], strict=False)]
    assert min(spans) >= 2 * min_gap - lateness, (min_gap, spans)
