"""The polling rule, as pure functions of a source's poll state, one poll's result and `now`.

Nothing here reads a clock, the warehouse or the network: the caller passes `now`, so a
test drives weeks of polling with a simulated clock (tests/etl/polling) and the warehouse
code (etl.polling.store) only reads and writes what these functions decide.

The rule (docs/polling.md):

- a new source starts `active`, due at once, with a 1 h interval (the old hourly beat);
- after a poll that found new items the interval halves, after one that found none it
  grows by half; always within [15 min, 24 h]. The first poll of a source (its whole
  backlog) leaves the interval as it is. Next due = now + interval;
- a whole-source failure is `hard` (404/410, other refusals, DNS, not a feed/sitemap, a
  missing file) or `soft` (5xx, 429, timeouts, refused connections, anything unknown). A
  soft failure is retried soon (15 min, 30 min, 1 h, … never later than the interval); a
  hard one doubles the interval. The interval is kept for when the source comes back;
- after `suspend_after` consecutive failures (`suspend_after_hard` when the latest is
  hard) the source is `suspended`: the caller raises the alarm (etl.polling.store logs
  at ERROR; the view source_poll_health shows it) and it is probed once a day;
- any success resumes it: `active`, failures reset, next due after the 1 h start interval.

`items_per_day` is an exponentially weighted rate of new items (half-life 7 days of
elapsed time), for operators: the interval rule itself needs no rate estimate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from etl.records import to_utc

DAY = timedelta(days=1)


class PollStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class FailureKind(StrEnum):
    HARD = "hard"  # the source says it is gone or never was: 404/410, DNS, not a feed
    SOFT = "soft"  # it may be back soon: 5xx, timeouts, refused connections


class Transition(StrEnum):
    """A change of status the caller must announce."""

    SUSPENDED = "suspended"
    RESUMED = "resumed"


@dataclass(frozen=True)
class PollPolicy:
    min_interval: timedelta = timedelta(minutes=15)
    max_interval: timedelta = timedelta(hours=24)
    start_interval: timedelta = timedelta(hours=1)
    shorten: float = 0.5  # interval × this after a poll that found new items
    lengthen: float = 1.5  # interval × this after a poll that found none
    suspend_after: int = 5  # consecutive whole-source failures of any kind
    suspend_after_hard: int = 3  # … when the latest one is hard
    probe_every: timedelta = DAY  # a suspended source is tried this often
    rate_half_life: timedelta = timedelta(days=7)

    def clamp(self, interval: timedelta) -> timedelta:
        return max(self.min_interval, min(self.max_interval, interval))


DEFAULT_POLICY = PollPolicy()


@dataclass(frozen=True)
class PollState:
    """One row of source_poll_state."""

    source: str
    status: PollStatus
    next_due_at: datetime
    interval: timedelta
    consecutive_failures: int = 0
    last_failure_kind: FailureKind | None = None
    last_error: str | None = None
    items_per_day: float | None = None
    last_new_items: int | None = None
    last_success_at: datetime | None = None
    last_polled_at: datetime | None = None
    suspended_at: datetime | None = None


@dataclass(frozen=True)
class PollResult:
    """What one poll of a source found: new items, or a whole-source failure."""

    new_items: int = 0
    error: str | None = None
    failure_kind: FailureKind | None = None

    @property
    def failed(self) -> bool:
        return self.failure_kind is not None


def new_state(source: str, now: datetime,
              policy: PollPolicy = DEFAULT_POLICY) -> PollState:
    """A source never polled: active and due now."""
    return PollState(source, PollStatus.ACTIVE, to_utc(now), policy.start_interval)


def is_due(state: PollState | None, now: datetime) -> bool:
    """Whether a scheduled poll should read the source now (a source never polled is due;
    a suspended one is due when its daily probe is)."""
    return state is None or state.next_due_at <= to_utc(now)


def next_interval(interval: timedelta, new_items: int,
                  policy: PollPolicy = DEFAULT_POLICY) -> timedelta:
    """Shorter after a poll that found new items, longer after one that found none."""
    factor = policy.shorten if new_items > 0 else policy.lengthen
    return policy.clamp(interval * factor)


def observed_rate(previous: float | None, new_items: int, elapsed: timedelta,
                  policy: PollPolicy = DEFAULT_POLICY) -> float | None:
    """New items per day, exponentially weighted by elapsed time (None until measured)."""
    if elapsed <= timedelta(0):
        return previous
    rate = new_items / (elapsed / DAY)
    if previous is None:
        return rate
    weight = 1 - 0.5 ** (elapsed / policy.rate_half_life)
    return previous + weight * (rate - previous)


def after_poll(state: PollState, result: PollResult, now: datetime,
               policy: PollPolicy = DEFAULT_POLICY) -> tuple[PollState, Transition | None]:
    """The state after one poll (`new_state` for a source never polled) and the status
    change to announce, if any."""
    now = to_utc(now)
    first = state.last_polled_at is None
    if result.failed:
        return _after_failure(state, result, now, policy)
    resumed = state.status == PollStatus.SUSPENDED
    interval = policy.start_interval if resumed else (
        state.interval if first else next_interval(state.interval, result.new_items, policy))
    rate = state.items_per_day if state.last_polled_at is None else observed_rate(
        state.items_per_day, result.new_items, now - state.last_polled_at, policy)
    updated = replace(
        state, status=PollStatus.ACTIVE, next_due_at=now + interval, interval=interval,
        consecutive_failures=0, last_failure_kind=None, last_error=None, items_per_day=rate,
        last_new_items=result.new_items, last_success_at=now, last_polled_at=now,
        suspended_at=None)
    return updated, Transition.RESUMED if resumed else None


def _after_failure(state: PollState, result: PollResult, now: datetime,
                   policy: PollPolicy) -> tuple[PollState, Transition | None]:
    failures = state.consecutive_failures + 1
    kind = result.failure_kind
    limit = policy.suspend_after_hard if kind == FailureKind.HARD else policy.suspend_after
    interval = state.interval
    if state.status == PollStatus.SUSPENDED or failures >= limit:
        status, wait = PollStatus.SUSPENDED, policy.probe_every
    elif kind == FailureKind.HARD:
        interval = policy.clamp(interval * 2)
        status, wait = PollStatus.ACTIVE, interval
    else:  # soft: try again soon, backing off, never later than the usual interval
        status, wait = PollStatus.ACTIVE, min(policy.min_interval * 2 ** (failures - 1),
                                              interval)
    newly_suspended = status == PollStatus.SUSPENDED and state.status != PollStatus.SUSPENDED
    updated = replace(
        state, status=status, next_due_at=now + wait, interval=interval,
        consecutive_failures=failures, last_failure_kind=kind, last_error=result.error,
        last_new_items=0, last_polled_at=now,
        suspended_at=now if newly_suspended else state.suspended_at)
    return updated, Transition.SUSPENDED if newly_suspended else None
