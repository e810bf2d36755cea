"""Reading node-problem-detector's system-stats-monitor JSON as NPD's Go decoder would.

Existing DaemonSets pass these files with ``--config.system-stats-monitor``;
they load unchanged. As Go's ``encoding/json`` does, keys of the config's
structs match case-insensitively (a later key overrides an earlier one),
unknown keys are ignored (here: collected as warnings), ``null`` means absent,
and wrong types are errors. Metric IDs are map keys and
match exactly. NPD's own checks apply (``invokeInterval`` and ``lsblkTimeout``
above 0, ``lsblkTimeout`` not above ``invokeInterval``), plus ours: an interval
of at least 1 s, distinct metric names, regexes that compile.

What the settings come to: a section's ``metricsConfigs`` selects its metrics
(the display name becomes the Prometheus name) and turns its collector on;
``procPath`` is the proc root (``/proc`` means the host root's); ``lsblkTimeout``
bounds one collection; ``includeRootBlk`` / ``includeAllAttachedBlk`` restrict disk
I/O figures to whole disks (``/sys/block``) / mounted devices, found without
running ``lsblk``; ``osFeature`` is accepted but not collected. NPD's stats
monitor sets no conditions, so none are declared.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from healthwatch.config.jsonfile import decode_json_object
from healthwatch.config.yamlfile import read_config_text
from healthwatch.model.errors import ConfigError
from healthwatch.problems.statsmonitor.catalog import (
    NPD_METRICS,
    NPD_SECTIONS,
    UNSUPPORTED_METRICS,
    prometheus_name,
)
from healthwatch.problems.statsmonitor.collectors import CollectOptions
from healthwatch.problems.statsmonitor.settings import MIN_INTERVAL, StatsMonitorConfig

__all__ = ["parse_go_duration", "parse_npd_system_stats_monitor"]

_TOP = (*NPD_SECTIONS, "invokeInterval", "procPath")
_SECTION_EXTRAS = {
    "disk": ("includeRootBlk", "includeAllAttachedBlk", "lsblkTimeout"),
    "osFeature": ("knownModulesConfigPath",),
    "net": ("excludeInterfaceRegexp",),
}
_GO_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_GO_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_go_duration(text: str) -> float:
    """Seconds in a Go duration string (``1m30s``, ``-5s``); ValueError when it is not one."""
    body = text[1:] if text[:1] in "+-" else text
    sign = -1.0 if text.startswith("-") else 1.0
    if body == "0":
        return 0.0
    pos, seconds = 0, 0.0
    for match in _GO_PART.finditer(body):
        if match.start() != pos:
            break
        seconds += float(match.group(1)) * _GO_UNITS[match.group(2)]
        pos = match.end()
    if not body or pos != len(body):
        raise ValueError(f"invalid Go duration {text!r}")
    return sign * seconds


class _Reader:
    """Type checks and Go's key folding for one file."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.warnings: list[str] = []

    def error(self, field: str, problem: str, value: object = None) -> ConfigError:
        shown = f" (got {value!r:.200})" if value is not None else ""
        return ConfigError(f"{self.origin}: {field}: {problem}{shown}")

    def fold(self, obj: dict[str, Any], known: tuple[str, ...], where: str) -> dict[str, Any]:
        """Go's struct-field matching: any case; a later key overrides; null means absent."""
        lowered = {k.lower(): k for k in known}
        out: dict[str, Any] = {}
        for key, value in obj.items():
            name = lowered.get(key.lower())
            if name is None:
                self.warnings.append(
                    f"{where}{key}: unknown key ignored (as node-problem-detector does)"
                )
            elif value is None:
                out.pop(name, None)
            else:
                out[name] = value
        return out

    def typed(self, field: str, value: Any, kind: type, label: str) -> Any:
        if isinstance(value, kind) and not (kind is not bool and isinstance(value, bool)):
            return value
        raise self.error(field, f"expected {label}", value)

    def duration(self, field: str, value: str) -> float:
        try:
            seconds = parse_go_duration(value)
        except ValueError as error:
            raise self.error(field, str(error), value) from None
        if seconds <= 0:
            raise self.error(field, "must be above 0s", value)
        return seconds


def _decode(text: str, origin: str) -> dict[str, Any]:
    return decode_json_object(text, origin=origin, what="a system stats monitor config")


