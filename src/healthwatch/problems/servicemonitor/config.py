"""A service monitor's configuration: one ``service_monitors:`` entry into one frozen value.

Everything that can be wrong is found here, at load: unknown keys, wrong types,
negative or out-of-range durations, a per-call timeout longer than the interval,
hostile unit names, bad URLs and endpoints, bad regexes. Errors are
:class:`ConfigError` naming the file (and line), the field path
(``service_monitors[1].unit``) and the bad value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import msgspec

from healthwatch.config.durations import parse_duration
from healthwatch.config.yamlfile import convert
from healthwatch.model.errors import ConfigError
from healthwatch.problems.servicemonitor.components import (
    COMPONENT_DEFAULTS,
    Component,
    RuntimeKind,
    camel_case,
    unit_name,
    unit_stem,
)
from healthwatch.problems.servicemonitor.journal import LogPattern, LogPatternSpec, compile_patterns
from healthwatch.problems.servicemonitor.validation import (
    Where,
    check_endpoint,
    check_url,
    fail,
    where_in,
)

__all__ = [
    "ServiceMonitorConfig",
    "ServiceMonitorSpec",
    "build_service_monitor",
    "build_service_monitors",
]

Duration = str | float | int
MIN_INTERVAL: Final = 1.0
DEFAULT_CRI_TIMEOUT: Final = 2.0
MAX_STEM: Final = 48
"""Characters of a unit's CamelCase stem used in derived condition types and reasons."""
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
_NOT_NAME = re.compile(r"[^A-Za-z0-9_.-]+")
_CONDITION = re.compile(r"[A-Z][A-Za-z0-9]{0,62}")


class ServiceMonitorSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One entry of ``service_monitors:``, as written."""

    component: Component
    unit: str | None = None
    name: str | None = None
    condition: str | None = None
    interval: Duration = "30s"
    timeout: Duration = "10s"
    health_url: str | None = None
    runtime_endpoint: str | None = None
    runtime_timeout: Duration | None = None
    log_patterns: list[LogPatternSpec] = msgspec.field(default_factory=list)
    loopback: Duration = 0
    enable_repair: bool = False
    cooldown: Duration = "2m"
    max_repairs_per_hour: int = 3
    flap_restarts: int = 3
    flap_window: Duration = "10m"


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceMonitorConfig:
    """One service monitor, validated; durations in seconds."""

    name: str
    """Daemon name: its health component, the status source and metric label."""
    component: Component
    """Which kind of service."""
    unit: str
    """Full systemd unit name (``kubelet.service``)."""
    condition: str
    """Condition type held by this monitor (``KubeletUnhealthy``)."""
    reason_prefix: str
    """Start of every reason this monitor reports (``Kubelet``)."""
    interval: float = 30.0
    """Seconds between polls."""
    timeout: float = 10.0
    """Seconds allowed to each command and to the health request."""
    health_url: str = ""
    """Health endpoint expected to answer 200; empty: none."""
    runtime: RuntimeKind | None = None
    """Container-runtime reachability check, if any."""
    runtime_endpoint: str = ""
    """CRI endpoint given to ``crictl`` (cri runtimes)."""
    runtime_timeout: float = 2.0
    """``crictl --timeout`` (at most ``timeout``)."""
    log_patterns: tuple[LogPattern, ...] = ()
    """Journal patterns with thresholds."""
    loopback: float = 0.0
    """Count journal lines of at most this many seconds back (0: since the unit started)."""
    enable_repair: bool = False
    """Kill the main process of an unhealthy running unit (after ``cooldown``)."""
    cooldown: float = 120.0
    """Seconds a unit must have been up before it may be repaired."""
    max_repairs_per_hour: int = 3
    """Repairs allowed in any hour; beyond, repair stops and the monitor is degraded."""
    flap_restarts: int = 3
    """Restarts within ``flap_window`` that make the unit flapping (0: never)."""
    flap_window: float = 600.0
    """Seconds over which restarts are counted."""
    origin: str = ""
    """Where this came from (file and entry)."""


def _seconds(where: Where, field: str, value: Duration) -> float:
    negative = value < 0 if isinstance(value, int | float) else value.strip().startswith("-")
    if negative and not isinstance(value, bool):
        raise fail(where, field, "a duration must not be negative", value)
    try:
        return parse_duration(value)
    except ValueError as error:
        raise fail(where, field, str(error)) from None


def _unit(where: Where, label: str, spec: ServiceMonitorSpec) -> str:
    written = spec.unit if spec.unit is not None else COMPONENT_DEFAULTS[spec.component].unit
    if not written:
        raise fail(where, f"{label}unit", "component 'unit' needs the name of a systemd unit")
    try:
        return unit_name(written)
    except ValueError as error:
        raise fail(where, f"{label}unit", str(error), written) from None


def _runtime(
    where: Where, label: str, spec: ServiceMonitorSpec, timeout: float
) -> tuple[str, float]:
    """The CRI endpoint and ``crictl --timeout`` (default 2s, never above ``timeout``)."""
    defaults = COMPONENT_DEFAULTS[spec.component]
    for field, value in (
        ("runtime_endpoint", spec.runtime_endpoint),
        ("runtime_timeout", spec.runtime_timeout),
    ):
        if value is not None and defaults.runtime is not RuntimeKind.CRI:
            raise fail(
                where, label + field, f"only containerd and cri-o use it, not {spec.component}"
            )
    endpoint = spec.runtime_endpoint or defaults.runtime_endpoint
    if endpoint:
        try:
            check_endpoint(endpoint)
        except ValueError as error:
            raise fail(where, f"{label}runtime_endpoint", str(error), endpoint) from None
    if spec.runtime_timeout is None:
        return endpoint, min(DEFAULT_CRI_TIMEOUT, timeout)
    runtime_timeout = _seconds(where, f"{label}runtime_timeout", spec.runtime_timeout)
    if not 0 < runtime_timeout <= timeout:
        raise fail(
            where,
            f"{label}runtime_timeout",
            "must be above 0 and at most the timeout",
            spec.runtime_timeout,
        )
    return endpoint, runtime_timeout


def _default_name(unit: str) -> str:
    """``service-`` and the unit's stem, characters a name may not hold made ``-``."""
    return f"service-{_NOT_NAME.sub('-', unit_stem(unit))}"[:63].rstrip("-")


