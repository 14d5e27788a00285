"""Revisit delays as sources.yml writes them (`revisit: [1h, 6h, 24h, 3d, 7d]`), read and
written back. Errors are pydantic "config" errors: etl.config names the source and field."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from typing import Any

from pydantic_core import PydanticCustomError

_DURATION = re.compile(r"^\s*(\d+)\s*(m|min|h|d|w)\s*$")
_DURATION_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
# When a stored article is revisited, counted from when it was first stored (etl.revisit).
DEFAULT_REVISIT = tuple(timedelta(hours=h) for h in (1, 6, 24, 72, 168))


def parse_delays(value: Any) -> Any:
    """`revisit: [1h, 6h, 24h, 3d, 7d]` → timedeltas; `[]` turns revisits off. Each delay
    is counted from the first store, so they must grow."""
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise PydanticCustomError(
            "config", "must be a list of delays like [1h, 6h, 24h, 3d, 7d] (or [] for no "
            "revisits), got {value}", {"value": repr(value)})
    delays = []
    for item in value:
        if isinstance(item, timedelta):
            delays.append(item)
            continue
        match = _DURATION.match(str(item)) if isinstance(item, str) else None
        if match is None or int(match.group(1)) == 0:
            raise PydanticCustomError(
                "config", "{item} is not a delay: write a positive whole number and a unit "
                "m, h, d or w, e.g. 90m, 6h, 3d", {"item": repr(item)})
        delays.append(timedelta(seconds=int(match.group(1)) * _DURATION_UNITS[match.group(2)]))
    if any(later <= earlier for earlier, later in itertools.pairwise(delays)):
        raise PydanticCustomError(
            "config", "delays must grow (each is counted from the first store), got {value}",
            {"value": repr(list(value))})
    return tuple(delays)


def format_delay(delay: timedelta) -> str:
    """A delay as sources.yml writes it: 90m, 6h, 3d."""
    seconds = int(delay.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds // 60}m"
