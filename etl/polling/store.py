"""Poll state in the warehouse (source_poll_state): read it, pick the due sources, and
record each poll's result as etl.polling.rule decides, announcing suspensions at ERROR."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from etl.polling.failures import failure_kind
from etl.polling.rule import (
    DEFAULT_POLICY,
    FailureKind,
    PollPolicy,
    PollResult,
    PollState,
    PollStatus,
    Transition,
    after_poll,
    is_due,
    new_state,
)
from etl.records import Outcome, to_utc
from etl.warehouse import Warehouse
from etl.warehouse.load import upsert
from etl.warehouse.schema import source_poll_state

log = logging.getLogger(__name__)
HOUR = timedelta(hours=1)
IN_CHUNK = 500  # names per IN (…) list: under SQLite's bound-parameter limit

# Outcomes of items a poll saw for the first time: stored, a copy of a stored article, or
# turned down by validation. not_modified items were seen before; failed ones may be
# retried and seen again.
NEW_OUTCOMES = (Outcome.LOADED, Outcome.DUPLICATE, Outcome.REJECTED)
WHOLE_SOURCE_FAILURE = "source_failed"


def _aware(value: datetime | None) -> datetime | None:
    return to_utc(value) if value is not None else None


def _from_row(row: Any) -> PollState:
    return PollState(
        source=row.source, status=PollStatus(row.state), next_due_at=to_utc(row.next_due_at),
        interval=timedelta(seconds=row.interval_s),
        consecutive_failures=row.consecutive_failures,
        last_failure_kind=FailureKind(row.last_failure_kind) if row.last_failure_kind else None,
        last_error=row.last_error, items_per_day=row.items_per_day,
        last_new_items=row.last_new_items, last_success_at=_aware(row.last_success_at),
        last_polled_at=_aware(row.last_polled_at), suspended_at=_aware(row.suspended_at))


def _to_row(state: PollState) -> dict[str, Any]:
    return {
        "source": state.source, "state": state.status.value,
        "next_due_at": to_utc(state.next_due_at),
        "interval_s": round(state.interval.total_seconds()),
        "consecutive_failures": state.consecutive_failures,
        "last_failure_kind": state.last_failure_kind.value if state.last_failure_kind else None,
        "last_error": state.last_error, "items_per_day": state.items_per_day,
        "last_new_items": state.last_new_items,
        "last_success_at": _aware(state.last_success_at),
        "last_polled_at": _aware(state.last_polled_at),
        "suspended_at": _aware(state.suspended_at),
    }


def read_states(conn: Connection, names: Iterable[str] | None = None) -> dict[str, PollState]:
    """The poll state of every source (or of `names`) that has one."""
    if names is None:
        return {row.source: _from_row(row) for row in conn.execute(select(source_poll_state))}
    wanted, found = list(dict.fromkeys(names)), {}
    for i in range(0, len(wanted), IN_CHUNK):
        query = select(source_poll_state).where(
            source_poll_state.c.source.in_(wanted[i:i + IN_CHUNK]))
        found.update({row.source: _from_row(row) for row in conn.execute(query)})
    return found


def write_states(conn: Connection, states: list[PollState]) -> None:
    """Upsert the states (one statement, executed for many rows)."""
    columns = [c.name for c in source_poll_state.columns if c.name != "source"]
    upsert(conn, source_poll_state, "source", [_to_row(s) for s in states], columns)


@dataclass(frozen=True)
class NotDue:
    """A source a due-only run left out, and when it is due."""

    source: str
    next_due_at: datetime
    status: PollStatus

    @property
    def reason(self) -> str:
        what = "next probe" if self.status == PollStatus.SUSPENDED else "next due"
        return f"{what} at {self.next_due_at:%Y-%m-%d %H:%M:%S} UTC"


def split_due(warehouse: Warehouse, names: list[str], now: datetime
              ) -> tuple[list[str], list[NotDue]]:
    """`names` (in order) split into those due at `now` and those not due yet."""
    with warehouse.engine.connect() as conn:
        states = read_states(conn, names)
    due = [n for n in names if is_due(states.get(n), now)]
    later = [NotDue(n, states[n].next_due_at, states[n].status)
             for n in names if not is_due(states.get(n), now)]
    return due, later


def poll_result(status: str, error: str | None, outcomes: dict[Outcome, int]) -> PollResult:
    """What a source's run says about its poll: a whole-source failure (its kind read from
    the error), or how many new items it found."""
    new_items = sum(outcomes.get(o, 0) for o in NEW_OUTCOMES)
    if status == WHOLE_SOURCE_FAILURE:
        return PollResult(new_items, error, failure_kind(error))
    return PollResult(new_items)


def record_poll(warehouse: Warehouse, source: str, result: PollResult, now: datetime,
                policy: PollPolicy = DEFAULT_POLICY) -> PollState:
    """Apply one poll's result to the source's state and store it (one transaction).
    A suspension is logged at ERROR (the alarm; source_poll_health shows it too)."""
    return record_polls(warehouse, [(source, result)], now, policy)[0]


def record_polls(warehouse: Warehouse, results: Iterable[tuple[str, PollResult]],
                 now: datetime, policy: PollPolicy = DEFAULT_POLICY) -> list[PollState]:
    """`record_poll` for many sources at once (one read, one upsert, one transaction):
    what a cycle over thousands of feeds writes."""
    results = list(results)
    with warehouse.begin(write_lock=True) as conn:
        previous = read_states(conn, [name for name, _ in results])
        changes = []
        for name, result in results:
            before = previous.get(name) or new_state(name, now, policy)
            after, transition = after_poll(before, result, now, policy)
            previous[name] = after  # a source polled twice in one batch: in order
            changes.append((before, after, transition, result))
        write_states(conn, list({after.source: after for _, after, _, _ in changes}.values()))
    for before, after, transition, result in changes:
        _announce(before, after, transition, result, policy)
    return [after for _, after, _, _ in changes]


def _announce(before: PollState, state: PollState, transition: Transition | None,
              result: PollResult, policy: PollPolicy) -> None:
    source = state.source
    if transition == Transition.SUSPENDED:
        log.error("source %s suspended after %d consecutive failures (last, %s: %s); "
                  "probed every %g h until it answers", source, state.consecutive_failures,
                  state.last_failure_kind, state.last_error, policy.probe_every / HOUR)
    elif transition == Transition.RESUMED:
        log.warning("source %s resumed: a probe succeeded after %d failed polls (suspended "
                    "since %s)", source, before.consecutive_failures, before.suspended_at)
    elif result.failed:
        log.warning("source %s: %s failure %d in a row; next try at %s", source,
                    state.last_failure_kind, state.consecutive_failures, state.next_due_at)
