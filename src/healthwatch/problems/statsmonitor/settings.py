"""The validated settings of one stats monitor, whichever file they came from.

Both loaders (our YAML in ``config``, node-problem-detector's JSON in ``npd``)
end in a :class:`StatsMonitorConfig`: durations in seconds, regexes compiled,
the metric selection resolved to Prometheus names, thresholds checked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from healthwatch.model.errors import ConfigError
from healthwatch.problems.statsmonitor.collectors import CollectOptions
from healthwatch.problems.statsmonitor.thresholds import ConditionDefault, Threshold

__all__ = [
    "DEFAULT_NAME",
    "MAX_INTERVAL",
    "MIN_INTERVAL",
    "StatsMonitorConfig",
    "Where",
    "fail",
    "where_in",
]

DEFAULT_NAME = "system-stats-monitor"
MIN_INTERVAL = 1.0
"""Shortest interval accepted: below it the monitor's own CPU use stops being negligible."""
MAX_INTERVAL = 86400.0

Where = Callable[[str], str]
"""Field path → place prefix (``file:line`` or ``file``) for error messages."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StatsMonitorConfig:
    """One validated stats monitor."""

    name: str = DEFAULT_NAME
    """Daemon name: its health component and the ``source`` of its statuses."""
    enabled: bool = True
    """False when the config turns the monitor off."""
    interval: float = 10.0
    """Seconds between collections (one runs at start)."""
    timeout: float = 5.0
    """Seconds one collection may take before the monitor calls itself degraded."""
    options: CollectOptions = field(default_factory=CollectOptions)
    """Collectors and device/interface filters."""
    metrics: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """NPD metric ID → Prometheus name, for the NPD-named metrics exported."""
    proc_path: str | None = None
    """Proc root as given (NPD's ``procPath``); None: ``<host_root>/proc``."""
    thresholds: tuple[Threshold, ...] = ()
    conditions: tuple[ConditionDefault, ...] = ()
    """Condition types the thresholds set, with their healthy defaults."""
    origin: str = "embedded default"
    """Where the settings came from, for messages."""
    warnings: tuple[str, ...] = ()
    """Settings accepted but ignored (node-problem-detector files)."""


def where_in(source: str, lines: Mapping[str, int] | None, prefix: str) -> Where:
    """Place of a field path: the file and the nearest known line."""
    found = lines or {}

    def where(field_path: str) -> str:
        path, line = field_path, None
        while line is None and path:
            line = found.get(path)
            path = path.rpartition(".")[0] if "." in path else ""
        line = line or found.get(prefix)
        return f"{source}:{line}" if line else source

    return where


def fail(where: Where, field_path: str, problem: str, value: object = None) -> ConfigError:
    """The error for a field: ``place: field: problem (got value)``."""
    shown = f" (got {value!r:.200})" if value is not None else ""
    return ConfigError(f"{where(field_path)}: {field_path}: {problem}{shown}")
