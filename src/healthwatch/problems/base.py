"""The contracts of problem detection: daemons, sinks, and the registry of daemon kinds.

A problem daemon runs as ``await daemon.run(sink)`` until cancelled, reporting
:class:`Status` values (events and the full set of its conditions) to the
sink. ``start()`` does what can fail up front (opening a log, compiling rules)
so that the detector can tell a daemon that cannot start from one that runs.
Daemon kinds are registered in one place: the built-ins are listed in
:data:`BUILTIN_KINDS`, third-party kinds come from the ``healthwatch.problem_daemons``
entry-point group; nothing registers itself on import.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from healthwatch.model.health import HealthStatus
from healthwatch.model.metrics import MetricFamily
from healthwatch.model.problems import ProblemDeclaration, Status

__all__ = [
    "BUILTIN_KINDS",
    "ENTRY_POINT_GROUP",
    "DaemonKinds",
    "ProblemDaemon",
    "ProblemDeclaration",
    "StatusSink",
]

ENTRY_POINT_GROUP = "healthwatch.problem_daemons"


@runtime_checkable
class StatusSink(Protocol):
    """Where a daemon reports. ``report`` never blocks for long: the detector queues."""

    def report(self, status: Status) -> None:
        """Hand over one status."""


@runtime_checkable
class ProblemDaemon(Protocol):
    """One problem daemon (a log monitor, a plugin monitor, ...)."""

    @property
    def name(self) -> str:
        """Unique name; also its health component's name and the status ``source``."""

    def declarations(self) -> tuple[ProblemDeclaration, ...]:
        """Every problem this daemon can report."""

    async def start(self) -> None:
        """Prepare (open sources, load state); raise a HealthwatchError if it cannot run."""

    async def run(self, sink: StatusSink) -> None:
        """Report statuses until cancelled."""

    async def stop(self) -> None:
        """Release what ``start`` took (files, subprocesses); save state."""

    def health(self) -> tuple[HealthStatus, str]:
        """The daemon's own health for its component (cheap: called on every probe)."""

    def metric_families(self, node: str | None) -> list[MetricFamily]:
        """The daemon's own metrics (lines read, records lost, ...), with a node label if given."""


DaemonFactory = Callable[..., ProblemDaemon]

BUILTIN_KINDS: Mapping[str, str] = {
    "logmonitor": "healthwatch.problems.logmonitor.monitor:LogMonitor.from_options",
    "pluginmonitor": "healthwatch.problems.pluginmonitor.monitor:PluginMonitor.from_options",
    "statsmonitor": "healthwatch.problems.statsmonitor.monitor:StatsMonitor.from_options",
    "servicemonitor": "healthwatch.problems.servicemonitor.monitor:ServiceMonitor.from_options",
    "gpu": "healthwatch.problems.gpu.daemon:GpuDaemon.from_options",
}
"""Built-in daemon kinds: kind name → ``module:factory``, imported only when used."""


class DaemonKinds:
    """Looks up daemon factories by kind: built-ins first, then entry points."""

    def __init__(self, builtins: Mapping[str, str] = BUILTIN_KINDS) -> None:
        self._builtins = dict(builtins)
        self._extra: dict[str, DaemonFactory] = {}

    def add(self, kind: str, factory: DaemonFactory) -> None:
        """Register a factory in this registry object only (tests, embedding)."""
        self._extra[kind] = factory

    def names(self) -> list[str]:
        """Every known kind."""
        found = {ep.name for ep in entry_points(group=ENTRY_POINT_GROUP)}
        return sorted({*self._builtins, *self._extra, *found})

    def factory(self, kind: str) -> DaemonFactory:
        """The factory of ``kind``; KeyError naming the known kinds if there is none."""
        if kind in self._extra:
            return self._extra[kind]
        target = self._builtins.get(kind)
        if target is None:
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                if ep.name == kind:
                    loaded: Any = ep.load()
                    return loaded  # type: ignore[no-any-return]
            known = ", ".join(self.names())
            raise KeyError(f"unknown problem daemon kind {kind!r}; known: {known}")
        module, _, attr = target.partition(":")
        obj: Any = importlib.import_module(module)
        for part in attr.split("."):
            obj = getattr(obj, part)
        return obj  # type: ignore[no-any-return]
