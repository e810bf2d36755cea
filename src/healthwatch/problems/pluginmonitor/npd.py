"""Reading node-problem-detector's custom-plugin-monitor JSON as NPD's Go decoder reads it.

Existing DaemonSets pass these files with ``--config.custom-plugin-monitor``;
they load unchanged. Go's ``encoding/json`` matches keys case-insensitively (an
exact match wins, a later key overrides an earlier one), treats ``null`` as
absent, and rejects wrong types (a fractional ``concurrency``, a number where a
duration string belongs), ``NaN`` and trailing commas; so does this reader.
Durations are Go durations (``"30s"``, ``"1m30s"``). One difference, on
purpose: a key NPD does not know is an error naming it, where NPD would silently
ignore it (a misspelt ``timeout`` would otherwise leave the default in force).

Relative plugin paths are resolved as NPD resolves them: against the working
directory of the process (NPD's image runs from ``/``, so its shipped
``./config/plugin/check_ntp.sh`` means ``/config/plugin/check_ntp.sh``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from healthwatch.config.jsonfile import decode_json_object
from healthwatch.config.yamlfile import read_config_text
from healthwatch.problems.logmonitor.gotime import parse_go_duration
from healthwatch.problems.pluginmonitor.checks import RawRule, Where, assemble, fail
from healthwatch.problems.pluginmonitor.specs import (
    DEFAULT_CONCURRENCY,
    DEFAULT_INTERVAL,
    DEFAULT_MAX_OUTPUT_LENGTH,
    DEFAULT_TIMEOUT,
    DefaultCondition,
    PluginMonitorConfig,
)

__all__ = ["load_npd_file", "parse_npd_custom_plugin_monitor"]

_TOP = ("plugin", "pluginConfig", "source", "metricsReporting", "conditions", "rules")
_GLOBAL = (
    "invoke_interval",
    "timeout",
    "max_output_length",
    "concurrency",
    "enable_message_change_based_condition_update",
    "skip_initial_status",
)
_CONDITION = ("type", "status", "transition", "reason", "message")
_RULE = ("type", "condition", "reason", "path", "args", "timeout", "invoke_interval")
_FIELDS = {
    "interval": "pluginConfig.invoke_interval",
    "timeout": "pluginConfig.timeout",
    "max_output_length": "pluginConfig.max_output_length",
    "concurrency": "pluginConfig.concurrency",
    "conditions": "conditions",
    "rule.timeout": "timeout",
    "rule.interval": "invoke_interval",
}
_GO_INT = 2**63


def _decode(text: str, origin: str) -> dict[str, Any]:
    return decode_json_object(text, origin=origin, what="a custom plugin monitor config")


class _Reader:
    """Type-checks values the way Go's decoder would, naming the field on failure."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.where: Where = lambda _field: origin

    def fold(self, obj: dict[str, Any], known: tuple[str, ...], prefix: str) -> dict[str, Any]:
        """Go's key matching: exact, else case-insensitive; later keys win; null is absent."""
        lowered = {k.lower(): k for k in known}
        out: dict[str, Any] = {}
        for key, value in obj.items():
            name = key if key in known else lowered.get(key.lower())
            if name is None:
                raise fail(
                    self.where,
                    f"{prefix}{key}",
                    f"unknown key (known here: {', '.join(known)})",
                    value,
                )
            if value is None:
                out.pop(name, None)
            else:
                out[name] = value
        return out

    def typed(self, field: str, value: Any, kind: type, label: str) -> Any:
        if isinstance(value, kind) and not (kind is not bool and isinstance(value, bool)):
            return value
        raise fail(self.where, field, f"expected {label}", value)

    def integer(self, field: str, value: Any) -> int:
        number: int = self.typed(field, value, int, "an integer")
        if not -_GO_INT <= number < _GO_INT:
            raise fail(self.where, field, "integer out of range", number)
        return number

    def duration(self, field: str, value: Any) -> float:
        text: str = self.typed(field, value, str, "a Go duration string like '30s'")
        try:
            return parse_go_duration(text)
        except ValueError as error:
            raise fail(self.where, field, str(error), text) from None

    def strings(self, field: str, value: Any) -> tuple[str, ...]:
        items: list[Any] = self.typed(field, value, list, "a list of strings")
        return tuple(
            "" if v is None else self.typed(f"{field}[{i}]", v, str, "a string")
            for i, v in enumerate(items)
        )

    def objects(self, field: str, value: Any, known: tuple[str, ...]) -> list[dict[str, Any]]:
        items: list[Any] = self.typed(field, value, list, "a list of objects")
        return [  # a null entry is Go's zero value: an object with every field empty
            self.fold(
                self.typed(f"{field}[{i}]", {} if item is None else item, dict, "an object"),
                known,
                f"{field}[{i}].",
            )
            for i, item in enumerate(items)
        ]


