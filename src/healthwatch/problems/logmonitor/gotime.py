"""Go's time notation, as node-problem-detector configs write it: layouts and durations.

NPD's ``filelog`` plugin names a timestamp format as a Go reference-time layout
(``"Jan _2 15:04:05"``, ``"2006-01-02T15:04:05.999999999Z07:00"``) and every
duration as a Go duration (``"5m"``, ``"87600h"``, ``"0"``). Configs must load
unchanged, so both are read here with Go's rules: a layout is compiled once into
one regular expression plus a list of fields, and parsing is cheap enough for
the lines that matched a rule.
"""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

__all__ = ["TimestampParser", "compile_layout", "parse_go_duration"]

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_LONG_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_DAYS = "(?i:mon|tue|wed|thu|fri|sat|sun)"
_LONG_DAYS = "(?i:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_FRACTION = re.compile(r"[.,](0+|9+)(?![0-9])")
_ZONES = ("070000", "07:00:00", "0700", "07:00", "07")
_ZONE_RE = {
    "070000": r"[+-]\d{6}",
    "07:00:00": r"[+-]\d\d:\d\d:\d\d",
    "0700": r"[+-]\d{4}",
    "07:00": r"[+-]\d\d:\d\d",
    "07": r"[+-]\d\d",
}
# (layout text, field kind, regex) in the order Go's layout scanner tries them.
_FIXED: tuple[tuple[str, str, str], ...] = (
    ("January", "month_name", "(?i:" + "|".join(_LONG_MONTHS) + ")"),
    ("Jan", "month_name", "(?i:" + "|".join(_MONTHS) + ")"),
    ("Monday", "weekday", _LONG_DAYS),
    ("Mon", "weekday", _DAYS),
    ("MST", "abbr", r"[A-Z][A-Za-z]{2,4}(?:[+-]\d{1,2})?|[+-]\d\d(?:\d\d)?"),
    ("2006", "year", r"\d{4}"),
    ("_2006", "", ""),  # literal "_" then a long year: handled in the scanner
    ("__2", "yearday", ""),
    ("002", "yearday", ""),
    ("01", "month", r"\d\d"),
    ("02", "day", r"\d\d"),
    ("03", "hour12", r"\d\d"),
    ("04", "minute", r"\d\d"),
    ("05", "second", r"\d\d"),
    ("06", "year2", r"\d\d"),
    ("_2", "day", r" ?\d{1,2}+"),
    ("15", "hour", r"\d{1,2}+"),
    ("1", "month", r"\d{1,2}+"),
    ("2", "day", r"\d{1,2}+"),
    ("3", "hour12", r"\d{1,2}+"),
    ("4", "minute", r"\d{1,2}+"),
    ("5", "second", r"\d{1,2}+"),
    ("PM", "ampm", "AM|PM"),
    ("pm", "ampm", "am|pm"),
)
_SECOND_FRACTION = r"(?:[.,](?P<{name}>\d+))?+"


@dataclass(frozen=True, slots=True)
class _Field:
    kind: str
    group: str


def _chunk(layout: str, i: int) -> tuple[str, str, int] | None:
    """The layout element at ``layout[i]``: (kind, regex, length), or None for a literal."""
    fraction = _FRACTION.match(layout, i)
    if fraction is not None:
        digits = fraction.group(1)
        regex = rf"[.,]\d{{{len(digits)}}}" if digits[0] == "0" else r"(?:[.,]\d+)?+"
        return "fraction", regex, fraction.end() - i
    if layout[i] in "-Z":
        zone = next((z for z in _ZONES if layout.startswith(z, i + 1)), None)
        if zone is not None:
            regex = _ZONE_RE[zone]
            return "zone", regex if layout[i] == "-" else f"Z|{regex}", 1 + len(zone)
    for text, kind, regex in _FIXED:
        if layout.startswith(text, i):
            if kind == "yearday":
                raise ValueError(
                    f"timestamp layout {layout!r}: day-of-year ({text!r}) is not supported"
                )
            return (kind, regex, len(text)) if text != "_2006" else None
    return None


