"""Adaptive polling: each source's poll state, the rule that moves it, and dead sources.

- `rule.py`: pure functions of (state, one poll's result, now) → the next state: the
  interval rule, hard and soft failures, suspension and the daily probe (docs/polling.md);
- `failures.py`: whether a whole-source failure is hard or soft, from its recorded error;
- `store.py`: the warehouse side (source_poll_state): which sources are due, and
  recording each source's poll after its run (the CLI's ingest and the Airflow load).
"""

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
    next_interval,
)
from etl.polling.store import (
    NotDue,
    poll_result,
    read_states,
    record_poll,
    record_polls,
    split_due,
)

__all__ = [
    "DEFAULT_POLICY", "FailureKind", "NotDue", "PollPolicy", "PollResult", "PollState",
    "PollStatus", "Transition", "after_poll", "failure_kind", "is_due", "new_state",
    "next_interval", "poll_result", "read_states", "record_poll", "record_polls",
    "split_due",
]
