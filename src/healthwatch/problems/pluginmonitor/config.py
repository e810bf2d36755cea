"""A plugin monitor's configuration: node-problem-detector JSON or our YAML, into one frozen value.

- :func:`load_npd_custom_plugin_monitor` reads NPD's custom-plugin-monitor JSON
  unchanged (see ``npd`` for the decoding rules and how relative paths resolve).
- :func:`build_plugin_monitor` validates one entry of a ``plugin_monitors:``
  list in the agent's YAML: the same settings in snake_case::

      plugin_monitors:
        - name: ntp
          interval: 30s            # invoke_interval
          timeout: 5s
          max_output_length: 80
          concurrency: 3
          message_change_updates: false
          skip_initial_status: false
          conditions:
            - {type: NTPProblem, reason: NTPIsUp, message: ntp service is up}
          rules:
            - {type: permanent, condition: NTPProblem, reason: NTPIsDown,
               path: /etc/healthwatch/plugins/check_ntp.sh, args: [], timeout: 3s, interval: 1m}

  Durations are written as elsewhere in our YAML (``300ms``, ``30s``, ``5m``) and
  plugin paths must be absolute.

Both reach the same checks (``specs.assemble``); errors are :class:`ConfigError`
naming the file (and line, when known), the field path and the bad value.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

import msgspec

from healthwatch.config.durations import parse_duration
from healthwatch.config.yamlfile import convert
from healthwatch.problems.pluginmonitor.checks import RawRule, Where, assemble, fail
from healthwatch.problems.pluginmonitor.npd import load_npd_file
from healthwatch.problems.pluginmonitor.specs import (
    DEFAULT_CONCURRENCY,
    DEFAULT_INTERVAL,
    DEFAULT_MAX_OUTPUT_LENGTH,
    DEFAULT_TIMEOUT,
    DefaultCondition,
    PluginMonitorConfig,
    PluginRule,
)

__all__ = [
    "ConditionSpec",
    "DefaultCondition",
    "PluginMonitorConfig",
    "PluginMonitorSpec",
    "PluginRule",
    "RuleSpec",
    "build_plugin_monitor",
    "load_npd_custom_plugin_monitor",
]

Duration = str | float | int


class ConditionSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A condition the monitor owns, with its healthy (False) reason and message."""

    type: str
    reason: str
    message: str = ""


class RuleSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One plugin, as written in YAML."""

    type: Literal["temporary", "permanent"]
    reason: str
    path: str
    condition: str | None = None
    args: list[str] = msgspec.field(default_factory=list)
    timeout: Duration | None = None
    interval: Duration | None = None


class PluginMonitorSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One entry of ``plugin_monitors:``."""

    name: str
    interval: Duration = DEFAULT_INTERVAL
    timeout: Duration = DEFAULT_TIMEOUT
    max_output_length: int = DEFAULT_MAX_OUTPUT_LENGTH
    concurrency: int = DEFAULT_CONCURRENCY
    message_change_updates: bool = False
    skip_initial_status: bool = False
    metrics_reporting: bool = True
    conditions: list[ConditionSpec] = msgspec.field(default_factory=list)
    rules: list[RuleSpec] = msgspec.field(default_factory=list)


_FIELDS = {
    "interval": "interval",
    "timeout": "timeout",
    "max_output_length": "max_output_length",
    "concurrency": "concurrency",
    "conditions": "conditions",
    "rule.timeout": "timeout",
    "rule.interval": "interval",
}


def _where_in(source: str, lines: Mapping[str, int], prefix: str) -> Where:
    """Place of a field (its full path in the file): the file and the nearest known line."""

    def where(field: str) -> str:
        path, line = field, None
        while line is None and path:
            line = lines.get(path)
            path = path.rpartition(".")[0] if "." in path else ""
        line = line or lines.get(prefix)
        return f"{source}:{line}" if line else source

    return where


def _seconds(where: Where, field: str, value: Duration) -> float:
    negative = value < 0 if isinstance(value, int | float) else str(value).strip()[:1] == "-"
    if negative and not isinstance(value, bool):
        raise fail(where, field, "a duration must not be negative", value)
    try:
        return parse_duration(value)
    except ValueError as error:  # the message quotes the value
        raise fail(where, field, str(error)) from None


