"""Reading node-problem-detector's system-log-monitor JSON exactly as NPD's Go decoder would.

Existing DaemonSets pass these files with ``--config.system-log-monitor``; they
must load unchanged. Go's ``encoding/json`` matches keys case-insensitively
(an exact match wins, a later key overrides an earlier one), ignores unknown
keys, treats ``null`` as absent, and rejects wrong types, ``NaN`` and trailing
commas; so does this reader, except that ignored keys are collected as
warnings. The document is first type-checked into an :class:`NpdMonitor`,
then :func:`to_config` applies NPD's meaning (plugins, defaults, which settings
each plugin ignores) and our stricter checks into a ``LogMonitorConfig``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from healthwatch.config.jsonfile import decode_json_object
from healthwatch.config.yamlfile import read_config_text
from healthwatch.model.errors import ConfigError
from healthwatch.problems.logmonitor.gotime import (
    TimestampParser,
    compile_layout,
    parse_go_duration,
)
from healthwatch.problems.logmonitor.re2 import compile_pattern
from healthwatch.problems.logmonitor.rules import MAX_BUFFER_SIZE, Rule
from healthwatch.problems.logmonitor.specs import (
    DefaultCondition,
    LogMonitorConfig,
    SourceKind,
    Where,
    check_rules,
    fail,
    merge_conditions,
)

__all__ = [
    "NpdCondition",
    "NpdMonitor",
    "NpdRule",
    "decode_json",
    "parse_npd",
    "read_text",
    "to_config",
]

_PLUGINS: dict[str, SourceKind] = {"kmsg": "kmsg", "filelog": "file", "journald": "journald"}
_FILELOG_KEYS = ("timestamp", "message", "timestampFormat")

_TOP = (
    "plugin",
    "pluginConfig",
    "logPath",
    "lookback",
    "delay",
    "skipList",
    "bufferSize",
    "source",
    "metricsReporting",
    "conditions",
    "rules",
)
_CONDITION = ("type", "reason", "message")
_RULE = ("type", "condition", "reason", "pattern", "patternGeneratedMessageSuffix")


@dataclass(frozen=True, slots=True, kw_only=True)
class NpdCondition:
    """One entry of ``conditions``."""

    type: str
    reason: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class NpdRule:
    """One entry of ``rules``."""

    type: str
    condition: str
    reason: str
    pattern: str
    suffix: str


@dataclass(slots=True, kw_only=True)
class NpdMonitor:
    """The fields of the file, type-checked; None where the file leaves them out."""

    origin: str
    plugin: str | None = None
    plugin_config: dict[str, str] = field(default_factory=dict)
    log_path: str | None = None
    lookback: str | None = None
    delay: str | None = None
    skip_list: list[str] | None = None
    buffer_size: int | None = None
    source: str | None = None
    metrics_reporting: bool | None = None
    conditions: list[NpdCondition] = field(default_factory=list)
    rules: list[NpdRule] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def read_text(path: str | Path) -> str:
    """The file's text; ConfigError if it is unreadable, too big or not UTF-8."""
    return read_config_text(path)


def _fold(
    obj: dict[str, Any], known: tuple[str, ...], *, where: str, warnings: list[str]
) -> dict[str, Any]:
    """Go's key matching: exact, else case-insensitive; later keys win; null means absent."""
    lowered = {k.lower(): k for k in known}
    out: dict[str, Any] = {}
    for key, value in obj.items():
        name = key if key in known else lowered.get(key.lower())
        if name is None:
            warnings.append(f"{where}{key}: unknown key ignored (as node-problem-detector does)")
            continue
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def _typed(origin: str, path: str, value: Any, kind: type, label: str) -> Any:
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    raise ConfigError(f"{origin}: {path}: expected {label}, got {value!r:.120}")


def _strings(origin: str, path: str, value: Any) -> list[str]:
    items = _typed(origin, path, value, list, "a list of strings")
    return [_typed(origin, f"{path}[{i}]", v, str, "a string") for i, v in enumerate(items)]


