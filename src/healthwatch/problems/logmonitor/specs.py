"""What both config forms produce (:class:`LogMonitorConfig`), the rule schema, and its checks.

Our ``log_monitors:`` entries and the shipped rule packs list ``conditions``
(the healthy defaults) and ``rules`` in the YAML schema below;
node-problem-detector's JSON (``npd``) reaches the same checks. Whatever is
wrong is reported as a :class:`ConfigError` naming the place (file and line
when known), the field path and the bad value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import msgspec

from healthwatch.config.durations import parse_duration
from healthwatch.model.errors import ConfigError
from healthwatch.problems.base import ProblemDeclaration
from healthwatch.problems.logmonitor.gotime import TimestampParser
from healthwatch.problems.logmonitor.re2 import compile_pattern
from healthwatch.problems.logmonitor.rules import Rule, RuleSet, compile_rules

__all__ = [
    "ConditionSpec",
    "DefaultCondition",
    "LogMonitorConfig",
    "RuleSpec",
    "SourceKind",
    "Where",
    "check_rules",
    "fail",
    "merge_conditions",
    "rule_from_spec",
]

Where = Callable[[str], str]
"""Field path → place prefix (``file:line`` or ``file``) for error messages."""
SourceKind = Literal["kmsg", "file", "journald"]


@dataclass(frozen=True, slots=True, kw_only=True)
class DefaultCondition:
    """A condition type a monitor owns, with its healthy (False) reason and message."""

    type: str
    """Condition type (``KernelDeadlock``)."""
    reason: str
    """Reason while the condition is False."""
    message: str
    """Message while the condition is False."""


@dataclass(frozen=True, slots=True, kw_only=True)
class LogMonitorConfig:
    """One validated log monitor, whichever form it was written in."""

    name: str
    """Monitor name: NPD's ``source``; the status source and event source component."""
    source: SourceKind
    """Where lines come from (NPD plugin ``kmsg``, ``filelog``, ``journald``)."""
    path: str | None
    """File to follow, journal directory (None: the system journal), ``/dev/kmsg`` for kmsg."""
    ruleset: RuleSet
    """The rules, compiled with this monitor's buffer size."""
    timestamp_regex: re.Pattern[str] | None = None
    """file: finds the timestamp text in a line (its last group, else the whole match)."""
    timestamp_format: str | None = None
    """file: the Go layout of the timestamp text."""
    timestamp_parser: TimestampParser | None = None
    """file: ``timestamp_format`` compiled."""
    message_regex: re.Pattern[str] | None = None
    """file: finds the message in a line (its last group); None: the whole line."""
    identifiers: tuple[str, ...] = ()
    """journald: ``SYSLOG_IDENTIFIER`` values to read (empty: every entry)."""
    lookback: float = 0.0
    """Seconds back from start-up to accept lines from (never before boot + delay)."""
    delay: float = 0.0
    """Seconds after boot during which lines are ignored."""
    buffer_size: int = 10
    """Lines kept for multi-line rules."""
    skip_list: tuple[str, ...] = ()
    """file: lines containing any of these are dropped before parsing."""
    metrics_reporting: bool = True
    """Whether this monitor's problems are counted in problem_counter/problem_gauge."""
    conditions: tuple[DefaultCondition, ...] = ()
    """Every condition type the monitor owns, with its healthy default."""
    rules: tuple[Rule, ...] = ()
    """The rules, in matching order (packs first, then the monitor's own)."""
    origin: str = ""
    """Where this came from: the file (and entry) it was read from."""
    warnings: tuple[str, ...] = ()
    """Things ignored while loading (unknown NPD keys, settings the plugin ignores)."""

    def declarations(self) -> tuple[ProblemDeclaration, ...]:
        """Every problem the rules can report (recovery rules report none), without repeats."""
        seen: dict[tuple[str, str | None], None] = {}
        for rule in self.rules:
            if rule.kind == "temporary":
                seen[(rule.reason, None)] = None
            elif rule.kind == "permanent":
                seen[(rule.reason, rule.condition)] = None
        return tuple(ProblemDeclaration(reason=r, condition=c) for r, c in seen)

    def extract_message(self, line: str) -> str | None:
        """file: the message part of ``line`` (NPD: the last submatch); None if it has none."""
        if self.message_regex is None:
            return line
        return _last_group(self.message_regex, line)

    def parse_timestamp(self, line: str) -> float | None:
        """file: the wall time written in ``line``; None if it has none or it does not parse."""
        if self.timestamp_regex is None or self.timestamp_parser is None:
            return None
        text = _last_group(self.timestamp_regex, line)
        return None if text is None else self.timestamp_parser.parse(text)