def _absolute(where: Where, raw: RawRule) -> str:
    if not os.path.isabs(raw.path):
        raise fail(
            where,
            f"{raw.field}.path",
            "must be an absolute path (relative paths are read only from "
            "node-problem-detector JSON, against the working directory)",
            raw.path,
        )
    return raw.path


def _check_keys(raw: object, where: Where, label: str) -> None:
    """Unknown keys, named with their own line and value (msgspec names only the object)."""
    if not isinstance(raw, dict):
        return
    nested: list[tuple[object, type[msgspec.Struct], str]] = [(raw, PluginMonitorSpec, label)]
    entries: tuple[tuple[str, type[msgspec.Struct]], ...] = (
        ("conditions", ConditionSpec),
        ("rules", RuleSpec),
    )
    for key, entry_kind in entries:
        items = raw.get(key)
        if isinstance(items, list):
            nested += [(item, entry_kind, f"{label}{key}[{i}].") for i, item in enumerate(items)]
    for item, kind, prefix in nested:
        if not isinstance(item, dict):
            continue
        known = {f.name for f in msgspec.structs.fields(kind)}
        for key, value in item.items():
            if key not in known:
                shown = None if isinstance(value, dict | list) else value
                raise fail(
                    where,
                    f"{prefix}{key}",
                    f"unknown key (known: {', '.join(sorted(known))})",
                    shown,
                )


def build_plugin_monitor(
    raw: object,
    *,
    source: str,
    lines: Mapping[str, int] | None = None,
    prefix: str = "",
) -> PluginMonitorConfig:
    """Convert and validate one ``plugin_monitors:`` entry read from ``source``.

    ``lines`` is the field-path → line map of that file (``load_yaml``) and
    ``prefix`` the entry's path in it (``plugin_monitors[0]``), for messages.
    """
    known = dict(lines or {})
    where = _where_in(source, known, prefix)
    label = f"{prefix}." if prefix else ""
    _check_keys(raw, where, label)
    spec = convert(raw, PluginMonitorSpec, source=source, lines=known, prefix=prefix)
    if not spec.name.strip():
        raise fail(where, f"{label}name", "must not be empty", spec.name)
    rules = []
    for i, rule in enumerate(spec.rules):
        field = f"{label}rules[{i}]"
        if rule.type == "temporary" and rule.condition is not None:
            raise fail(
                where, f"{field}.condition", "only permanent rules set a condition", rule.condition
            )
        rules.append(
            RawRule(
                field=field,
                type=rule.type,
                condition=rule.condition,
                reason=rule.reason,
                path=rule.path,
                args=tuple(rule.args),
                timeout=None
                if rule.timeout is None
                else _seconds(where, f"{field}.timeout", rule.timeout),
                interval=None
                if rule.interval is None
                else _seconds(where, f"{field}.interval", rule.interval),
            )
        )
    return assemble(
        name=spec.name,
        fields={
            key: f"{label}{value}" if "." not in key else value for key, value in _FIELDS.items()
        },
        where=where,
        interval=_seconds(where, f"{label}interval", spec.interval),
        timeout=_seconds(where, f"{label}timeout", spec.timeout),
        max_output_length=spec.max_output_length,
        concurrency=spec.concurrency,
        message_change_updates=spec.message_change_updates,
        skip_initial_status=spec.skip_initial_status,
        metrics_reporting=spec.metrics_reporting,
        conditions=[
            DefaultCondition(type=c.type, reason=c.reason, message=c.message)
            for c in spec.conditions
        ],
        rules=rules,
        resolve=lambda raw_rule: _absolute(where, raw_rule),
        origin=f"{source} ({prefix})" if prefix else source,
    )


def load_npd_custom_plugin_monitor(path: str | os.PathLike[str]) -> PluginMonitorConfig:
    """Read node-problem-detector's custom-plugin-monitor JSON, unchanged."""
    return load_npd_file(path)
