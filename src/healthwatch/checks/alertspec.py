"""The ``alerting:`` section and each check's ``alerts:``, validated once into frozen routes.

A route is where notifications go: an Alertmanager (v2 API), a Slack-compatible
incoming webhook or a generic JSON webhook. Checks name their routes
(``alerts: [ops, chat]``); a check that names none uses ``default_routes``, and
``alerts: []`` turns alerting off for it. ``${NAME}`` in a route's ``url`` and
header values is replaced by the environment variable ``NAME`` at load time
(``$${`` writes a literal ``${``), so tokens and webhook URLs stay out of the
file; a variable that is not set is an error. Errors name the file, line, field
path and value, but never show a header value or an expanded URL.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, Literal

import msgspec

from healthwatch.checks.alerts.secrets import (
    check_http_url,
    expand_variables,
    redacted_url,
    url_origin,
)
from healthwatch.checks.alerts.template import Template, TemplateError, compile_template
from healthwatch.checks.maintenance import Maintenance, MaintenanceEntry, build_maintenance
from healthwatch.config.durations import parse_duration
from healthwatch.config.yamlfile import convert
from healthwatch.model.errors import ConfigError

if TYPE_CHECKING:
    from healthwatch.checks.spec import CheckSpec

__all__ = [
    "AlertRoute",
    "Alerting",
    "AlertingEntry",
    "RouteEntry",
    "RouteKind",
    "alerting_fields",
    "build_alerting",
    "check_alert_routes",
]

RouteKind = Literal["alertmanager", "webhook", "slack"]
Duration = str | int | float
MAX_TIMEOUT: Final = 60.0
MIN_REPEAT, MAX_REPEAT, DEFAULT_REPEAT = 1.0, 3600.0, 60.0
_NAME: Final = re.compile(r"[a-z0-9]([-a-z0-9_.]*[a-z0-9])?")
_HEADER: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_FORBIDDEN_HEADERS: Final = frozenset({"content-length", "host", "transfer-encoding", "connection"})


class RouteEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """One entry of ``alerting.routes``, as written."""

    name: str
    kind: RouteKind
    url: str
    timeout: Duration = "5s"
    headers: dict[str, str] = msgspec.field(default_factory=dict)
    template: str | None = None
    repeat: Duration | None = None


class AlertingEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The ``alerting:`` section, as written."""

    routes: list[RouteEntry] = msgspec.field(default_factory=list)
    default_routes: list[str] = msgspec.field(default_factory=list)
    dashboard_url: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertRoute:
    """One validated route."""

    name: str
    kind: RouteKind
    url: str
    """The URL posted to, with variables expanded (for Alertmanager, the base URL)."""
    timeout: float
    """Seconds allowed for one delivery attempt."""
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    template: Template | None = None
    repeat: float = DEFAULT_REPEAT
    """Seconds between re-sends of a firing alert (Alertmanager routes only)."""

    @property
    def display(self) -> str:
        """Safe to log: the name, kind, scheme, host and port; never a path, query or secret."""
        return f"{self.name} ({self.kind} {url_origin(self.url)})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Alerting:
    """Every route by name, and the routes of checks that name none."""

    routes: Mapping[str, AlertRoute] = field(default_factory=lambda: MappingProxyType({}))
    default_routes: tuple[str, ...] = ()
    dashboard_url: str | None = None
    """Base URL people open the dashboard at; None: the web listener's address."""

    def routes_for(self, names: Sequence[str] | None) -> tuple[AlertRoute, ...]:
        """The routes of a check: its own (``alerts:``) or, when it names none, the defaults."""
        chosen = self.default_routes if names is None else names
        return tuple(self.routes[n] for n in chosen if n in self.routes)


def _place(source: str, lines: Mapping[str, int], path: str) -> str:
    while path:
        line = lines.get(path)
        if line:
            return f"{source}:{line}"
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return source


Fail = Callable[[str, str, object], ConfigError]
"""Makes the error for a field of the route being validated: (field, problem, value shown)."""


