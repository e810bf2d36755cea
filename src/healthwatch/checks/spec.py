"""Synthetic checks as written in YAML, validated once into frozen :class:`CheckSpec` values.

The ``checks:`` section of the config is a list of entries (:class:`CheckEntry`).
:func:`build_checks` converts and validates them all up front, so a typo is an
error at load time that names the file, the line, the field path
(``checks[2].timeout``) and the bad value, never a surprise at run time:
durations are parsed, conditions compiled, the fields of each kind checked
(an ``argv`` on an ``http`` check is a mistake, not something to ignore), and
each kind gets its runner's target.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

import msgspec

from healthwatch.checks.alertspec import alerting_fields
from healthwatch.checks.expressions import Condition, ConditionSyntaxError, compile_condition
from healthwatch.checks.maintenance import NO_MAINTENANCE, Maintenance, MaintenanceEntry
from healthwatch.checks.targets import Target, Where, build_target
from healthwatch.checks.targets import fail as _fail
from healthwatch.config.durations import parse_duration
from healthwatch.config.yamlfile import convert
from healthwatch.model.errors import ConfigError

__all__ = [
    "DEFAULT_CONDITIONS",
    "KIND_FIELDS",
    "CheckEntry",
    "CheckKind",
    "CheckSpec",
    "Target",
    "build_checks",
]

CheckKind = Literal["http", "tcp", "tls", "exec", "external", "dns"]
Duration = str | int | float

MAX_RETRIES: Final = 5
MIN_INTERVAL: Final = 1.0
_NAME: Final = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")

KIND_FIELDS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "http": frozenset({"url", "method", "headers", "body", "ca_file", "verify"})
        | {"follow_redirects", "max_redirects", "client_cert", "client_key", "all_addresses"},
        "tcp": frozenset({"host", "port", "send", "expect"}),
        "tls": frozenset({"host", "port", "server_name", "ca_file", "verify"}),
        "exec": frozenset({"argv", "env", "cwd"}),
        "external": frozenset({"argv", "env"}),
        "dns": frozenset({"query", "record_type", "server", "protocol"}),
    }
)
"""The kind-specific fields each kind accepts; the others are errors on it."""

DEFAULT_CONDITIONS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "http": ("status < 400",),
        "tcp": ("tcp.connected == true",),
        "tls": ("cert.chain_ok == true and cert.hostname_ok == true and cert.expiry > 0s",),
        "exec": ("exit_code == 0",),
        "external": ("ok == true",),
        "dns": ('dns.rcode == "NOERROR" and dns.answers != []',),
    }
)
"""Conditions used when an entry gives none."""


class CheckEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One entry of ``checks:``, as written (kind-specific fields are None when absent)."""

    name: str
    namespace: str = "default"
    kind: CheckKind
    interval: Duration = "30s"
    timeout: Duration = "5s"
    conditions: list[str] = msgspec.field(default_factory=list)
    retries: int = 0
    failure_threshold: int = 1
    success_threshold: int = 1
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    alerts: list[str] | None = None
    maintenance: list[MaintenanceEntry] | None = None
    # http
    url: str | None = None
    method: str | None = None
    headers: dict[str, str] | None = None
    body: str | None = None
    follow_redirects: bool | None = None
    max_redirects: int | None = None
    client_cert: str | None = None
    client_key: str | None = None
    all_addresses: bool | None = None
    # tcp and tls
    host: str | None = None
    port: int | None = None
    send: str | None = None
    expect: str | None = None
    # tls (ca_file and verify also for https)
    server_name: str | None = None
    ca_file: str | None = None
    verify: bool | None = None
    # exec
    argv: list[str] | None = None
    env: dict[str, str] | None = None
    cwd: str | None = None
    # dns ("query" is the name looked up; "name" is the check's)
    query: str | None = None
    record_type: str | None = None
    server: str | None = None
    protocol: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckSpec:
    """One validated check, ready for the engine and the scheduler."""

    id: str
    """``namespace/name``, unique in the config."""
    name: str
    namespace: str
    kind: CheckKind
    interval: float
    """Seconds between runs."""
    timeout: float
    """Seconds allowed for one attempt."""
    conditions: tuple[Condition, ...]
    """Compiled conditions; the kind's defaults when the entry gave none."""
    retries: int
    """Extra attempts made in a run before it counts as failed."""
    failure_threshold: int
    """Failed runs in a row that make the check alert."""
    success_threshold: int
    """Passed runs in a row that resolve an alert."""
    labels: Mapping[str, str]
    target: Target
    """What the kind's runner probes."""
    alerts: tuple[str, ...] | None = None
    """Alert route names (``alerts:``); None: the routes in ``alerting.default_routes``."""
    maintenance: Maintenance = NO_MAINTENANCE
    """Windows in which the check runs but does not alert."""


