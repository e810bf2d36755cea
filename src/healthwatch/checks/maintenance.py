"""Maintenance windows: times when a check runs but must not alert.

A planned reboot or a database upgrade makes checks fail on purpose; nobody
should be paged for it. A check's ``maintenance:`` list holds one-off windows
(``{start: "2026-12-01T02:00:00Z", end: "2026-12-01T04:00:00Z"}``) and weekly
ones (``{days: [sun], from: "02:00", to: "04:00", timezone: "Europe/Berlin"}``).
Weekly windows are wall-clock times in their zone (via :mod:`zoneinfo`), so they
follow daylight saving time: on the night the clocks go forward a 02:00-04:00
window lasts one hour, on the night they go back it lasts three. A window whose
``to`` is not after its ``from`` runs past midnight into the next day; ``days``
are the days it starts on. Everything is validated at load time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Final
from zoneinfo import ZoneInfo

import msgspec

from healthwatch.model.errors import ConfigError

__all__ = [
    "NO_MAINTENANCE",
    "Maintenance",
    "MaintenanceEntry",
    "OneOffWindow",
    "WeeklyWindow",
    "build_maintenance",
]

MAX_WINDOWS: Final = 100
DAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CLOCK: Final = re.compile(r"([01]?\d|2[0-4]):([0-5]\d)")

AwareTime = Annotated[datetime, msgspec.Meta(tz=True)]


class MaintenanceEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One entry of a check's ``maintenance:``: a one-off or a weekly window, as written."""

    start: AwareTime | None = None
    end: AwareTime | None = None
    days: list[str] | None = None
    from_: str | int | None = msgspec.field(default=None, name="from")
    """``"HH:MM"``; an unquoted ``22:00`` reaches us as YAML 1.1's base-60 integer 1320."""
    to: str | int | None = None
    timezone: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OneOffWindow:
    """From ``start`` until ``end`` (epoch seconds), once."""

    start: float
    end: float

    def active(self, at: float) -> bool:
        """Whether ``at`` falls in the window (start included, end excluded)."""
        return self.start <= at < self.end

    def describe(self) -> str:
        """``2026-12-01T02:00:00Z to 2026-12-01T04:00:00Z``."""
        return f"{_utc(self.start)} to {_utc(self.end)}"


@dataclass(frozen=True, slots=True, kw_only=True)
class WeeklyWindow:
    """Every week on ``days`` from ``start`` to ``end`` local time in ``zone``."""

    days: frozenset[int]
    """Weekdays the window starts on (Monday is 0)."""
    start: time
    end: time
    """Local end time; at or before ``start`` means the next day (``00:00`` is midnight)."""
    zone: ZoneInfo

    def active(self, at: float) -> bool:
        """Whether ``at`` is in an occurrence starting on its local day or the day before."""
        today = datetime.fromtimestamp(at, self.zone).date()
        for day in (today, today - timedelta(days=1)):
            if day.weekday() not in self.days:
                continue
            begins, ends = self._occurrence(day)
            if begins <= at < ends:
                return True
        return False

    def _occurrence(self, day: date) -> tuple[float, float]:
        """Epoch seconds of the occurrence starting on ``day``.

        A local time that does not exist (skipped by a DST change) is read with the
        offset before the change, as :mod:`zoneinfo` does; a repeated one means its
        first occurrence.
        """
        begins = datetime.combine(day, self.start, tzinfo=self.zone)
        last = day if self.end > self.start else day + timedelta(days=1)
        ends = datetime.combine(last, self.end, tzinfo=self.zone)
        return begins.timestamp(), ends.timestamp()

    def describe(self) -> str:
        """``sat,sun 02:00-04:00 Europe/Berlin``."""
        days = ",".join(DAYS[d] for d in sorted(self.days))
        return f"{days} {self.start:%H:%M}-{self.end:%H:%M} {self.zone.key}"


Window = OneOffWindow | WeeklyWindow


@dataclass(frozen=True, slots=True)
class Maintenance:
    """A check's maintenance windows; empty means never in maintenance."""

    windows: tuple[Window, ...] = ()

    def active(self, at: float) -> Window | None:
        """The window ``at`` falls in, if any."""
        for window in self.windows:
            if window.active(at):
                return window
        return None


NO_MAINTENANCE: Final = Maintenance()


