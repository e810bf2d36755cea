"""The agent's configuration: listeners, state, health endpoint policy, heartbeat, alerting.

One YAML file (``healthwatch run --config FILE``) whose sections later issues
extend; command-line flags override the file; everything has a default, so
``healthwatch run`` with nothing works. Values are validated here, once, into
frozen objects. The config remembers its file and flags, so a reload
(:func:`reload_config`) reads the file again as the command line first did.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal, TypeVar

import msgspec

from healthwatch.config.addresses import ListenAddress, parse_listen
from healthwatch.config.durations import parse_duration
from healthwatch.config.yamlfile import convert, load_yaml
from healthwatch.model.errors import ConfigError

__all__ = [
    "AgentConfig",
    "AgentSection",
    "ConfigFile",
    "HealthSection",
    "HeartbeatSection",
    "default_state_dir",
    "load_config",
    "reload_config",
]

Duration = str | float | int
T = TypeVar("T")


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/healthwatch``, else ``~/.local/state/healthwatch``."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "healthwatch"


class AgentSection(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Where the agent listens and keeps its state."""

    listen: str = "127.0.0.1:9800"
    health_listen: str = "127.0.0.1:9801"
    metrics_listen: str = "127.0.0.1:9802"
    state_dir: str | None = None
    node_name: str | None = None
    drain: Duration = "2s"
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    host_root: str = "/"
    reload_poll: Duration = "5s"
    """How often the config file is checked for changes (0: only on SIGHUP)."""