def _scan(layout: str) -> tuple[str, list[_Field]]:
    """Translate a layout into a regex and its fields, chunk by chunk as Go scans it."""
    parts: list[str] = []
    fields: list[_Field] = []
    i = 0
    while i < len(layout):
        chunk = _chunk(layout, i)
        if chunk is None:
            if layout[i] == " ":  # like Go, a run of spaces matches one or more spaces
                parts.append(" +")
                i = len(layout) - len(layout[i:].lstrip(" "))
            else:
                parts.append(re.escape(layout[i]))
                i += 1
            continue
        kind, regex, length = chunk
        group = f"f{len(fields)}"
        fields.append(_Field(kind, group))
        parts.append(f"(?P<{group}>{regex})")
        i += length
        if kind == "second" and _FRACTION.match(layout, i) is None:
            # Go accepts a fractional second right after the seconds field.
            group = f"f{len(fields)}"
            fields.append(_Field("fraction", group))
            parts.append(_SECOND_FRACTION.format(name=group))
    return "".join(parts), fields


def _offset(text: str) -> int:
    """Seconds east of UTC in ``+07:00``, ``-0700``, ``+07``, ``+070000`` or ``GMT+7``."""
    if text[0] not in "+-":
        return int(text[3:]) * 3600 if len(text) > 3 and text[3] in "+-" else 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes, seconds = int(digits[:2]), int(digits[2:4] or 0), int(digits[4:6] or 0)
    return sign * (hours * 3600 + minutes * 60 + seconds)


def _hour(values: dict[str, str]) -> int | None:
    """The 24-hour hour from ``15``, or from ``3`` with ``PM``; None when out of range."""
    hour = int(values.get("hour", 0))
    if "hour12" in values:
        hour = int(values["hour12"])
        if hour > 12:
            return None
    ampm = values.get("ampm", "").upper()
    if ampm == "PM" and hour < 12:
        hour += 12
    elif ampm == "AM" and hour == 12:
        hour = 0
    return hour


def _year(values: dict[str, str]) -> int | None:
    if "year" in values:
        return int(values["year"])
    if "year2" in values:
        short = int(values["year2"])
        return short + (1900 if short >= 69 else 2000)
    return None


def _month(values: dict[str, str]) -> int:
    name = values.get("month_name")
    if name is not None:
        names = _LONG_MONTHS if len(name) > 3 else _MONTHS
        return names.index(name.lower()) + 1
    return int(values.get("month", 1))