def build_service_monitor(
    raw: object,
    *,
    source: str,
    lines: Mapping[str, int] | None = None,
    prefix: str = "",
) -> ServiceMonitorConfig:
    """Convert and validate one ``service_monitors`` entry read from ``source``.

    ``lines`` is the file's field path → line map (``load_yaml``); ``prefix`` is the
    entry's path in the file (``service_monitors[0]``), used in messages.
    """
    known = dict(lines or {})
    spec = convert(raw, ServiceMonitorSpec, source=source, lines=known, prefix=prefix)
    where = where_in(source, known, prefix)
    label = f"{prefix}." if prefix else ""
    defaults = COMPONENT_DEFAULTS[spec.component]
    unit = _unit(where, label, spec)
    stem = camel_case(unit_stem(unit))[:MAX_STEM]
    name = spec.name if spec.name is not None else _default_name(unit)
    if _NAME.fullmatch(name) is None:
        raise fail(
            where,
            f"{label}name",
            "must be 1-63 letters, digits, '_', '.', '-', starting with a letter or digit",
            name,
        )
    condition = spec.condition or defaults.condition or f"{stem}Unhealthy"
    if _CONDITION.fullmatch(condition) is None:
        raise fail(where, f"{label}condition", "must be a CamelCase word", condition)
    interval = _seconds(where, f"{label}interval", spec.interval)
    if interval < MIN_INTERVAL:
        raise fail(where, f"{label}interval", f"must be at least {MIN_INTERVAL:g}s", spec.interval)
    timeout = _seconds(where, f"{label}timeout", spec.timeout)
    if not 0 < timeout <= interval:
        raise fail(
            where, f"{label}timeout", "must be above 0 and at most the interval", spec.timeout
        )
    health_url = spec.health_url if spec.health_url is not None else defaults.health_url
    if health_url:
        try:
            check_url(health_url)
        except ValueError as error:
            raise fail(where, f"{label}health_url", str(error), health_url) from None
    endpoint, runtime_timeout = _runtime(where, label, spec, timeout)
    if not 1 <= spec.max_repairs_per_hour <= 60:
        raise fail(
            where,
            f"{label}max_repairs_per_hour",
            "must be between 1 and 60 (turn repair off with enable_repair: false)",
            spec.max_repairs_per_hour,
        )
    if not 0 <= spec.flap_restarts <= 1000:
        raise fail(where, f"{label}flap_restarts", "must be between 0 and 1000", spec.flap_restarts)
    flap_window = _seconds(where, f"{label}flap_window", spec.flap_window)
    if flap_window <= 0:
        raise fail(where, f"{label}flap_window", "must be above 0", spec.flap_window)
    return ServiceMonitorConfig(
        name=name,
        component=spec.component,
        unit=unit,
        condition=condition,
        reason_prefix=defaults.reason_prefix or stem,
        interval=interval,
        timeout=timeout,
        health_url=health_url,
        runtime=defaults.runtime,
        runtime_endpoint=endpoint,
        runtime_timeout=runtime_timeout,
        log_patterns=compile_patterns(where, label, spec.log_patterns),
        loopback=_seconds(where, f"{label}loopback", spec.loopback),
        enable_repair=spec.enable_repair,
        cooldown=_seconds(where, f"{label}cooldown", spec.cooldown),
        max_repairs_per_hour=spec.max_repairs_per_hour,
        flap_restarts=spec.flap_restarts,
        flap_window=flap_window,
        origin=f"{source} ({prefix})" if prefix else source,
    )


def build_service_monitors(
    entries: Sequence[object],
    *,
    source: str,
    lines: Mapping[str, int] | None = None,
    key: str = "service_monitors",
) -> tuple[ServiceMonitorConfig, ...]:
    """Every entry of a ``service_monitors:`` list; names and condition types must not repeat.

    Two monitors holding one condition type would overwrite each other's verdict
    (``docker`` and ``containerd`` both default to ``ContainerRuntimeUnhealthy``),
    so that is an error asking for a ``condition:`` of its own.
    """
    if not isinstance(entries, Sequence) or isinstance(entries, str | bytes):
        raise ConfigError(f"{source}: {key}: expected a list of service monitors")
    known = dict(lines or {})
    built: list[ServiceMonitorConfig] = []
    for i, raw in enumerate(entries):
        prefix = f"{key}[{i}]"
        config = build_service_monitor(raw, source=source, lines=known, prefix=prefix)
        where = where_in(source, known, prefix)
        for j, other in enumerate(built):
            if other.name == config.name:
                raise fail(where, f"{prefix}.name", f"also the name of {key}[{j}]", config.name)
            if other.condition == config.condition:
                raise fail(
                    where,
                    f"{prefix}.condition",
                    f"also the condition of {key}[{j}]; give one of them a condition of its own",
                    config.condition,
                )
        built.append(config)
    return tuple(built)
