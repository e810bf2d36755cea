"""A log monitor's configuration: node-problem-detector JSON or our YAML, into one frozen value.

Both forms are validated once, here, into :class:`LogMonitorConfig`: regexes,
the timestamp layout and the rule set compiled, durations in seconds, every
permanent rule's condition declared. Errors name the file (and line), the field
path (``rules[3].pattern``, ``log_monitors[0].lookback``) and the bad value.

- NPD's system-log-monitor JSON loads unchanged (:func:`load_npd_system_log_monitor`,
  see ``npd`` for the decoding rules).
- Our YAML is one :class:`LogMonitorSpec` per entry of ``log_monitors:`` in the
  agent's config file; an entry may include shipped rule packs by name.
  :func:`load_log_monitor_yaml` reads a standalone file (one entry, or
  ``log_monitors: [...]``), :func:`load_any` tells the two forms apart.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence

import msgspec

from healthwatch.config.durations import parse_duration
from healthwatch.config.yamlfile import convert, load_yaml
from healthwatch.model.errors import ConfigError
from healthwatch.problems.logmonitor.gotime import compile_layout
from healthwatch.problems.logmonitor.npd import decode_json, parse_npd, read_text, to_config
from healthwatch.problems.logmonitor.packs import load_pack
from healthwatch.problems.logmonitor.re2 import compile_pattern
from healthwatch.problems.logmonitor.rules import MAX_BUFFER_SIZE, Rule
from healthwatch.problems.logmonitor.specs import (
    ConditionSpec,
    DefaultCondition,
    LogMonitorConfig,
    RuleSpec,
    SourceKind,
    Where,
    check_rules,
    fail,
    merge_conditions,
    rule_from_spec,
)

__all__ = [
    "DefaultCondition",
    "LogMonitorConfig",
    "LogMonitorSpec",
    "SourceKind",
    "TimestampSpec",
    "build_log_monitor",
    "build_log_monitors",
    "load_any",
    "load_log_monitor_yaml",
    "load_npd_system_log_monitor",
]

Duration = str | float | int


class TimestampSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """How to find and read a file line's timestamp."""

    regex: str
    """Finds the timestamp text (its last group, else the whole match)."""
    format: str
    """Go layout of that text (``Jan _2 15:04:05``)."""


class LogMonitorSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One entry of ``log_monitors:``."""

    name: str
    source: SourceKind = "kmsg"
    path: str | None = None
    timestamp: TimestampSpec | None = None
    message: str | None = None
    identifiers: list[str] = msgspec.field(default_factory=list)
    lookback: Duration = 0
    delay: Duration = 0
    buffer_size: int = 10
    skip_list: list[str] = msgspec.field(default_factory=list)
    metrics_reporting: bool = True
    packs: list[str] = msgspec.field(default_factory=list)
    conditions: list[ConditionSpec] = msgspec.field(default_factory=list)
    rules: list[RuleSpec] = msgspec.field(default_factory=list)


class _MonitorList(msgspec.Struct, frozen=True, kw_only=True):
    """A file holding ``log_monitors:`` (other top-level sections are not ours to check)."""

    log_monitors: list[LogMonitorSpec]


def _where_in(source: str, lines: Mapping[str, int] | None, prefix: str) -> Where:
    """Place of a field (its full path in the file): the file and the nearest known line."""
    found = lines or {}

    def where(field: str) -> str:
        path = field.partition(":")[0]  # "packs[0]:rules[3]" lives at "packs[0]"
        line = None
        while line is None and path:
            line = found.get(path)
            path = path.rpartition(".")[0] if "." in path else ""
        line = line or found.get(prefix)
        return f"{source}:{line}" if line else source

    return where


def _check_sources(spec: LogMonitorSpec, where: Where, label: str) -> None:
    """Settings that only some sources use must not be given to the others."""
    if spec.source != "file":
        for field, value in (
            ("timestamp", spec.timestamp),
            ("message", spec.message),
            ("skip_list", spec.skip_list),
        ):
            if value:
                raise fail(where, label + field, f"only a file source uses it, not {spec.source}")
    elif not spec.path:
        raise fail(where, f"{label}path", "a file source needs the path of the file to follow")
    if spec.identifiers and spec.source != "journald":
        raise fail(
            where, f"{label}identifiers", f"only a journald source uses it, not {spec.source}"
        )


def _seconds(where: Where, field: str, value: Duration) -> float:
    try:
        return parse_duration(value)
    except ValueError as error:
        raise fail(where, field, str(error)) from None


def build_log_monitor(
    spec: LogMonitorSpec,
    *,
    source: str,
    lines: Mapping[str, int] | None = None,
    prefix: str = "",
) -> LogMonitorConfig:
    """Validate one YAML entry; errors name ``source`` (and the line, given ``lines``).

    ``prefix`` is the entry's field path in its file (``log_monitors[0]``), used
    in messages and to find lines.
    """
    where = _where_in(source, lines, prefix)
    label = f"{prefix}." if prefix else ""
    if not spec.name.strip():
        raise fail(where, f"{label}name", "must not be empty", spec.name)
    _check_sources(spec, where, label)
    if not 1 <= spec.buffer_size <= MAX_BUFFER_SIZE:
        raise fail(
            where,
            f"{label}buffer_size",
            f"must be between 1 and {MAX_BUFFER_SIZE}",
            spec.buffer_size,
        )
    groups: list[tuple[str, tuple[DefaultCondition, ...], bool]] = []
    rules: list[tuple[str, Rule]] = []
    for i, name in enumerate(spec.packs):
        field = f"{label}packs[{i}]"
        if name in spec.packs[:i]:
            raise fail(where, field, "pack listed twice", name)
        try:
            pack_conditions, pack_rules = load_pack(name)
        except ValueError as error:
            raise fail(where, field, str(error)) from None
        groups.append((f"{field}:conditions", pack_conditions, False))
        rules += [(f"{field}:rules[{j}]", rule) for j, rule in enumerate(pack_rules)]
    own = tuple(
        DefaultCondition(type=c.type, reason=c.reason, message=c.message) for c in spec.conditions
    )
    groups.append((f"{label}conditions", own, True))
    conditions = merge_conditions(groups, where=where)
    for i, rule_spec in enumerate(spec.rules):
        field = f"{label}rules[{i}]"
        rules.append((field, rule_from_spec(rule_spec, field=field, where=where)))
    timestamp = spec.timestamp
    parser = None
    if timestamp is not None:
        try:
            parser = compile_layout(timestamp.format)
        except ValueError as error:
            raise fail(where, f"{label}timestamp.format", str(error)) from None
    return LogMonitorConfig(
        name=spec.name,
        source=spec.source,
        path=spec.path or ("/dev/kmsg" if spec.source == "kmsg" else None),
        ruleset=check_rules(rules, conditions, buffer_size=spec.buffer_size, where=where),
        timestamp_regex=_regex(
            where, f"{label}timestamp.regex", timestamp.regex if timestamp else None
        ),
        timestamp_format=timestamp.format if timestamp else None,
        timestamp_parser=parser,
        message_regex=_regex(where, f"{label}message", spec.message),
        identifiers=tuple(spec.identifiers),
        lookback=_seconds(where, f"{label}lookback", spec.lookback),
        delay=_seconds(where, f"{label}delay", spec.delay),
        buffer_size=spec.buffer_size,
        skip_list=tuple(spec.skip_list),
        metrics_reporting=spec.metrics_reporting,
        conditions=conditions,
        rules=tuple(rule for _, rule in rules),
        origin=f"{source} ({prefix})" if prefix else source,
    )


def _regex(where: Where, field: str, pattern: str | None) -> re.Pattern[str] | None:
    if pattern is None:
        return None
    try:
        return compile_pattern(pattern)
    except ValueError as error:
        raise fail(where, field, f"invalid regex: {error}", pattern) from None


def load_npd_system_log_monitor(path: str | os.PathLike[str]) -> LogMonitorConfig:
    """Read node-problem-detector's system-log-monitor JSON, unchanged."""
    origin = os.fspath(path)
    return to_config(parse_npd(read_text(origin), origin=origin))