class TimestampParser:
    """A compiled Go layout; :meth:`parse` returns wall time in seconds, or None."""

    __slots__ = ("_clock", "_regex", "_tz", "fields", "layout")

    def __init__(
        self, layout: str, *, clock: Callable[[], float] = time.time, tz: tzinfo | None = None
    ) -> None:
        pattern, fields = _scan(layout)
        self.layout = layout
        """The Go layout this parser was compiled from."""
        self._regex = re.compile(pattern)
        self.fields: tuple[_Field, ...] = tuple(fields)
        """What each named group of the compiled regex holds, in layout order."""
        self._clock = clock
        self._tz = tz

    def __repr__(self) -> str:
        return f"TimestampParser({self.layout!r})"

    def parse(self, text: str) -> float | None:
        """Wall time of ``text`` (which must be consumed entirely), or None if it does not fit."""
        match = self._regex.fullmatch(text)
        if match is None:
            return None
        values: dict[str, str] = {}
        for field in self.fields:  # like Go, a later element overrides an earlier one
            value = match.group(field.group)
            if value is not None:
                values[field.kind] = value
        hour = _hour(values)
        if hour is None:
            return None
        clock = (
            _month(values),
            int(values.get("day", 1)),
            hour,
            int(values.get("minute", 0)),
            int(values.get("second", 0)),
        )
        fraction = values.get("fraction", "").lstrip(".,")
        zone = values.get("zone") or values.get("abbr")
        extra = float("0." + fraction) if fraction else 0.0
        year = _year(values)
        if year is not None:
            return self._stamp(year, clock, zone, extra, normalise=False)
        now = self._clock()
        if self._tz is None:
            this_year = time.localtime(now).tm_year
        else:
            this_year = datetime.fromtimestamp(now, self._tz).year
        stamp = self._stamp(this_year, clock, zone, extra, normalise=True)
        if stamp is not None and stamp > now + 86400:
            stamp = self._stamp(this_year - 1, clock, zone, extra, normalise=True)
        return stamp

    def _stamp(
        self,
        year: int,
        clock: tuple[int, int, int, int, int],
        zone: str | None,
        extra: float,
        *,
        normalise: bool,
    ) -> float | None:
        month, day, hour, minute, second = clock
        if normalise and month == 2 and day == 29 and not calendar.isleap(year):
            month, day = 3, 1  # Go's AddDate normalises Feb 29 of year 0 into a common year
        try:
            naive = datetime(year, month, day, hour, minute, second)  # validates the fields
        except ValueError:
            return None
        if zone is None or (zone not in ("UTC", "GMT", "Z") and _is_local_abbr(zone, self._tz)):
            if self._tz is not None:
                return naive.replace(tzinfo=self._tz).timestamp() + extra
            return time.mktime((year, month, day, hour, minute, second, 0, 0, -1)) + extra
        return calendar.timegm(naive.timetuple()) - _offset(zone) + extra


def _is_local_abbr(abbr: str, tz: tzinfo | None) -> bool:
    """Go uses the location's offset for its own zone abbreviation, zero for unknown ones."""
    if tz is None:
        return abbr in time.tzname
    return abbr == datetime.now(tz).tzname()


def compile_layout(
    layout: str, *, clock: Callable[[], float] = time.time, tz: tzinfo | None = None
) -> TimestampParser:
    """Compile a Go layout; ValueError naming the layout if it cannot be parsed with.

    ``tz`` is the zone for layouts without one (None: the local zone); ``clock``
    gives "now" for layouts without a year (the current year is used, or the
    previous one when that would put the time more than a day in the future).
    """
    if not layout.strip():
        raise ValueError(f"timestamp layout {layout!r} is empty")
    parser = TimestampParser(layout, clock=clock, tz=tz)
    if all(f.kind == "fraction" for f in parser.fields):
        raise ValueError(f"timestamp layout {layout!r} has no date or time element")
    return parser


_GO_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_GO_PART = re.compile(r"(\d+\.?\d*|\.\d+)([^\d.]*)")
_GO_MAX = 9_223_372_036.854775807  # Go's Duration is an int64 of nanoseconds


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration (``"300ms"``, ``"1h30m"``, ``"1.5h"``, ``"0"``); no negatives."""
    if not isinstance(text, str):
        raise ValueError(f"expected a Go duration string like '5m', got {text!r}")
    rest = text[1:] if text[:1] in "+-" else text
    if rest == "0":
        return 0.0
    if text.startswith("-"):
        raise ValueError(f"negative duration {text!r}")
    if not rest:
        raise ValueError(f"invalid Go duration {text!r}")
    total, pos = 0.0, 0
    while pos < len(rest):
        part = _GO_PART.match(rest, pos)
        if part is None:
            raise ValueError(f"invalid Go duration {text!r}")
        number, unit = part.groups()
        if not unit:
            raise ValueError(f"missing unit in Go duration {text!r}")
        if unit not in _GO_UNITS:
            raise ValueError(
                f"unknown unit {unit!r} in Go duration {text!r} (use ns, us, ms, s, m or h)"
            )
        total += float(number) * _GO_UNITS[unit]
        pos = part.end()
    if total > _GO_MAX:
        raise ValueError(f"Go duration {text!r} is out of range")
    return total
