"""Go layouts and durations, read as node-problem-detector's configs mean them."""

from __future__ import annotations

import calendar
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from healthwatch.problems.logmonitor.gotime import compile_layout, parse_go_duration

NOW = calendar.timegm((2026, 11, 21, 12, 0, 0))
"""A fixed "now" in UTC for layouts without a year."""


def utc(year: int, month: int, day: int, *clock: int, frac: float = 0.0) -> float:
    hour, minute, second = (*clock, 0, 0, 0)[:3]
    return calendar.timegm((year, month, day, hour, minute, second)) + frac


@pytest.mark.parametrize(
    ("layout", "text", "expected"),
    [
        ("2006-01-02T15:04:05Z07:00", "2016-08-30T22:57:40Z", utc(2016, 8, 30, 22, 57, 40)),
        (
            "2006-01-02T15:04:05.999999999Z07:00",
            "2016-08-30T22:57:40.123456789+02:00",
            utc(2016, 8, 30, 20, 57, 40, frac=0.123456789),
        ),
        # a fraction right after the seconds is accepted although the layout has none
        (
            "2006-01-02T15:04:05-07:00",
            "2016-08-30T22:57:40.5-07:00",
            utc(2016, 8, 31, 5, 57, 40, frac=0.5),
        ),
        (
            "2006-01-02T15:04:05.999999999-07:00",
            "2016-08-30T22:57:40-07:00",
            utc(2016, 8, 31, 5, 57, 40),
        ),
        (
            "2006 Jan 2 15:04:05.000000",
            "2024 Mar 3 01:02:03.250000",
            utc(2024, 3, 3, 1, 2, 3, frac=0.25),
        ),
        ("Mon Jan _2 15:04:05 MST 2006", "Tue Mar  5 10:00:00 UTC 2024", utc(2024, 3, 5, 10, 0, 0)),
        ("Mon Jan _2 15:04:05 MST 2006", "Tue Mar  5 10:00:00 ZZT 2024", utc(2024, 3, 5, 10, 0, 0)),
        ("01/02/06 3:04PM", "03/05/24 1:02PM", utc(2024, 3, 5, 13, 2, 0)),
        ("01/02/06 3:04PM", "03/05/24 12:02AM", utc(2024, 3, 5, 0, 2, 0)),
        ("01/02/06 15:04", "03/05/99 01:02", utc(1999, 3, 5, 1, 2, 0)),
        (
            "January 2, 2006 15:04:05 -0700",
            "march 5, 2024 10:00:00 +0130",
            utc(2024, 3, 5, 8, 30, 0),
        ),
        (
            "2006-01-02 15:04:05,000",
            "2024-03-05 10:00:00,125",
            utc(2024, 3, 5, 10, 0, 0, frac=0.125),
        ),
        ("02 Jan 06 15:04 -07", "05 Mar 24 10:00 -02", utc(2024, 3, 5, 12, 0, 0)),
        ("2006_01_02 15:04:05", "2024_03_05 10:00:00", utc(2024, 3, 5, 10, 0, 0)),
        ("_2006 15:04", "_2024 10:00", utc(2024, 1, 1, 10, 0, 0)),
    ],
)
def test_layouts_parse_like_go(layout: str, text: str, expected: float) -> None:
    parser = compile_layout(layout, tz=UTC, clock=lambda: NOW)
    assert parser.parse(text) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(
    ("layout", "text"),
    [
        ("Jan _2 15:04:05", "Nov 21 23:30"),  # too short
        ("Jan _2 15:04:05", "Nov 21 23:30:13 extra"),  # Go rejects extra text
        ("Jan _2 15:04:05", "Foo 21 23:30:13"),  # no such month
        ("Jan _2 15:04:05", "Feb 30 23:30:13"),  # no such day
        ("Jan _2 15:04:05", "Nov 21 24:30:13"),  # hour out of range
        ("2006-01-02", "2024-1-02"),  # "01" takes exactly two digits
        ("2006-01-02T15:04:05.000Z07:00", "2024-01-02T10:00:00.12Z"),  # ".000" needs three
        ("3:04PM", "13:04PM"),  # a 12-hour hour above 12
        ("2006-01-02T15:04:05Z07:00", "2024-01-02T10:00:00"),  # zone missing
    ],
)
def test_text_that_does_not_fit_gives_none(layout: str, text: str) -> None:
    assert compile_layout(layout, tz=UTC, clock=lambda: NOW).parse(text) is None