def build_log_monitors(
    entries: Sequence[object], *, source: str, lines: Mapping[str, int] | None = None
) -> tuple[LogMonitorConfig, ...]:
    """Convert and validate the raw entries of a ``log_monitors:`` list read from ``source``.

    ``lines`` is the field-path → line map of that file (``load_yaml``); errors
    name ``log_monitors[i].<field>`` and its line.
    """
    known = dict(lines or {})
    listed = convert({"log_monitors": list(entries)}, _MonitorList, source=source, lines=known)
    names: dict[str, int] = {}
    built = []
    for i, spec in enumerate(listed.log_monitors):
        prefix = f"log_monitors[{i}]"
        if spec.name in names:
            where = _where_in(source, known, prefix)
            raise fail(
                where,
                f"{prefix}.name",
                f"also the name of log_monitors[{names[spec.name]}]",
                spec.name,
            )
        names[spec.name] = i
        built.append(build_log_monitor(spec, source=source, lines=known, prefix=prefix))
    return tuple(built)


def _from_data(data: object, lines: dict[str, int], origin: str) -> tuple[LogMonitorConfig, ...]:
    if isinstance(data, dict) and "log_monitors" in data:
        entries = data["log_monitors"]
        if not isinstance(entries, list):
            raise ConfigError(f"{origin}: log_monitors: expected a list of monitors")
        return build_log_monitors(entries, source=origin, lines=lines)
    if not isinstance(data, dict):
        raise ConfigError(
            f"{origin}: expected a log monitor mapping or 'log_monitors: [...]', "
            f"got {type(data).__name__}"
        )
    spec = convert(data, LogMonitorSpec, source=origin, lines=lines)
    return (build_log_monitor(spec, source=origin, lines=lines),)


def load_log_monitor_yaml(path: str | os.PathLike[str]) -> tuple[LogMonitorConfig, ...]:
    """Our YAML: one monitor mapping, or ``log_monitors: [...]`` (other sections ignored)."""
    origin = os.fspath(path)
    data, lines = load_yaml(origin)
    return _from_data(data, lines, origin)


def load_any(path: str | os.PathLike[str]) -> tuple[LogMonitorConfig, ...]:
    """NPD JSON or our YAML, told apart by content.

    A document starting with ``{`` is read as JSON; a JSON object with a
    ``plugin`` or ``rules`` key (in any case, as Go reads keys) is NPD's,
    anything else goes through our YAML schema.
    """
    origin = os.fspath(path)
    text = read_text(origin)
    if not text.lstrip().startswith("{"):
        return load_log_monitor_yaml(origin)
    data = decode_json(text, origin=origin)
    if {key.lower() for key in data} & {"plugin", "rules"}:
        return (to_config(parse_npd(text, origin=origin)),)
    return _from_data(data, {}, origin)