def _where_in(source: str, lines: Mapping[str, int] | None, prefix: str) -> Where:
    """Place of a field path: the file and the nearest known line."""
    found = lines or {}

    def where(field: str) -> str:
        path, line = field, None
        while line is None and path:
            line = found.get(path)
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        line = line or found.get(prefix)
        return f"{source}:{line}" if line else source

    return where


def _seconds(where: Where, field: str, value: Duration) -> float:
    try:
        return parse_duration(value)
    except ValueError as error:
        raise _fail(where, field, str(error)) from None


def _check_common(entry: CheckEntry, where: Where, label: str) -> tuple[float, float]:
    for field, value in (("name", entry.name), ("namespace", entry.namespace)):
        if not _NAME.fullmatch(value) or len(value) > 253:
            raise _fail(
                where,
                label + field,
                "must be lower-case letters, digits, '-' and '.', starting and ending "
                "with a letter or digit (at most 253 characters)",
                value,
            )
    interval = _seconds(where, label + "interval", entry.interval)
    timeout = _seconds(where, label + "timeout", entry.timeout)
    if interval < MIN_INTERVAL:
        raise _fail(
            where, label + "interval", f"must be at least {MIN_INTERVAL:g}s", entry.interval
        )
    if not 0 < timeout <= interval:
        raise _fail(
            where, label + "timeout", "must be more than 0 and at most the interval", entry.timeout
        )
    if not 0 <= entry.retries <= MAX_RETRIES:
        raise _fail(where, label + "retries", f"must be between 0 and {MAX_RETRIES}", entry.retries)
    for field, count in (
        ("failure_threshold", entry.failure_threshold),
        ("success_threshold", entry.success_threshold),
    ):
        if count < 1:
            raise _fail(where, label + field, "must be at least 1", count)
    for field in sorted(set().union(*KIND_FIELDS.values()) - KIND_FIELDS[entry.kind]):
        value = getattr(entry, field)
        if value is not None:
            raise _fail(where, label + field, f"not a field of a {entry.kind} check", value)
    return interval, timeout


def _conditions(entry: CheckEntry, where: Where, label: str) -> tuple[Condition, ...]:
    if not entry.conditions:
        return tuple(compile_condition(text) for text in DEFAULT_CONDITIONS[entry.kind])
    compiled: list[Condition] = []
    for j, text in enumerate(entry.conditions):
        field = f"{label}conditions[{j}]"
        try:
            compiled.append(compile_condition(text))
        except ConditionSyntaxError as error:
            raise ConfigError(f"{where(field)}: {field}: {error}") from None
    return tuple(compiled)


def _convert(
    data: object, *, source: str, where: Where, here: str, lines: dict[str, int] | None
) -> CheckEntry:
    try:
        return convert(data, CheckEntry, source=source, lines=lines, prefix=here)
    except ValueError:
        # convert() cannot look up msgspec's "$.labels[...]" (a bad mapping value): say it here.
        try:
            return msgspec.convert(data, CheckEntry, strict=False)
        except msgspec.ValidationError as error:
            message, _, at = str(error).rpartition(" - at `$")
            field = f"{here}.{at.rstrip('`').lstrip('.').replace('[...]', '')}"
            raise ConfigError(f"{where(field)}: {field}: {message or error}") from None


def build_checks(
    entries: Sequence[object],
    *,
    source: str,
    lines: Mapping[str, int] | None = None,
    prefix: str = "checks",
) -> list[CheckSpec]:
    """Validate the entries of ``checks:``; errors name ``source``, the line and the field.

    ``lines`` maps field paths (``checks[0].url``) to lines, as
    :func:`healthwatch.config.yamlfile.load_yaml` returns them; ``prefix`` is
    where the list sits in its file.
    """
    specs: list[CheckSpec] = []
    seen: set[str] = set()
    known = dict(lines) if lines else None
    for i, data in enumerate(entries):
        here = f"{prefix}[{i}]"
        where = _where_in(source, lines, here)
        entry = _convert(data, source=source, where=where, here=here, lines=known)
        label = here + "."
        interval, timeout = _check_common(entry, where, label)
        check_id = f"{entry.namespace}/{entry.name}"
        if check_id in seen:
            raise _fail(where, label + "name", "another check has this namespace/name", check_id)
        seen.add(check_id)
        target = build_target(entry, where, label)
        alerts, maintenance = alerting_fields(
            entry.alerts, entry.maintenance, where=where, label=label
        )
        specs.append(
            CheckSpec(
                id=check_id,
                name=entry.name,
                namespace=entry.namespace,
                kind=entry.kind,
                interval=interval,
                timeout=timeout,
                conditions=_conditions(entry, where, label),
                retries=entry.retries,
                failure_threshold=entry.failure_threshold,
                success_threshold=entry.success_threshold,
                labels=MappingProxyType(dict(entry.labels)),
                target=target,
                alerts=alerts,
                maintenance=maintenance,
            )
        )
    return specs