def test_a_layout_without_year_takes_the_current_year() -> None:
    parser = compile_layout("Jan _2 15:04:05", tz=UTC, clock=lambda: NOW)
    assert parser.parse("Nov  1 23:30:13") == utc(2026, 11, 1, 23, 30, 13)
    assert parser.parse("Nov 22 11:59:59") == utc(2026, 11, 22, 11, 59, 59)  # < a day ahead


def test_a_yearless_time_more_than_a_day_ahead_is_last_year() -> None:
    new_year = calendar.timegm((2027, 1, 1, 0, 10, 0))
    parser = compile_layout("Jan _2 15:04:05", tz=UTC, clock=lambda: new_year)
    assert parser.parse("Dec 31 23:59:00") == utc(2026, 12, 31, 23, 59, 0)
    assert parser.parse("Jan  1 00:05:00") == utc(2027, 1, 1, 0, 5, 0)


def test_feb_29_without_a_year_rolls_over_in_a_common_year_as_go_does() -> None:
    parser = compile_layout("Jan _2 15:04:05", tz=UTC, clock=lambda: NOW)  # 2026: common
    assert parser.parse("Feb 29 10:00:00") == utc(2026, 3, 1, 10, 0, 0)


def test_a_layout_without_zone_uses_the_given_zone() -> None:
    plus_two = timezone(timedelta(hours=2))
    parser = compile_layout("2006-01-02 15:04:05", tz=plus_two)
    assert parser.parse("2024-03-05 10:00:00") == utc(2024, 3, 5, 8, 0, 0)


def test_a_layout_without_zone_defaults_to_local_time() -> None:
    parser = compile_layout("2006-01-02 15:04:05")
    expected = time.mktime((2024, 3, 5, 10, 0, 0, 0, 0, -1))
    assert parser.parse("2024-03-05 10:00:00") == expected


def test_the_local_zone_abbreviation_means_local_time() -> None:
    parser = compile_layout("2006-01-02 15:04:05 MST")
    local = time.tzname[0]
    expected = time.mktime((2024, 1, 5, 10, 0, 0, 0, 0, -1))
    assert parser.parse(f"2024-01-05 10:00:00 {local}") == expected


def test_parsed_times_round_trip_through_datetime() -> None:
    parser = compile_layout("2006-01-02T15:04:05.999999Z07:00")
    stamp = parser.parse("2025-06-30T23:59:59.000001Z")
    assert stamp is not None
    assert datetime.fromtimestamp(stamp, UTC).isoformat() == "2025-06-30T23:59:59.000001+00:00"


def test_repr_names_the_layout() -> None:
    assert "Jan _2" in repr(compile_layout("Jan _2 15:04:05"))


@pytest.mark.parametrize("layout", ["", "   ", "2006-002", "Jan __2", "hello"])
def test_unsupported_layouts_are_rejected_naming_the_layout(layout: str) -> None:
    with pytest.raises(ValueError, match="layout") as caught:
        compile_layout(layout)
    assert repr(layout) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("-0", 0.0),
        ("5m", 300.0),
        ("87600h", 87600 * 3600.0),
        ("1h30m", 5400.0),
        ("1.5h", 5400.0),
        (".5s", 0.5),
        ("300ms", 0.3),
        ("10us", 1e-5),
        ("10\u00b5s", 1e-5),
        ("7ns", 7e-9),
        ("+2s", 2.0),
        ("1h0m0.5s", 3600.5),
    ],
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "invalid"),
        ("-1s", "negative"),
        ("5", "missing unit"),
        ("1d", "unknown unit"),
        ("1.2.3s", "missing unit"),  # as Go says
        ("s", "invalid"),
        ("5m ", "unknown unit"),
        ("9999999999h", "out of range"),
    ],
)
def test_bad_go_durations_name_the_value(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        parse_go_duration(text)
    assert repr(text) in str(caught.value)
