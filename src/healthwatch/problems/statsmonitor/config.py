"""A stats monitor's configuration: our YAML section, NPD's JSON, or the embedded default.

Our form is the ``stats_monitor:`` section of the agent's file::

    stats_monitor:
      interval: 10s
      thresholds:
        memory_available_percent: {below: 10, clear_above: 15}
        disk_used_percent: {above: 90, clear_below: 85, mounts: ["/", "/var/lib"]}
        conntrack_used_percent: false          # off

Everything has a default. Errors name the file (and line), the field path and
the bad value. The embedded default collects every 10 s: one round reads about
fifteen small procfs files for about 0.7 ms of CPU, so the monitor, scrapes
included, stays near 0.03 % of a core (``bench/stats.py``), and a pressure
condition is at most 10 s late, as late as the kubelet's own eviction checks.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

import msgspec

from healthwatch.config.durations import parse_duration
from healthwatch.config.yamlfile import convert, load_yaml
from healthwatch.model.errors import ConfigError
from healthwatch.problems.statsmonitor.catalog import NPD_METRICS, default_selection
from healthwatch.problems.statsmonitor.collectors import COLLECTORS, CollectOptions
from healthwatch.problems.statsmonitor.npd import parse_npd_system_stats_monitor
from healthwatch.problems.statsmonitor.settings import (
    DEFAULT_NAME,
    MAX_INTERVAL,
    MIN_INTERVAL,
    StatsMonitorConfig,
    Where,
    fail,
    where_in,
)
from healthwatch.problems.statsmonitor.thresholdspec import (
    ThresholdSpec,
    ThresholdsSpec,
    build_thresholds,
)

__all__ = [
    "StatsMonitorConfig",
    "StatsMonitorSpec",
    "ThresholdSpec",
    "build_stats_monitor",
    "default_stats_monitor",
    "load_npd_system_stats_monitor",
    "load_stats_monitor_yaml",
]

Duration = str | float | int


class StatsMonitorSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The ``stats_monitor:`` section."""

    enabled: bool = True
    name: str = DEFAULT_NAME
    interval: Duration = "10s"
    timeout: Duration | None = None
    collectors: list[str] | None = None
    metrics: list[str] | None = None
    exclude_devices: str | None = r"^(ram|loop)\d+$"
    exclude_interfaces: str | None = None
    thresholds: ThresholdsSpec = msgspec.field(default_factory=ThresholdsSpec)


def _seconds(where: Where, field: str, value: Duration) -> float:
    try:
        return parse_duration(value)
    except ValueError as error:
        raise fail(where, field, str(error)) from None


def _regex(where: Where, field: str, pattern: str | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return re.compile(pattern)
    except re.error as error:
        raise fail(where, field, f"invalid regex: {error}", pattern) from None


def _collectors(spec: StatsMonitorSpec, where: Where, label: str) -> frozenset[str]:
    if spec.collectors is None:
        return frozenset(COLLECTORS)
    for i, name in enumerate(spec.collectors):
        if name not in COLLECTORS or name in spec.collectors[:i]:
            known = ", ".join(COLLECTORS)
            raise fail(where, f"{label}collectors[{i}]", f"one of {known}, listed once", name)
    return frozenset(spec.collectors)


def _metrics(
    spec: StatsMonitorSpec, collectors: frozenset[str], where: Where, label: str
) -> Mapping[str, str]:
    everything = default_selection(collectors)
    if spec.metrics is None:
        return everything
    for i, metric in enumerate(spec.metrics):
        field = f"{label}metrics[{i}]"
        info = NPD_METRICS.get(metric)
        if info is None:
            raise fail(where, field, "not a node-problem-detector system-stats metric", metric)
        if info.collector not in collectors:
            raise fail(where, field, f"needs the {info.collector} collector, which is off", metric)
    return {m: everything[m] for m in dict.fromkeys(spec.metrics)}


def build_stats_monitor(
    raw: object,
    *,
    source: str,
    lines: Mapping[str, int] | None = None,
    prefix: str = "stats_monitor",
) -> StatsMonitorConfig:
    """Validate our YAML section read from ``source``; errors name file, line, field, value.

    ``prefix`` is the section's field path in its file; ``lines`` the field-path →
    line map of ``load_yaml``.
    """
    known = dict(lines or {})
    spec = convert(
        {} if raw is None else raw, StatsMonitorSpec, source=source, lines=known, prefix=prefix
    )
    where = where_in(source, known, prefix)
    label = f"{prefix}." if prefix else ""
    if not spec.name.strip():
        raise fail(where, f"{label}name", "must not be empty", spec.name)
    interval = _seconds(where, f"{label}interval", spec.interval)
    if not MIN_INTERVAL <= interval <= MAX_INTERVAL:
        raise fail(where, f"{label}interval", "must be from 1s to 24h", spec.interval)
    timeout = min(5.0, interval)
    if spec.timeout is not None:
        timeout = _seconds(where, f"{label}timeout", spec.timeout)
        if timeout <= 0:
            raise fail(where, f"{label}timeout", "must be above 0s", spec.timeout)
        if timeout > interval:
            raise fail(
                where,
                f"{label}timeout",
                f"must not be above the interval ({interval:g}s)",
                spec.timeout,
            )
    collectors = _collectors(spec, where, label)
    thresholds, conditions = build_thresholds(spec.thresholds, collectors, where, label)
    watch = tuple(dict.fromkeys(p for t in thresholds for p in (t.mounts or ())))
    options = CollectOptions(
        collectors=collectors,
        exclude_devices=_regex(where, f"{label}exclude_devices", spec.exclude_devices),
        exclude_interfaces=_regex(where, f"{label}exclude_interfaces", spec.exclude_interfaces),
        watch_paths=watch,
    )
    return StatsMonitorConfig(
        name=spec.name,
        enabled=spec.enabled,
        interval=interval,
        timeout=timeout,
        options=options,
        metrics=_metrics(spec, collectors, where, label),
        thresholds=thresholds,
        conditions=conditions,
        origin=f"{source} ({prefix})" if prefix else source,
    )


def default_stats_monitor() -> StatsMonitorConfig:
    """The embedded default: every collector and threshold, every 10 s."""
    return build_stats_monitor({}, source="embedded default", prefix="")


def load_stats_monitor_yaml(path: str | os.PathLike[str]) -> StatsMonitorConfig:
    """The ``stats_monitor:`` section of a YAML file (other sections are not ours to check)."""
    origin = os.fspath(path)
    data, lines = load_yaml(origin)
    if not isinstance(data, dict) or "stats_monitor" not in data:
        raise ConfigError(f"{origin}: no stats_monitor section")
    return build_stats_monitor(data["stats_monitor"], source=origin, lines=lines)


def load_npd_system_stats_monitor(path: str | os.PathLike[str]) -> StatsMonitorConfig:
    """node-problem-detector's system-stats-monitor JSON, unchanged (see ``npd``)."""
    return parse_npd_system_stats_monitor(os.fspath(path))
