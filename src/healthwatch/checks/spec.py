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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal
from urllib.parse import urlsplit

import msgspec

from healthwatch.checks.expressions import Condition, ConditionSyntaxError, compile_condition
from healthwatch.checks.runners.exec import ExecTarget
from healthwatch.checks.runners.external import ExternalTarget
from healthwatch.checks.runners.http import HttpTarget
from healthwatch.checks.runners.tcp import TcpTarget
from healthwatch.checks.runners.tls import TlsTarget
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

CheckKind = Literal["http", "tcp", "tls", "exec", "external"]
Duration = str | int | float
Target = HttpTarget | TcpTarget | TlsTarget | ExecTarget | ExternalTarget

MAX_RETRIES: Final = 5
MIN_INTERVAL: Final = 1.0
_NAME: Final = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
_METHOD: Final = re.compile(r"[A-Z][A-Z0-9_-]*")

KIND_FIELDS: Final[Mapping[str, frozenset[str]]] = MappingProxyType(
    {
        "http": frozenset({"url", "method", "headers", "body", "ca_file", "verify"}),
        "tcp": frozenset({"host", "port", "send", "expect"}),
        "tls": frozenset({"host", "port", "server_name", "ca_file", "verify"}),
        "exec": frozenset({"argv", "env", "cwd"}),
        "external": frozenset({"argv", "env"}),
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
    # http
    url: str | None = None
    method: str | None = None
    headers: dict[str, str] | None = None
    body: str | None = None
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


Where = Callable[[str], str]


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


def _fail(where: Where, field: str, problem: str, value: object = None) -> ConfigError:
    """The error for ``field``: ``file:line: field: problem (got value)``."""
    shown = f" (got {value!r:.200})" if value is not None else ""
    return ConfigError(f"{where(field)}: {field}: {problem}{shown}")


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


def _host_port(entry: CheckEntry, where: Where, label: str, default: int | None) -> tuple[str, int]:
    if not entry.host:
        raise _fail(where, label + "host", f"a {entry.kind} check needs a host", entry.host)
    port = entry.port if entry.port is not None else default
    if port is None:
        raise _fail(where, label + "port", f"a {entry.kind} check needs a port")
    if not 0 < port < 65536:
        raise _fail(where, label + "port", "must be between 1 and 65535", port)
    return entry.host, port


def _http(entry: CheckEntry, where: Where, label: str) -> HttpTarget:
    url = entry.url
    if not url:
        raise _fail(where, label + "url", "an http check needs a url", url)
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise _fail(where, label + "url", f"not a URL: {error}", url) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _fail(where, label + "url", "must be an absolute http:// or https:// URL", url)
    method = entry.method or "GET"
    if not _METHOD.fullmatch(method):
        raise _fail(where, label + "method", "must be an upper-case HTTP method", method)
    return HttpTarget(
        url=url,
        method=method,
        headers=MappingProxyType(dict(entry.headers or {})),
        body=None if entry.body is None else entry.body.encode(),
        verify_tls=True if entry.verify is None else entry.verify,
        ca_file=entry.ca_file,
    )


def _target(entry: CheckEntry, where: Where, label: str) -> Target:
    if entry.kind == "http":
        return _http(entry, where, label)
    if entry.kind == "tcp":
        host, port = _host_port(entry, where, label, None)
        try:
            return TcpTarget(
                host=host,
                port=port,
                send=None if entry.send is None else entry.send.encode(),
                expect=entry.expect,
            )
        except ValueError as error:
            raise _fail(where, label + "expect", str(error)) from None
    if entry.kind == "tls":
        host, port = _host_port(entry, where, label, 443)
        return TlsTarget(
            host,
            port,
            server_name=entry.server_name,
            ca_file=entry.ca_file,
            verify=True if entry.verify is None else entry.verify,
        )
    if entry.kind == "external":
        if entry.argv is not None and (not entry.argv or not entry.argv[0]):
            raise _fail(where, label + "argv", "argv, when given, must not be empty", entry.argv)
        return ExternalTarget(
            argv=None if entry.argv is None else tuple(entry.argv),
            env=None if entry.env is None else MappingProxyType(dict(entry.env)),
            namespace=entry.namespace,
        )
    if not entry.argv or not entry.argv[0]:
        raise _fail(where, label + "argv", "an exec check needs a non-empty argv", entry.argv)
    return ExecTarget(
        tuple(entry.argv),
        env=None if entry.env is None else MappingProxyType(dict(entry.env)),
        cwd=entry.cwd,
    )


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
        target = _target(entry, where, label)
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
            )
        )
    return specs