class HealthSection(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Who sees details on the health listener, and when the loop counts as stalled."""

    details: Literal["loopback", "always", "never"] = "loopback"
    token_env: str = "HEALTHWATCH_HEALTH_TOKEN"  # noqa: S105 - a variable name, not a secret
    loop_stall: Duration = "10s"


class HeartbeatSection(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Periodic reports to a control plane (off unless a URL is given)."""

    url: str
    interval: Duration = "30s"
    timeout: Duration = "5s"
    cluster_id: str = ""


class ConfigFile(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """The whole file."""

    agent: AgentSection = msgspec.field(default_factory=AgentSection)
    health: HealthSection = msgspec.field(default_factory=HealthSection)
    heartbeat: HeartbeatSection | None = None
    log_monitors: list[dict[str, object]] | None = None
    """Log monitors in our YAML form; validated by the log monitor's own config loader."""
    checks: list[dict[str, object]] | None = None
    """Synthetic checks; validated by the checks' own spec loader."""
    alerting: dict[str, object] | None = None
    """Alert routes of the checks; validated by the checks' own alerting loader."""
    history: dict[str, object] | None = None
    """Check history retention; validated by the store's own loader."""
    plugin_monitors: list[dict[str, object]] | None = None
    """Custom plugin monitors in our YAML form; validated by the plugin monitor."""
    stats_monitor: dict[str, object] | bool | None = None
    """The stats monitor's settings, or false to turn the embedded one off."""
    service_monitors: list[dict[str, object]] | None = None
    """Service monitors; validated by the service monitor."""
    gpu: dict[str, object] | bool | None = None
    """The GPU daemon's settings, or false to turn it off (default: on when NVML loads)."""


class AgentConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Validated settings the agent runs with (after flags are applied)."""

    listen: ListenAddress | None
    health_listen: ListenAddress
    metrics_listen: ListenAddress | None
    state_dir: Path
    node_name: str
    drain_seconds: float
    log_format: Literal["text", "json"]
    log_level: str
    details: Literal["loopback", "always", "never"]
    token: str | None
    loop_stall_seconds: float
    heartbeat: HeartbeatSection | None
    heartbeat_interval: float
    heartbeat_timeout: float
    host_root: str
    log_monitors: tuple[dict[str, object], ...] | None
    """Our YAML log monitors (None: not configured, so the embedded default applies)."""
    system_log_monitors: tuple[str, ...]
    """node-problem-detector system-log-monitor JSON files (``--config.system-log-monitor``)."""
    checks: tuple[dict[str, object], ...] | None
    """Synthetic checks (None: not configured, so the embedded self check applies)."""
    lines: dict[str, int]
    """Line of each field path in the config file, for errors found later."""
    source: str
    """Where the settings came from: the file, or ``embedded default``."""
    alerting: dict[str, object] | None = None
    """The ``alerting:`` section as written (None: no alert routes)."""
    history: dict[str, object] | None = None
    """The ``history:`` section as written (None: default retention)."""
    plugin_monitors: tuple[dict[str, object], ...] | None = None
    """Our YAML custom plugin monitors."""
    custom_plugin_monitors: tuple[str, ...] = ()
    """node-problem-detector custom-plugin-monitor JSON files (``--config.custom-plugin-...``)."""
    stats_monitor: dict[str, object] | bool | None = None
    """The ``stats_monitor:`` section (None: the embedded default; false: off)."""
    system_stats_monitors: tuple[str, ...] = ()
    """node-problem-detector system-stats-monitor JSON files (``--config.system-stats-monitor``)."""
    service_monitors: tuple[dict[str, object], ...] | None = None
    """Our YAML service monitors."""
    gpu: dict[str, object] | bool | None = None
    """The ``gpu:`` section (None: on when NVML loads; false: off)."""
    reload_poll_seconds: float = 5.0
    """Seconds between checks of the config file for changes; 0: only on SIGHUP."""
    path: str | None = None
    """The config file (None: the embedded default); a reload reads it again."""
    overrides: dict[str, str] = msgspec.field(default_factory=dict)
    """The command-line overrides of the ``agent`` section; a reload applies them again."""


_MIN_POLL = 0.1
_MAX_POLL = 3600.0


def _poll_interval(value: Duration) -> float:
    seconds = parse_duration(value)
    if seconds and not _MIN_POLL <= seconds <= _MAX_POLL:
        raise ValueError(f"must be 0 (off) or between 100ms and 1h, got {value!r}")
    return seconds


def _parse(where: Callable[[str], str], field: str, parse: Callable[[], T]) -> T:
    try:
        return parse()
    except ValueError as error:
        raise ConfigError(f"{where(field)}: {field}: {error}") from None


def load_config(
    path: str | None = None,
    *,
    overrides: Mapping[str, str | None] | None = None,
    system_log_monitors: tuple[str, ...] = (),
    custom_plugin_monitors: tuple[str, ...] = (),
    system_stats_monitors: tuple[str, ...] = (),
) -> AgentConfig:
    """Read the file (if any), apply flag ``overrides`` to the ``agent`` section and validate.

    ``overrides`` maps ``agent`` field names to flag values; None means "not given".
    """
    lines: dict[str, int] = {}
    if path is not None:
        data, lines = load_yaml(path)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: the top level must be a mapping of sections")
        file = convert(data, ConfigFile, source=path, lines=lines)
        source = path
    else:
        file, source = ConfigFile(), "embedded default"
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    agent = msgspec.structs.replace(file.agent, **given) if given else file.agent

    def where(field: str) -> str:
        name = field.removeprefix("agent.")
        if name in given:
            return f"command line (--{name.replace('_', '-')})"
        line = lines.get(field)
        return f"{source}:{line}" if line else source

    health, beat = file.health, file.heartbeat
    return AgentConfig(
        listen=_parse(where, "agent.listen", lambda: parse_listen(agent.listen, allow_off=True)),
        health_listen=_parse(
            where, "agent.health_listen", lambda: _required(parse_listen(agent.health_listen))
        ),
        metrics_listen=_parse(
            where,
            "agent.metrics_listen",
            lambda: parse_listen(agent.metrics_listen, allow_off=True),
        ),
        state_dir=Path(agent.state_dir).expanduser() if agent.state_dir else default_state_dir(),
        node_name=agent.node_name or os.environ.get("NODE_NAME") or os.uname().nodename,
        drain_seconds=_parse(where, "agent.drain", lambda: parse_duration(agent.drain)),
        log_format=agent.log_format,
        log_level=agent.log_level,
        details=health.details,
        token=os.environ.get(health.token_env) or None,
        loop_stall_seconds=_parse(
            where, "health.loop_stall", lambda: parse_duration(health.loop_stall)
        ),
        heartbeat=beat,
        heartbeat_interval=_parse(
            where, "heartbeat.interval", lambda: parse_duration(beat.interval) if beat else 30.0
        ),
        heartbeat_timeout=_parse(
            where, "heartbeat.timeout", lambda: parse_duration(beat.timeout) if beat else 5.0
        ),
        host_root=agent.host_root,
        log_monitors=tuple(file.log_monitors) if file.log_monitors is not None else None,
        system_log_monitors=system_log_monitors,
        checks=tuple(file.checks) if file.checks is not None else None,
        alerting=file.alerting,
        history=file.history,
        plugin_monitors=_entries(file.plugin_monitors),
        custom_plugin_monitors=custom_plugin_monitors,
        stats_monitor=file.stats_monitor,
        system_stats_monitors=system_stats_monitors,
        service_monitors=_entries(file.service_monitors),
        gpu=file.gpu,
        reload_poll_seconds=_parse(
            where, "agent.reload_poll", lambda: _poll_interval(agent.reload_poll)
        ),
        path=path,
        overrides=given,
        lines=lines,
        source=source,
    )


def reload_config(config: AgentConfig) -> AgentConfig:
    """Read ``config``'s file again, with the same flags and node-problem-detector files.

    Raises :class:`ConfigError` as :func:`load_config` does.
    """
    return load_config(
        config.path,
        overrides=config.overrides,
        system_log_monitors=config.system_log_monitors,
        custom_plugin_monitors=config.custom_plugin_monitors,
        system_stats_monitors=config.system_stats_monitors,
    )


def _entries(items: list[dict[str, object]] | None) -> tuple[dict[str, object], ...] | None:
    return tuple(items) if items is not None else None


def _required(address: ListenAddress | None) -> ListenAddress:
    if address is None:  # parse_listen returns None only with allow_off; kept for the type
        raise ValueError("this listener cannot be turned off")
    return address