def _entries(
    origin: str, path: str, value: Any, known: tuple[str, ...], warnings: list[str]
) -> list[dict[str, str]]:
    items = _typed(origin, path, value, list, "a list of objects")
    out = []
    for i, item in enumerate(items):
        where = f"{path}[{i}]"
        entry = _fold(
            _typed(origin, where, item, dict, "an object"),
            known,
            where=f"{where}.",
            warnings=warnings,
        )
        out.append(
            {k: _typed(origin, f"{where}.{k}", v, str, "a string") for k, v in entry.items()}
        )
    return out


def decode_json(text: str, *, origin: str) -> dict[str, Any]:
    """A JSON object as Go would accept it; ConfigError with line:column when it is not."""
    return decode_json_object(text, origin=origin, what="a system log monitor config")


def parse_npd(text: str, *, origin: str) -> NpdMonitor:
    """Decode and type-check one system-log-monitor JSON document."""
    monitor = NpdMonitor(origin=origin)
    top = _fold(decode_json(text, origin=origin), _TOP, where="", warnings=monitor.warnings)

    def get(key: str, kind: type, label: str) -> Any:
        return _typed(origin, key, top[key], kind, label) if key in top else None

    monitor.plugin = get("plugin", str, "a string")
    monitor.log_path = get("logPath", str, "a string")
    monitor.lookback = get("lookback", str, "a Go duration string")
    monitor.delay = get("delay", str, "a Go duration string")
    monitor.source = get("source", str, "a string")
    monitor.buffer_size = get("bufferSize", int, "an integer")
    monitor.metrics_reporting = get("metricsReporting", bool, "true or false")
    config = get("pluginConfig", dict, "an object") or {}
    monitor.plugin_config = {
        k: _typed(origin, f"pluginConfig.{k}", v, str, "a string")
        for k, v in config.items()
        if v is not None
    }
    if "skipList" in top:
        monitor.skip_list = _strings(origin, "skipList", top["skipList"])
    conditions = _entries(
        origin, "conditions", top.get("conditions", []), _CONDITION, monitor.warnings
    )
    monitor.conditions = [
        NpdCondition(
            type=e.get("type", ""), reason=e.get("reason", ""), message=e.get("message", "")
        )
        for e in conditions
    ]
    rules = _entries(origin, "rules", top.get("rules", []), _RULE, monitor.warnings)
    monitor.rules = [
        NpdRule(
            type=e.get("type", ""),
            condition=e.get("condition", ""),
            reason=e.get("reason", ""),
            pattern=e.get("pattern", ""),
            suffix=e.get("patternGeneratedMessageSuffix", ""),
        )
        for e in rules
    ]
    return monitor


@dataclass(slots=True, kw_only=True)
class _Plugin:
    """What the plugin settings come to."""

    source: SourceKind
    path: str | None
    timestamp_regex: re.Pattern[str] | None = None
    message_regex: re.Pattern[str] | None = None
    layout: str | None = None
    parser: TimestampParser | None = None
    identifiers: tuple[str, ...] = ()


def _plugin(monitor: NpdMonitor, where: Where, warnings: list[str]) -> _Plugin:
    if monitor.plugin is None:
        raise fail(where, "plugin", "missing (one of filelog, journald, kmsg)")
    source = _PLUGINS.get(monitor.plugin)
    if source is None:
        hint = ""
        if monitor.plugin == "custom":
            hint = " (a custom plugin monitor config is a different kind of file)"
        raise fail(
            where,
            "plugin",
            f"unknown plugin; node-problem-detector knows filelog, journald and kmsg{hint}",
            monitor.plugin,
        )
    settings = monitor.plugin_config
    path = monitor.log_path or None
    if source == "kmsg":
        if path not in (None, "/dev/kmsg"):
            warnings.append(f"logPath: {path!r} ignored: the kmsg plugin always reads /dev/kmsg")
        return _Plugin(source=source, path="/dev/kmsg")
    if source == "journald":
        if not settings.get("source"):
            raise fail(
                where, "pluginConfig.source", "the journald plugin needs a SYSLOG_IDENTIFIER"
            )
        return _Plugin(source=source, path=path, identifiers=(settings["source"],))
    if path is None:
        raise fail(where, "logPath", "the filelog plugin needs the file to read")
    for key in _FILELOG_KEYS:
        if not settings.get(key):
            raise fail(where, f"pluginConfig.{key}", "the filelog plugin needs it")
    layout = settings["timestampFormat"]
    try:
        parser = compile_layout(layout)
    except ValueError as error:
        raise fail(where, "pluginConfig.timestampFormat", str(error), layout) from None
    return _Plugin(
        source=source,
        path=path,
        timestamp_regex=_regex(where, "pluginConfig.timestamp", settings["timestamp"]),
        message_regex=_regex(where, "pluginConfig.message", settings["message"]),
        layout=layout,
        parser=parser,
    )