def _headers(entry: RouteEntry, fail: Fail, env: Mapping[str, str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for key, value in entry.headers.items():
        if not _HEADER.fullmatch(key) or key.lower() in _FORBIDDEN_HEADERS:
            raise fail(f"headers.{key}", "not a header name that may be set here", key)
        try:
            headers[key] = expand_variables(value, env)
        except ValueError as error:
            raise fail(f"headers.{key}", str(error), None) from None
        if any(c in headers[key] for c in "\r\n\0"):
            raise fail(f"headers.{key}", "must not contain line breaks (value not shown)", None)
    return headers


def _template(entry: RouteEntry, fail: Fail) -> Template | None:
    if entry.template is None:
        return None
    if entry.kind == "alertmanager":
        raise fail("template", "an alertmanager route takes no template (the API fixes it)", None)
    try:
        return compile_template(entry.template)
    except TemplateError as error:
        raise fail("template", str(error), None) from None


def _repeat(entry: RouteEntry, fail: Fail) -> float:
    if entry.repeat is None:
        return DEFAULT_REPEAT
    if entry.kind != "alertmanager":
        raise fail("repeat", "only alertmanager routes re-send firing alerts", entry.repeat)
    try:
        repeat = parse_duration(entry.repeat)
    except ValueError as error:
        raise fail("repeat", str(error), None) from None
    if not MIN_REPEAT <= repeat <= MAX_REPEAT:
        raise fail("repeat", f"must be between {MIN_REPEAT:g}s and {MAX_REPEAT:g}s", entry.repeat)
    return repeat


def _route(entry: RouteEntry, fail: Fail, env: Mapping[str, str]) -> AlertRoute:
    if not _NAME.fullmatch(entry.name) or len(entry.name) > 63:
        raise fail("name", "must be lower-case letters, digits, '-', '_' and '.'", entry.name)
    try:
        url = expand_variables(entry.url, env)
        check_http_url(url)
    except ValueError as error:
        # Never echo what came from the environment, nor a path that may be a secret.
        shown = None if "${" in entry.url else redacted_url(entry.url)
        raise fail("url", str(error), shown) from None
    try:
        timeout = parse_duration(entry.timeout)
    except ValueError as error:
        raise fail("timeout", str(error), None) from None
    if not 0 < timeout <= MAX_TIMEOUT:
        raise fail("timeout", f"must be more than 0 and at most {MAX_TIMEOUT:g}s", entry.timeout)
    return AlertRoute(
        name=entry.name,
        kind=entry.kind,
        url=url,
        timeout=timeout,
        headers=MappingProxyType(_headers(entry, fail, env)),
        template=_template(entry, fail),
        repeat=_repeat(entry, fail),
    )


def build_alerting(
    data: object,
    *,
    source: str,
    lines: Mapping[str, int] | None = None,
    prefix: str = "alerting",
    environ: Mapping[str, str] | None = None,
) -> Alerting:
    """Validate the ``alerting:`` section (None: no routes); ConfigError naming the field."""
    if data is None:
        return Alerting()
    found = dict(lines or {})
    entry = convert(data, AlertingEntry, source=source, lines=found, prefix=prefix)
    env = os.environ if environ is None else environ
    routes: dict[str, AlertRoute] = {}
    for i, written in enumerate(entry.routes):
        here = f"{prefix}.routes[{i}]"

        def fail(name: str, text: str, value: object, *, here: str = here) -> ConfigError:
            path = f"{here}.{name}"
            shown = f" (got {value!r:.200})" if value is not None else ""
            return ConfigError(f"{_place(source, found, path)}: {path}: {text}{shown}")

        route = _route(written, fail, env)
        if route.name in routes:
            raise fail("name", "another route has this name", route.name)
        routes[route.name] = route
    for j, name in enumerate(entry.default_routes):
        path = f"{prefix}.default_routes[{j}]"
        if name not in routes:
            raise ConfigError(
                f"{_place(source, found, path)}: {path}: {_unknown(routes)} (got {name!r:.80})"
            )
    dashboard = entry.dashboard_url
    if dashboard is not None:
        path = f"{prefix}.dashboard_url"
        try:
            check_http_url(dashboard)
        except ValueError as error:
            raise ConfigError(
                f"{_place(source, found, path)}: {path}: {error} (got {dashboard!r:.200})"
            ) from None
    return Alerting(
        routes=MappingProxyType(routes),
        default_routes=tuple(dict.fromkeys(entry.default_routes)),
        dashboard_url=dashboard.rstrip("/") if dashboard else None,
    )


def _unknown(routes: Mapping[str, AlertRoute]) -> str:
    known = ", ".join(sorted(routes)) or "none are configured under alerting.routes"
    return f"no alert route of this name (routes: {known})"


def alerting_fields(
    alerts: Sequence[str] | None,
    maintenance: Sequence[MaintenanceEntry] | None,
    *,
    where: Callable[[str], str],
    label: str,
) -> tuple[tuple[str, ...] | None, Maintenance]:
    """A check entry's ``alerts`` (route names; None: the defaults) and ``maintenance``.

    ``label`` is the entry's path with a trailing dot (``checks[2].``). Names are
    checked against the routes later, by :func:`check_alert_routes`.
    """
    names: tuple[str, ...] | None = None
    if alerts is not None:
        for j, name in enumerate(alerts):
            path = f"{label}alerts[{j}]"
            if not _NAME.fullmatch(name):
                raise ConfigError(f"{where(path)}: {path}: not a route name (got {name!r:.80})")
            if name in alerts[:j]:
                raise ConfigError(f"{where(path)}: {path}: route named twice (got {name!r:.80})")
        names = tuple(alerts)
    return names, build_maintenance(maintenance, where=where, field=f"{label}maintenance")


def check_alert_routes(
    specs: Sequence[CheckSpec],
    alerting: Alerting,
    *,
    source: str,
    lines: Mapping[str, int] | None = None,
    prefix: str = "checks",
) -> None:
    """ConfigError when a check names a route that ``alerting`` does not define.

    ``specs`` are in the order of their entries, as :func:`build_checks` returns them.
    """
    found = lines or {}
    for i, spec in enumerate(specs):
        for j, name in enumerate(spec.alerts or ()):
            if name not in alerting.routes:
                path = f"{prefix}[{i}].alerts[{j}]"
                raise ConfigError(
                    f"{_place(source, found, path)}: {path}: {_unknown(alerting.routes)} "
                    f"(got {name!r:.80})"
                )
