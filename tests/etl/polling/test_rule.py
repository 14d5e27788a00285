"""The polling rule on a simulated clock: weeks of polls in milliseconds, no sleeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from etl.polling import (
    DEFAULT_POLICY,
    FailureKind,
    PollResult,
    PollState,
    PollStatus,
    Transition,
    after_poll,
    is_due,
    new_state,
    next_interval,
)

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
MIN, MAX = DEFAULT_POLICY.min_interval, DEFAULT_POLICY.max_interval
HARD = PollResult(error="cannot fetch …: http_410", failure_kind=FailureKind.HARD)
SOFT = PollResult(error="cannot fetch …: http_503", failure_kind=FailureKind.SOFT)


@dataclass
class SimulatedFeed:
    """A feed publishing every `every`; a poll finds what was published since the last."""

    name: str
    every: timedelta
    state: PollState = field(init=False)
    polls: list[datetime] = field(default_factory=list)
    seen_until: datetime = T0

    def __post_init__(self) -> None:
        self.state = new_state(self.name, T0)

    def poll(self, now: datetime) -> None:
        # Stories are published at T0 + k·every, k ≥ 1: those in (seen_until, now].
        new = (now - T0) // self.every - (self.seen_until - T0) // self.every
        self.seen_until = now
        self.polls.append(now)
        self.state, _ = after_poll(self.state, PollResult(new), now)


def run_scheduler(feeds: list[SimulatedFeed], until: datetime) -> None:
    """What the hourly DAG does, minute by minute: poll every feed that is due."""
    now = T0
    while now <= until:
        for feed in feeds:
            if is_due(feed.state, now):
                feed.poll(now)
        now += timedelta(minutes=5)


def test_a_busy_feed_is_polled_more_often_than_a_quiet_one() -> None:
    busy = SimulatedFeed("busy", every=timedelta(minutes=7))
    quiet = SimulatedFeed("quiet", every=timedelta(days=3))
    run_scheduler([busy, quiet], T0 + timedelta(days=7))
    assert busy.state.interval == MIN  # settled at the floor
    # A story every 3 days: a poll that finds one halves the interval, empty ones bring it
    # back up to the 24 h ceiling.
    assert quiet.state.interval >= timedelta(hours=12)
    assert max(b - a for a, b in pairwise(quiet.polls)) == MAX
    last_day = T0 + timedelta(days=6)
    busy_polls = sum(1 for t in busy.polls if t >= last_day)
    quiet_polls = sum(1 for t in quiet.polls if t >= last_day)
    assert busy_polls >= 90  # every 15 minutes (on the 5-minute scheduler grid)
    assert quiet_polls <= 2
    assert len(busy.polls) > 20 * len(quiet.polls)
    # The observed rate follows what each publishes: ~206 a day and ~1/3 a day.
    assert busy.state.items_per_day == pytest.approx(24 * 60 / 7, rel=0.15)
    assert quiet.state.items_per_day < 1


def test_the_interval_shortens_with_news_and_lengthens_without_within_bounds() -> None:
    assert next_interval(timedelta(hours=1), 3) == timedelta(minutes=30)
    assert next_interval(timedelta(hours=1), 0) == timedelta(minutes=90)
    assert next_interval(timedelta(minutes=20), 5) == MIN
    assert next_interval(timedelta(hours=20), 0) == MAX
    state = new_state("s", T0)
    for hour in range(1, 200):  # never polled quieter than 24 h, nor busier than 15 min
        state, _ = after_poll(state, PollResult(hour % 3), T0 + timedelta(hours=hour))
        assert MIN <= state.interval <= MAX


def test_the_first_poll_reads_the_backlog_and_keeps_the_start_interval() -> None:
    state, change = after_poll(new_state("s", T0), PollResult(20), T0)
    assert (state.interval, state.next_due_at, change) == (
        DEFAULT_POLICY.start_interval, T0 + DEFAULT_POLICY.start_interval, None)
    assert state.items_per_day is None  # a backlog is not a rate
    assert state.last_success_at == state.last_polled_at == T0


def test_a_source_that_dies_is_suspended_probed_daily_and_resumes_on_its_own() -> None:
    now, state = T0, new_state("s", T0)
    transitions = []

    def poll(result: PollResult) -> None:
        nonlocal state
        state, change = after_poll(state, result, now)
        transitions.append(change)

    for _ in range(3):  # healthy, with news
        poll(PollResult(2))
        now = state.next_due_at
    alive_interval = state.interval
    poll(HARD)  # the feed answers 410 from now on: back off, keep trying
    assert state.status == PollStatus.ACTIVE and state.consecutive_failures == 1
    assert state.interval == alive_interval * 2
    while state.status == PollStatus.ACTIVE:
        now = state.next_due_at
        poll(HARD)
    assert state.consecutive_failures == DEFAULT_POLICY.suspend_after_hard
    assert transitions[-1] == Transition.SUSPENDED and state.suspended_at == now
    assert state.last_failure_kind == FailureKind.HARD
    assert state.next_due_at == now + timedelta(days=1)  # probed once a day
    suspended_at = now

    for day in range(1, 4):  # still dead: one probe a day, no second alarm
        assert not is_due(state, state.next_due_at - timedelta(seconds=1))
        now = state.next_due_at
        assert now == suspended_at + timedelta(days=day)
        poll(HARD)
        assert state.status == PollStatus.SUSPENDED and transitions[-1] is None
    assert state.suspended_at == suspended_at

    now = state.next_due_at  # it is back: the next probe succeeds
    poll(PollResult(4))
    assert transitions[-1] == Transition.RESUMED
    assert (state.status, state.consecutive_failures, state.suspended_at) == (
        PollStatus.ACTIVE, 0, None)
    assert state.next_due_at == now + DEFAULT_POLICY.start_interval
    assert transitions.count(Transition.SUSPENDED) == 1


def test_soft_failures_are_retried_soon_and_suspend_later_than_hard_ones() -> None:
    state, _ = after_poll(new_state("s", T0), PollResult(1), T0)
    state = state.__class__(**{**state.__dict__, "interval": timedelta(hours=6)})
    now, waits = T0, []
    while state.status == PollStatus.ACTIVE:
        now = state.next_due_at
        state, change = after_poll(state, SOFT, now)
        waits.append(state.next_due_at - now)
    assert state.consecutive_failures == DEFAULT_POLICY.suspend_after
    assert change == Transition.SUSPENDED and state.last_failure_kind == FailureKind.SOFT
    # 15 min, 30 min, 1 h, 2 h backoff (below the 6 h interval, which is kept), then a day.
    assert waits == [timedelta(minutes=m) for m in (15, 30, 60, 120)] + [timedelta(days=1)]
    assert state.interval == timedelta(hours=6)


def test_a_success_clears_the_failure_count() -> None:
    state = new_state("s", T0)
    for i in range(DEFAULT_POLICY.suspend_after - 1):
        state, _ = after_poll(state, SOFT, T0 + timedelta(hours=i))
    state, _ = after_poll(state, PollResult(0), T0 + timedelta(hours=10))
    assert state.consecutive_failures == 0 and state.last_failure_kind is None
    state, change = after_poll(state, SOFT, T0 + timedelta(hours=11))
    assert state.status == PollStatus.ACTIVE and change is None


def test_a_source_never_polled_is_due() -> None:
    assert is_due(None, T0)
    assert is_due(new_state("s", T0), T0)