def _rules(monitor: NpdMonitor, where: Where, warnings: list[str]) -> list[tuple[str, Rule]]:
    rules: list[tuple[str, Rule]] = []
    for i, entry in enumerate(monitor.rules):
        field = f"rules[{i}]"
        if entry.type not in ("temporary", "permanent"):
            raise fail(where, f"{field}.type", "must be temporary or permanent", entry.type)
        if not entry.reason:
            raise fail(where, f"{field}.reason", "must not be empty")
        condition = entry.condition or None
        if entry.type == "temporary" and condition is not None:
            warnings.append(f"{field}.condition: ignored on a temporary rule")
            condition = None
        rule = Rule(
            kind="permanent" if entry.type == "permanent" else "temporary",
            reason=entry.reason,
            pattern=entry.pattern,
            condition=condition,
            message_suffix=entry.suffix,
        )
        rules.append((field, rule))
    return rules


def to_config(monitor: NpdMonitor) -> LogMonitorConfig:
    """Apply NPD's meaning to a decoded file; ConfigError naming the field when it is wrong."""
    origin = monitor.origin
    warnings = list(monitor.warnings)

    def where(_field: str) -> str:
        return origin

    plugin = _plugin(monitor, where, warnings)
    if monitor.skip_list and plugin.source != "file":
        warnings.append("skipList: ignored: only the filelog plugin uses it")
    name = monitor.source or ""
    if not name:
        name = Path(origin).stem
        warnings.append(f"source: missing; using {name!r}")
    declared = [
        DefaultCondition(type=c.type, reason=c.reason, message=c.message)
        for c in monitor.conditions
    ]
    conditions = merge_conditions([("conditions", declared, False)], where=where)
    rules = _rules(monitor, where, warnings)
    buffer_size = 10 if monitor.buffer_size is None else monitor.buffer_size
    if not 1 <= buffer_size <= MAX_BUFFER_SIZE:
        raise fail(where, "bufferSize", f"must be between 1 and {MAX_BUFFER_SIZE}", buffer_size)
    return LogMonitorConfig(
        name=name,
        source=plugin.source,
        path=plugin.path,
        ruleset=check_rules(rules, conditions, buffer_size=buffer_size, where=where),
        timestamp_regex=plugin.timestamp_regex,
        timestamp_format=plugin.layout,
        timestamp_parser=plugin.parser,
        message_regex=plugin.message_regex,
        identifiers=plugin.identifiers,
        lookback=_duration(where, "lookback", monitor.lookback),
        delay=_duration(where, "delay", monitor.delay),
        buffer_size=buffer_size,
        skip_list=tuple(monitor.skip_list or ()) if plugin.source == "file" else (),
        metrics_reporting=monitor.metrics_reporting is not False,
        conditions=conditions,
        rules=tuple(rule for _, rule in rules),
        origin=origin,
        warnings=tuple(warnings),
    )


def _regex(where: Where, field: str, pattern: str) -> re.Pattern[str]:
    try:
        return compile_pattern(pattern)
    except ValueError as error:
        raise fail(where, field, f"invalid regexp: {error}", pattern) from None


def _duration(where: Where, field: str, value: str | None) -> float:
    if value is None:
        return 0.0
    try:
        return parse_go_duration(value)
    except ValueError as error:
        raise fail(where, field, str(error), value) from None