def _last_group(regex: re.Pattern[str], line: str) -> str | None:
    found = regex.search(line)
    if found is None:
        return None
    return (found.group(regex.groups) or "") if regex.groups else found.group(0)


class ConditionSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A default condition as written in YAML."""

    type: str
    reason: str
    message: str = ""


class RuleSpec(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A rule as written in YAML (NPD's fields plus our extensions)."""

    type: Literal["temporary", "permanent", "recovery"]
    reason: str
    pattern: str
    condition: str | None = None
    message_suffix: str = ""
    clear_after: str | float | int | None = None
    severity: Literal["info", "warn"] = "warn"
    action: str = ""
    labels: list[str] = msgspec.field(default_factory=list)


def fail(where: Where, field: str, problem: str, value: object = None) -> ConfigError:
    """The error for ``field``: ``place: field: problem (got value)``."""
    shown = f" (got {value!r:.200})" if value is not None else ""
    return ConfigError(f"{where(field)}: {field}: {problem}{shown}")


def rule_from_spec(spec: RuleSpec, *, field: str, where: Where) -> Rule:
    """A :class:`Rule` from its YAML form; checks what belongs together."""
    if not spec.reason.strip():
        raise fail(where, f"{field}.reason", "must not be empty", spec.reason)
    if spec.type == "temporary" and spec.condition is not None:
        raise fail(
            where,
            f"{field}.condition",
            "only permanent and recovery rules set a condition",
            spec.condition,
        )
    clear_after = None
    if spec.clear_after is not None:
        if spec.type != "permanent":
            raise fail(where, f"{field}.clear_after", "only permanent rules clear after a time")
        try:
            clear_after = parse_duration(spec.clear_after)
        except ValueError as error:
            raise fail(where, f"{field}.clear_after", str(error)) from None
        if clear_after <= 0:
            raise fail(where, f"{field}.clear_after", "must be positive", spec.clear_after)
    return Rule(
        kind=spec.type,
        reason=spec.reason,
        pattern=spec.pattern,
        condition=spec.condition,
        message_suffix=spec.message_suffix,
        clear_after=clear_after,
        severity=spec.severity,
        action=spec.action,
        labels=tuple(spec.labels),
    )


def merge_conditions(
    groups: Iterable[tuple[str, Sequence[DefaultCondition], bool]], *, where: Where
) -> tuple[DefaultCondition, ...]:
    """Conditions of several origins (field prefix, conditions, may override earlier ones).

    The same type twice is an error unless both say the same, or the later origin
    may override (a monitor's own conditions override its packs').
    """
    merged: dict[str, DefaultCondition] = {}
    for prefix, conditions, overrides in groups:
        own: set[str] = set()
        for i, condition in enumerate(conditions):
            field = f"{prefix}[{i}].type"
            if not condition.type.strip():
                raise fail(where, field, "must not be empty", condition.type)
            if condition.type in own:
                raise fail(where, field, "duplicate condition type", condition.type)
            own.add(condition.type)
            earlier = merged.get(condition.type)
            if earlier is not None and earlier != condition and not overrides:
                raise fail(
                    where, field, "condition type already defined differently", condition.type
                )
            merged[condition.type] = condition
    return tuple(merged.values())


def check_rules(
    rules: Sequence[tuple[str, Rule]],
    conditions: Sequence[DefaultCondition],
    *,
    buffer_size: int,
    where: Where,
) -> RuleSet:
    """Check every rule against the declared conditions and compile the set.

    ``rules`` pairs each rule with its field path (``rules[3]``) for messages.
    """
    declared = {c.type for c in conditions}
    for field, rule in rules:
        if rule.kind in ("permanent", "recovery"):
            if not rule.condition:
                raise fail(where, f"{field}.condition", f"a {rule.kind} rule needs a condition")
            if rule.condition not in declared:
                known = ", ".join(sorted(declared)) or "none"
                raise fail(
                    where,
                    f"{field}.condition",
                    f"condition is not declared in conditions (declared: {known})",
                    rule.condition,
                )
        try:
            regex = compile_pattern(rule.pattern)
        except ValueError as error:
            raise fail(
                where, f"{field}.pattern", f"invalid pattern: {error}", rule.pattern
            ) from None
        for name in rule.labels:
            if name not in regex.groupindex:
                raise fail(
                    where,
                    f"{field}.labels",
                    f"{name!r} is not a named group (?P<{name}>...) of the pattern",
                    rule.pattern,
                )
    try:
        return compile_rules((rule for _, rule in rules), buffer_size=buffer_size)
    except ValueError as error:  # only the buffer size can still be wrong here
        raise ConfigError(f"{where('')}: {error}") from None
