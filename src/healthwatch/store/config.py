"""The ``history:`` section of the agent's config file: how long the store keeps what.

Parsed once, at the edge, into a frozen :class:`HistorySettings` the agent hands
to :class:`~healthwatch.store.HistoryStore`. Unknown keys, wrong types, negative,
zero or absurd durations are :class:`ConfigError`\\ s naming the file, the line,
the field path and the bad value::

    history:
      raw_retention: 30d       # every result, with errors and observed values
      hourly_retention: 366d   # hourly roll-ups (latency percentiles per hour)
      daily_retention: 400d    # daily roll-ups (the 90-day uptime bar)
      prune_interval: 10m      # how often older rows are deleted
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import msgspec

from healthwatch.config.durations import format_duration, parse_duration
from healthwatch.config.yamlfile import convert
from healthwatch.model.errors import ConfigError
from healthwatch.store.retention import (
    DEFAULT_DAILY_RETENTION,
    DEFAULT_HOURLY_RETENTION,
    DEFAULT_PRUNE_INTERVAL,
    DEFAULT_RAW_RETENTION,
    Retention,
)

__all__ = ["HistorySection", "HistorySettings", "parse_history"]

Duration = str | float | int
_MIN_RETENTION: Final = 3600.0
_PRUNE_INTERVAL_RANGE: Final = (1.0, 86400.0)


class HistorySection(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The section as written; durations like ``30d`` or plain seconds."""

    raw_retention: Duration = format_duration(DEFAULT_RAW_RETENTION)
    hourly_retention: Duration = format_duration(DEFAULT_HOURLY_RETENTION)
    daily_retention: Duration = format_duration(DEFAULT_DAILY_RETENTION)
    prune_interval: Duration = format_duration(DEFAULT_PRUNE_INTERVAL)


@dataclass(frozen=True, slots=True, kw_only=True)
class HistorySettings:
    """Validated settings for the history store."""

    retention: Retention
    """How long raw results, hourly and daily roll-ups are kept."""
    prune_interval: float
    """Seconds between pruning runs."""


def parse_history(
    data: object,
    *,
    source: str,
    lines: Mapping[str, int] | None = None,
    prefix: str = "history",
) -> HistorySettings:
    """Validate the raw ``history:`` mapping read from ``source`` (None: every default).

    ``lines`` is the field-path → line map of that file (``load_yaml``); ``prefix``
    is where the section sits in it.
    """
    known = dict(lines or {})
    if data is None:
        data = {}
    if not isinstance(data, dict):
        line = known.get(prefix)
        place = f"{source}:{line}" if line else source
        raise ConfigError(f"{place}: {prefix}: expected a mapping, got {type(data).__name__}")
    section = convert(data, HistorySection, source=source, lines=known, prefix=prefix)

    def seconds(field: str, value: Duration, low: float, high: float | None = None) -> float:
        path = f"{prefix}.{field}"
        line = known.get(path) or known.get(prefix)
        place = f"{source}:{line}" if line else source
        try:
            parsed = parse_duration(value)
        except ValueError as error:
            raise ConfigError(f"{place}: {path}: {error}") from None
        if parsed < low or (high is not None and parsed > high):
            bound = (
                f"at least {format_duration(low)}"
                if high is None
                else f"between {format_duration(low)} and {format_duration(high)}"
            )
            raise ConfigError(f"{place}: {path}: must be {bound} (got {value!r})")
        return parsed

    return HistorySettings(
        retention=Retention(
            raw=seconds("raw_retention", section.raw_retention, _MIN_RETENTION),
            hourly=seconds("hourly_retention", section.hourly_retention, _MIN_RETENTION),
            daily=seconds("daily_retention", section.daily_retention, _MIN_RETENTION),
        ),
        prune_interval=seconds("prune_interval", section.prune_interval, *_PRUNE_INTERVAL_RANGE),
    )