def _utc(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clock_time(value: str | int, *, allow_24: bool) -> time:
    """``"HH:MM"`` (or YAML's base-60 integer for an unquoted ``HH:MM``) as a time of day."""
    if isinstance(value, int):
        if isinstance(value, bool) or value < 0:
            raise ValueError('must be a time of day written "HH:MM"')
        value = f"{value // 60}:{value % 60:02d}"
    match = _CLOCK.fullmatch(value.strip())
    if match is None:
        raise ValueError('must be a time of day written "HH:MM" (00:00 to 23:59)')
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour == 24:
        if minute or not allow_24:
            raise ValueError("must be a time of day between 00:00 and 23:59")
        return time(0, 0)
    return time(hour, minute)


def _zone(name: str) -> ZoneInfo:
    if not name or len(name) > 100:
        raise ValueError('must name a time zone such as "Europe/Berlin" or "UTC"')
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        raise ValueError(
            'unknown time zone; use an IANA name such as "Europe/Berlin" or "UTC"'
        ) from None


def _days(names: Sequence[str]) -> frozenset[int]:
    if not names:
        raise ValueError("must list at least one day (mon … sun), or be left out for every day")
    found: set[int] = set()
    for name in names:
        key = name.strip().lower()
        if key in DAYS:
            found.add(DAYS.index(key))
        elif key in _FULL_DAYS:
            found.add(_FULL_DAYS.index(key))
        else:
            raise ValueError(f"unknown day {name!r}; use mon, tue, wed, thu, fri, sat, sun")
    return frozenset(found)


def _window(entry: MaintenanceEntry, problem: Callable[[str, str, object], ConfigError]) -> Window:
    one_off = entry.start is not None or entry.end is not None
    weekly = any(v is not None for v in (entry.days, entry.from_, entry.to, entry.timezone))
    if one_off and weekly:
        raise problem(
            "", "either start/end (once) or days/from/to/timezone (weekly), not both", None
        )
    if one_off:
        if entry.start is None or entry.end is None:
            missing = "end" if entry.end is None else "start"
            raise problem(missing, "a one-off window needs both start and end", None)
        if entry.end <= entry.start:
            raise problem("end", "must be after start", entry.end.isoformat())
        return OneOffWindow(start=entry.start.timestamp(), end=entry.end.timestamp())
    if entry.from_ is None or entry.to is None:
        raise problem(
            "from" if entry.from_ is None else "to",
            "a window needs start and end, or from and to (with optional days and timezone)",
            None,
        )
    try:
        start = _clock_time(entry.from_, allow_24=False)
    except ValueError as error:
        raise problem("from", str(error), entry.from_) from None
    try:
        end = _clock_time(entry.to, allow_24=True)
    except ValueError as error:
        raise problem("to", str(error), entry.to) from None
    if end == start:
        raise problem(
            "to", "must differ from from (a whole day is no maintenance window)", entry.to
        )
    try:
        days = _days(entry.days) if entry.days is not None else frozenset(range(7))
    except ValueError as error:
        raise problem("days", str(error), entry.days) from None
    try:
        zone = _zone(entry.timezone if entry.timezone is not None else "UTC")
    except ValueError as error:
        raise problem("timezone", str(error), entry.timezone) from None
    return WeeklyWindow(days=days, start=start, end=end, zone=zone)


def build_maintenance(
    entries: Sequence[MaintenanceEntry] | None,
    *,
    where: Callable[[str], str],
    field: str,
) -> Maintenance:
    """Validate a check's ``maintenance:`` list; ``where(path)`` places a field path in its file.

    ``field`` is the list's path (``checks[0].maintenance``); errors name the
    entry's field (``checks[0].maintenance[1].timezone``) and the bad value.
    """
    if not entries:
        return NO_MAINTENANCE
    if len(entries) > MAX_WINDOWS:
        raise ConfigError(f"{where(field)}: {field}: at most {MAX_WINDOWS} windows")
    windows: list[Window] = []
    for i, entry in enumerate(entries):
        here = f"{field}[{i}]"

        def problem(name: str, text: str, value: object, *, here: str = here) -> ConfigError:
            path = f"{here}.{name}" if name else here
            shown = f" (got {value!r:.120})" if value is not None else ""
            return ConfigError(f"{where(path)}: {path}: {text}{shown}")

        windows.append(_window(entry, problem))
    return Maintenance(tuple(windows))