def _selection(
    reader: _Reader, top: dict[str, Any]
) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Selected metric ID → name, and each section's other settings."""
    names: dict[str, str] = {}
    taken: dict[str, str] = {}
    sections: dict[str, dict[str, Any]] = {}
    for section, collector in NPD_SECTIONS.items():
        if section not in top:
            continue
        known = ("metricsConfigs", *_SECTION_EXTRAS.get(section, ()))
        body = reader.fold(
            reader.typed(section, top[section], dict, "an object"), known, f"{section}."
        )
        sections[section] = body
        configs = reader.typed(
            f"{section}.metricsConfigs", body.get("metricsConfigs", {}), dict, "an object"
        )
        for metric, entry in configs.items():
            field = f"{section}.metricsConfigs.{metric}"
            if entry is None:
                continue
            folded = reader.fold(
                reader.typed(field, entry, dict, "an object"), ("displayName",), f"{field}."
            )
            display = reader.typed(
                f"{field}.displayName", folded.get("displayName", ""), str, "a string"
            )
            info = NPD_METRICS.get(metric)
            if collector is None or metric in UNSUPPORTED_METRICS:
                reader.warnings.append(f"{field}: not collected by this monitor; ignored")
                continue
            if info is None or info.collector != collector:
                reader.warnings.append(f"{field}: not a metric of the {section} section; ignored")
                continue
            if not display:
                reader.warnings.append(f"{field}: empty displayName; not exported (as in NPD)")
                continue
            name = prometheus_name(display)
            if name in taken:
                raise reader.error(
                    f"{field}.displayName", f"same metric name as {taken[name]}", display
                )
            taken[name] = field
            names[metric] = name
    return names, sections


def parse_npd_system_stats_monitor(origin: str) -> StatsMonitorConfig:
    """Decode, type-check and apply one system-stats-monitor JSON file."""
    reader = _Reader(origin)
    top = reader.fold(_decode(read_config_text(origin), origin), _TOP, "")
    names, sections = _selection(reader, top)
    interval = reader.duration(
        "invokeInterval",
        reader.typed(
            "invokeInterval", top.get("invokeInterval", "60s"), str, "a Go duration string"
        ),
    )
    if interval < MIN_INTERVAL:
        raise reader.error(
            "invokeInterval", f"must be at least {MIN_INTERVAL:g}s", top["invokeInterval"]
        )
    disk = sections.get("disk", {})
    timeout = reader.duration(
        "disk.lsblkTimeout",
        reader.typed(
            "disk.lsblkTimeout", disk.get("lsblkTimeout", "5s"), str, "a Go duration string"
        ),
    )
    if timeout > interval:
        raise reader.error(
            "disk.lsblkTimeout",
            f"must not be above invokeInterval ({interval:g}s)",
            disk.get("lsblkTimeout", "5s"),
        )
    flags = {
        key: reader.typed(f"disk.{key}", disk.get(key, False), bool, "true or false")
        for key in ("includeRootBlk", "includeAllAttachedBlk")
    }
    net = sections.get("net", {})
    pattern_text = reader.typed(
        "net.excludeInterfaceRegexp", net.get("excludeInterfaceRegexp", ""), str, "a string"
    )
    try:
        pattern = re.compile(pattern_text) if pattern_text else None
    except re.error as error:
        raise reader.error(
            "net.excludeInterfaceRegexp", f"invalid regexp: {error}", pattern_text
        ) from None
    os_feature = sections.get("osFeature", {})
    if "knownModulesConfigPath" in os_feature:
        reader.typed(
            "osFeature.knownModulesConfigPath",
            os_feature["knownModulesConfigPath"],
            str,
            "a string",
        )
    proc = reader.typed("procPath", top.get("procPath", "/proc"), str, "a string")
    if not proc.startswith("/"):
        raise reader.error("procPath", "must be an absolute path", proc)
    collectors = frozenset(NPD_METRICS[m].collector for m in names)
    return StatsMonitorConfig(
        name=Path(origin).stem or "system-stats-monitor",
        interval=interval,
        timeout=timeout,
        options=CollectOptions(
            collectors=collectors,
            exclude_interfaces=pattern,
            include_root_blk=flags["includeRootBlk"],
            include_attached_blk=flags["includeAllAttachedBlk"],
        ),
        metrics=names,
        proc_path=None if proc.rstrip("/") == "/proc" else proc,
        origin=origin,
        warnings=tuple(reader.warnings),
    )