def _resolve(reader: _Reader, raw: RawRule) -> str:
    if not raw.path:
        raise fail(reader.where, f"{raw.field}.path", "must name the plugin to run", raw.path)
    return raw.path if os.path.isabs(raw.path) else os.path.join(os.getcwd(), raw.path)


def _condition(
    reader: _Reader, field: str, entry: dict[str, Any], warnings: list[str]
) -> DefaultCondition:
    values = {k: reader.typed(f"{field}.{k}", v, str, "a string") for k, v in entry.items()}
    for ignored in ("status", "transition"):
        if ignored in values:
            warnings.append(f"{field}.{ignored}: ignored (every condition starts False)")
    return DefaultCondition(
        type=values.get("type", ""),
        reason=values.get("reason", ""),
        message=values.get("message", ""),
    )


def _rule(reader: _Reader, field: str, entry: dict[str, Any], warnings: list[str]) -> RawRule:
    def text(key: str) -> str:
        return str(reader.typed(f"{field}.{key}", entry.get(key, ""), str, "a string"))

    def seconds(key: str) -> float | None:
        return reader.duration(f"{field}.{key}", entry[key]) if key in entry else None

    kind, condition = text("type"), text("condition")
    if kind == "temporary" and condition:
        warnings.append(f"{field}.condition: ignored on a temporary rule")
    return RawRule(
        field=field,
        type=kind,
        condition=condition or None,
        reason=text("reason"),
        path=text("path"),
        args=reader.strings(f"{field}.args", entry["args"]) if "args" in entry else (),
        timeout=seconds("timeout"),
        interval=seconds("invoke_interval"),
    )


def parse_npd_custom_plugin_monitor(text: str, *, origin: str) -> PluginMonitorConfig:
    """Decode, type-check and validate one custom-plugin-monitor JSON document."""
    reader = _Reader(origin)
    top = reader.fold(_decode(text, origin), _TOP, "")
    warnings: list[str] = []
    plugin = reader.typed("plugin", top.get("plugin", ""), str, "a string")
    if plugin != "custom":
        hint = " (a system log monitor config is a different kind of file)" if plugin else ""
        raise fail(reader.where, "plugin", f'must be "custom"{hint}', plugin)
    raw_global = reader.typed("pluginConfig", top.get("pluginConfig", {}), dict, "an object")
    settings = reader.fold(raw_global, _GLOBAL, "pluginConfig.")

    def setting(key: str, default: Any, convert: Any) -> Any:
        return convert(f"pluginConfig.{key}", settings[key]) if key in settings else default

    def flag(field: str, value: Any) -> bool:
        return bool(reader.typed(field, value, bool, "true or false"))

    name = reader.typed("source", top.get("source", ""), str, "a string")
    if not name:
        name = Path(origin).stem
        warnings.append(f"source: missing; using {name!r}")
    entries = reader.objects("conditions", top.get("conditions", []), _CONDITION)
    conditions = [
        _condition(reader, f"conditions[{i}]", e, warnings) for i, e in enumerate(entries)
    ]
    entries = reader.objects("rules", top.get("rules", []), _RULE)
    rules = [_rule(reader, f"rules[{i}]", e, warnings) for i, e in enumerate(entries)]
    metrics = top.get("metricsReporting", True)
    return assemble(
        name=name,
        fields=_FIELDS,
        where=reader.where,
        interval=setting("invoke_interval", DEFAULT_INTERVAL, reader.duration),
        timeout=setting("timeout", DEFAULT_TIMEOUT, reader.duration),
        max_output_length=setting("max_output_length", DEFAULT_MAX_OUTPUT_LENGTH, reader.integer),
        concurrency=setting("concurrency", DEFAULT_CONCURRENCY, reader.integer),
        message_change_updates=setting("enable_message_change_based_condition_update", False, flag),
        skip_initial_status=setting("skip_initial_status", False, flag),
        metrics_reporting=flag("metricsReporting", metrics),
        conditions=conditions,
        rules=rules,
        resolve=lambda raw: _resolve(reader, raw),
        origin=origin,
        state_key=f"{name}.{Path(origin).stem}",
        warnings=warnings,
    )


def load_npd_file(path: str | os.PathLike[str]) -> PluginMonitorConfig:
    """Read and parse one custom-plugin-monitor JSON file."""
    origin = os.fspath(path)
    return parse_npd_custom_plugin_monitor(read_config_text(origin), origin=origin)
