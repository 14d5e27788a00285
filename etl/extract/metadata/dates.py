"""Reading one stated date value, and the bounds a publication date must keep.

A published date comes only from a statement of publication (see `published`). This module
reads a single stated value: a full calendar date in ISO 8601 (extended or basic), RFC 2822,
numeric or written-out form, or the reason it is not one. Never a copyright line, free text, a
bare year or month, or a value that does not parse — those are guesses, and a guess stored as
a date is an invented value.
"""

from __future__ import annotations

import email.utils
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from etl.extract.metadata.text import clean_text
from etl.records import to_utc

DATE_UNPARSEABLE = "date_unparseable"  # a stated value that is not a valid date
DATE_INCOMPLETE = "date_incomplete"  # a bare year or month: no day was stated
DATE_AMBIGUOUS = "date_ambiguous"  # 04/05/2024: day and month cannot be told apart
DATE_IN_FUTURE = "date_in_future"  # more than FUTURE_TOLERANCE after the fetch
DATE_TOO_OLD = "date_too_old"  # before EARLIEST_DATE: a placeholder, not a news date

FUTURE_TOLERANCE = timedelta(days=1)  # time zones, publishers' clocks, scheduled posts
EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)


class _Invalid:
    """A value in date form whose numbers are impossible (month 13, 31 February)."""


_INVALID = _Invalid()

_ISO_DATE = re.compile(
    r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2}(?!\d))?",
)
_YMD_SLASHED = re.compile(r"(?<!\d)(\d{4})([/.])(\d{1,2})\2(\d{1,2})(?!\d)")
_DMY_NUMERIC = re.compile(r"(?<![\d.:/])(\d{1,2})([./-])(\d{1,2})\2(\d{4})(?![\d/])")
_CLOCK = re.compile(r"^\s*(?:,|um|at|à|a las|alle|o)?\s*(\d{1,2})[:.h](\d{2})(?!\d)", re.I)
_RFC_2822 = re.compile(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}")
_YEAR_OR_MONTH_ONLY = re.compile(
    r"^\W*(?:(?:19|20)\d{2}(?:[-/.](?:0?[1-9]|1[0-2]))?|(?:0?[1-9]|1[0-2])[-/.](?:19|20)\d{2}"
    r"|[^\W\d]{3,}\.?,?\s+(?:19|20)\d{2}|(?:19|20)\d{2}\s+[^\W\d]{3,})\W*$")


def _tz(tz: str) -> str:
    return tz if ":" in tz else f"{tz[:3]}:{tz[3:]}"


def _iso(text: str) -> datetime | _Invalid | None:
    match = _ISO_DATE.search(text)
    if not match:
        return None
    year, month, day, hour, minute, second, tz = match.groups()
    try:
        dt = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                      int(second or 0))
        if tz:
            return datetime.fromisoformat(dt.isoformat() + ("+00:00" if tz == "Z" else _tz(tz)))
    except ValueError:
        return _INVALID
    return dt.replace(tzinfo=UTC)


_COMPACT_DATE = re.compile(r"^((?:19|20)\d{2})(\d{2})(\d{2})(?:T?(\d{2})(\d{2})(\d{2})?Z?)?$")


def _compact(text: str) -> datetime | _Invalid | None:
    """ISO 8601 basic format: "20240503", "20240503T101500Z"."""
    match = _COMPACT_DATE.match(text)
    if not match:
        return None
    try:
        return datetime(*(int(g) for g in match.groups() if g is not None), tzinfo=UTC)
    except ValueError:
        return _INVALID


def _with_clock(day: datetime, rest: str) -> datetime:
    """A wall-clock time right after a date ("03.05.2024, 10:42"), when there is one."""
    match = _CLOCK.match(rest)
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        return day.replace(hour=int(match.group(1)), minute=int(match.group(2)))
    return day


def _numeric(text: str) -> datetime | _Invalid | str | None:
    """2024/05/03, 03.05.2024 (dots and dashes: day first), 13/05/2024 or 05/13/2024.

    Returns DATE_AMBIGUOUS for a slashed date whose day and month could be swapped.
    """
    match = _YMD_SLASHED.search(text)
    if match:
        year, _, month, day = match.groups()
        try:
            return _with_clock(datetime(int(year), int(month), int(day), tzinfo=UTC),
                               text[match.end():])
        except ValueError:
            return _INVALID
    match = _DMY_NUMERIC.search(text)
    if not match:
        return None
    first, sep, second, year = match.groups()
    day, month = int(first), int(second)
    if sep == "/":
        if day <= 12 and month <= 12 and day != month:
            return DATE_AMBIGUOUS
        if month > 12:  # US order: month/day/year
            day, month = month, day
    try:
        return _with_clock(datetime(int(year), month, day, tzinfo=UTC), text[match.end():])
    except ValueError:
        return _INVALID


def _textual(text: str) -> datetime | None:
    """"3 May 2024", "May 3, 2024", "3. Mai 2024", "5 Nisan 2025" (htmldate's month names)."""
    from htmldate.extractors import regex_parse

    dt = regex_parse(text)
    return dt.replace(tzinfo=UTC) if dt is not None else None


def _rfc_2822(text: str) -> datetime | _Invalid | None:
    if not _RFC_2822.match(text):
        return None
    try:
        dt = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return _INVALID
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def read_date(value: Any) -> tuple[datetime | None, str | None]:
    """(date, None) when `value` states a full calendar date, else (None, reason).

    The reason is None when the value holds no date at all (nothing was stated), else one
    of DATE_UNPARSEABLE, DATE_INCOMPLETE, DATE_AMBIGUOUS. Naive values are taken as UTC.
    A value whose first date is impossible is unparseable: nothing after it is tried, so
    "2026-13-45T25:61" is never read as some other date.
    """
    if not isinstance(value, str):
        return None, None
    text = clean_text(value)
    if not text:
        return None, None
    for parse in (_iso, _compact, _rfc_2822, _numeric):
        found = parse(text)
        if isinstance(found, datetime):
            return found, None
        if found is _INVALID:
            return None, DATE_UNPARSEABLE
        if found == DATE_AMBIGUOUS:
            return None, DATE_AMBIGUOUS
    found = _textual(text)
    if found is not None:
        return found, None
    if _YEAR_OR_MONTH_ONLY.match(text):
        return None, DATE_INCOMPLETE
    return None, DATE_UNPARSEABLE


def parse_date(value: Any) -> datetime | None:
    """A stated full date (ISO 8601, RFC 2822, numeric or written out), else None."""
    return read_date(value)[0]


def check_date(dt: datetime, fetched_at: datetime | None) -> str | None:
    """The reason a parsed date cannot be a publication date, or None when it can.

    Not more than FUTURE_TOLERANCE after the fetch (or, without a fetch time, after now),
    not before EARLIEST_DATE.
    """
    if dt < EARLIEST_DATE:
        return DATE_TOO_OLD
    reference = to_utc(fetched_at) if fetched_at is not None else datetime.now(UTC)
    if dt > reference + FUTURE_TOLERANCE:
        return DATE_IN_FUTURE
    return None
