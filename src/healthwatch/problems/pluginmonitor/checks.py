"""The checks both config forms share, from decoded values to a :class:`PluginMonitorConfig`.

node-problem-detector's JSON (``npd``) and our YAML (``config``) are decoded
separately, each with its own spelling of the fields, then meet in
:func:`assemble`, which applies every check: intervals and timeouts positive,
no rule timeout above the monitor's, every permanent rule's condition declared,
every plugin present on disk (node-problem-detector's start-up check). Errors
name the place (file and line when known), the field path as written in that
file, and the value.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from healthwatch.model.errors import ConfigError
from healthwatch.problems.pluginmonitor.specs import (
    DefaultCondition,
    PluginMonitorConfig,
    PluginRule,
    RuleKind,
)

__all__ = ["MAX_CONCURRENCY", "RawRule", "Where", "assemble", "check_present", "fail"]

Where = Callable[[str], str]
"""Field path → place prefix (``file:line`` or ``file``) for error messages."""
MAX_CONCURRENCY = 1024
"""Upper bound on ``concurrency``: more processes at once than this is a mistake."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RawRule:
    """A rule as decoded, before the checks; durations already in seconds."""

    field: str
    """Its field path in the file (``rules[2]``, ``plugin_monitors[0].rules[2]``)."""
    type: str
    condition: str | None
    reason: str
    path: str
    args: tuple[str, ...] = ()
    timeout: float | None = None
    interval: float | None = None


def fail(where: Where, field: str, problem: str, value: object = None) -> ConfigError:
    """The error for ``field``: ``place: field: problem (got value)``."""
    shown = f" (got {value!r:.200})" if value is not None else ""
    return ConfigError(f"{where(field)}: {field}: {problem}{shown}")


def _positive(where: Where, field: str, seconds: float) -> float:
    if not seconds > 0:
        raise fail(where, field, "must be greater than zero", seconds)
    return seconds


def _conditions(
    conditions: Sequence[DefaultCondition], *, where: Where, field: str
) -> tuple[DefaultCondition, ...]:
    seen: set[str] = set()
    for i, condition in enumerate(conditions):
        if not condition.type.strip():
            raise fail(where, f"{field}[{i}].type", "must not be empty", condition.type)
        if condition.type in seen:
            raise fail(where, f"{field}[{i}].type", "duplicate condition type", condition.type)
        seen.add(condition.type)
    return tuple(conditions)


def _rule_names(raws: Sequence[RawRule]) -> list[str]:
    counts: dict[str, int] = {}
    names = []
    for raw in raws:
        counts[raw.reason] = counts.get(raw.reason, 0) + 1
        names.append(
            raw.reason if counts[raw.reason] == 1 else f"{raw.reason}#{counts[raw.reason]}"
        )
    return names


def assemble(
    *,
    name: str,
    fields: Mapping[str, str],
    where: Where,
    interval: float,
    timeout: float,
    max_output_length: int,
    concurrency: int,
    message_change_updates: bool,
    skip_initial_status: bool,
    metrics_reporting: bool,
    conditions: Sequence[DefaultCondition],
    rules: Sequence[RawRule],
    resolve: Callable[[RawRule], str],
    origin: str,
    state_key: str = "",
    warnings: Sequence[str] = (),
) -> PluginMonitorConfig:
    """Check decoded values and build the config.

    ``fields`` spells this form's field paths: keys ``interval``, ``timeout``,
    ``max_output_length``, ``concurrency``, ``conditions``, ``rule.timeout``,
    ``rule.interval`` (the last two relative to a rule). ``resolve`` turns a rule's
    path into the absolute program (or raises naming the field); that program must
    exist, as node-problem-detector requires at start-up.
    """
    _positive(where, fields["interval"], interval)
    _positive(where, fields["timeout"], timeout)
    if max_output_length < 0:
        raise fail(where, fields["max_output_length"], "must not be negative", max_output_length)
    if not 1 <= concurrency <= MAX_CONCURRENCY:
        raise fail(
            where, fields["concurrency"], f"must be between 1 and {MAX_CONCURRENCY}", concurrency
        )
    defaults = _conditions(conditions, where=where, field=fields["conditions"])
    declared = {c.type for c in defaults}
    built = []
    notes = list(warnings)
    for raw, rule_name in zip(rules, _rule_names(rules), strict=True):
        rule = _rule(
            raw,
            rule_name=rule_name,
            declared=declared,
            fields=fields,
            where=where,
            resolve=resolve,
            global_timeout=timeout,
            global_interval=interval,
        )
        note = check_present(where, f"{raw.field}.path", raw.path, rule.program)
        if note is not None:
            notes.append(note)
        built.append(rule)
    return PluginMonitorConfig(
        name=name,
        interval=interval,
        timeout=timeout,
        max_output_length=max_output_length,
        concurrency=concurrency,
        message_change_updates=message_change_updates,
        skip_initial_status=skip_initial_status,
        metrics_reporting=metrics_reporting,
        conditions=defaults,
        rules=tuple(built),
        origin=origin,
        state_key=state_key,
        warnings=tuple(notes),
    )


def _rule(
    raw: RawRule,
    *,
    rule_name: str,
    declared: set[str],
    fields: Mapping[str, str],
    where: Where,
    resolve: Callable[[RawRule], str],
    global_timeout: float,
    global_interval: float,
) -> PluginRule:
    if raw.type not in ("temporary", "permanent"):
        raise fail(where, f"{raw.field}.type", "must be temporary or permanent", raw.type)
    if not raw.reason.strip():
        raise fail(where, f"{raw.field}.reason", "must not be empty", raw.reason)
    condition = raw.condition if raw.type == "permanent" else None
    if raw.type == "permanent" and (condition or "") not in declared:
        raise fail(
            where,
            f"{raw.field}.condition",
            "a permanent rule's condition must be one of the declared conditions "
            f"({', '.join(sorted(declared)) or 'none declared'})",
            condition or "",
        )
    timeout = global_timeout
    if raw.timeout is not None:
        timeout = _positive(where, f"{raw.field}.{fields['rule.timeout']}", raw.timeout)
        if timeout > global_timeout:
            raise fail(
                where,
                f"{raw.field}.{fields['rule.timeout']}",
                f"must not exceed the monitor's timeout ({global_timeout:g}s, {fields['timeout']})",
                f"{timeout:g}s",
            )
    interval = global_interval
    if raw.interval is not None:
        interval = _positive(where, f"{raw.field}.{fields['rule.interval']}", raw.interval)
    kind: RuleKind = "permanent" if raw.type == "permanent" else "temporary"
    return PluginRule(
        kind=kind,
        reason=raw.reason,
        condition=condition,
        path=raw.path,
        program=resolve(raw),
        args=raw.args,
        timeout=timeout,
        interval=interval,
        name=rule_name,
    )


def check_present(where: Where, field: str, path: str, program: str) -> str | None:
    """NPD's start-up check: the plugin must exist (``os.Stat``); else an error naming it.

    A plugin that exists but cannot be executed is accepted, as NPD accepts it (its
    results are Unknown and the monitor's health says why); the returned warning says so.
    """
    try:
        os.stat(program)
    except FileNotFoundError:
        raise fail(where, field, f"plugin not found: {program}", path) from None
    except OSError as error:
        raise fail(where, field, f"cannot read plugin: {error.strerror or error}", path) from None
    if os.path.isdir(program) or not os.access(program, os.X_OK):
        return f"{field}: {program} is not an executable file; its results will be Unknown"
    return None
