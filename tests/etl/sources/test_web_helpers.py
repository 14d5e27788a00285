"""Shared web-source helpers: dates, the [since, until) window, DOCTYPE stripping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from etl.sources._web import declares_entities, in_window, parse_machine_date, strip_doctype


def test_parse_date_formats() -> None:
    # A bare year or month names no day: rounding it to the 1st would invent one.
    assert parse_machine_date("2025") is None and parse_machine_date("2025-06") is None
    assert parse_machine_date("2025-W23") is None  # a week, no day
    assert parse_machine_date("20250610") == datetime(2025, 6, 10, tzinfo=UTC)
    assert parse_machine_date("2025-06-10") == datetime(2025, 6, 10, tzinfo=UTC)
    assert parse_machine_date("2025-06-10T08:00:00+02:00") == datetime(2025, 6, 10, 6, tzinfo=UTC)
    assert parse_machine_date("2025-06-10T08:00:00Z") == datetime(2025, 6, 10, 8, tzinfo=UTC)
    rfc_822 = "Tue, 10 Jun 2025 04:00:00 GMT"
    assert parse_machine_date(rfc_822) == datetime(2025, 6, 10, 4, tzinfo=UTC)
    assert parse_machine_date("yesterday-ish") is None
    # Impossible values are unparseable, never rolled over or rounded to another date.
    for impossible in ("2026-13-45T25:61", "2025-02-30", "Mon, 45 Foo 2026 25:61:00 GMT",
                       "Fri, 31 Feb 2025 10:00:00 GMT", "2025-06-10T24:61:00Z"):
        assert parse_machine_date(impossible) is None, impossible
    assert parse_machine_date("") is None and parse_machine_date(None) is None


def test_window_is_half_open_and_keeps_undated() -> None:
    since = datetime(2025, 6, 1, tzinfo=UTC)
    until = datetime(2025, 6, 2, tzinfo=UTC)
    assert in_window(since, since, until)
    assert not in_window(until, since, until)
    assert in_window(None, since, until)
    # A naive bound is taken as UTC; an aware value in another zone is compared in UTC.
    paris = timezone(timedelta(hours=2))
    assert in_window(datetime(2025, 6, 2, 1, 59, tzinfo=paris), since.replace(tzinfo=None),
                     until)


def test_strip_doctype() -> None:
    doc = (b'<?xml version="1.0"?>\n<!-- c -->\n<!DOCTYPE r [<!ENTITY a "x]>y">'
           b'<!ENTITY b SYSTEM "file:///etc/passwd">]>\n<r>&a;</r>')
    assert declares_entities(doc)
    stripped = strip_doctype(doc)
    assert b"ENTITY" not in stripped and stripped.endswith(b"<r>&a;</r>")
    assert not declares_entities(stripped)
    assert strip_doctype(b"<r/>") == b"<r/>"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_helpers_never_raise(data: bytes) -> None:
    strip_doctype(data)
    declares_entities(data)
    parse_machine_date(data.decode("latin-1"))
