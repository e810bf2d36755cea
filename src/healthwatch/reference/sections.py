"""The sections of the agent's config file, each with the type its loader validates it with.

:class:`~healthwatch.config.agent.ConfigFile` reads most sections loosely
(``dict[str, object]``) and hands them to their owners' loaders, which convert
them into their own ``msgspec`` structs. :data:`SECTIONS` names that struct for
every section; :func:`agent_file_type` rebuilds ``ConfigFile`` with those
structs in place of the loose types, so one JSON Schema describes the whole
file. Every field of ``ConfigFile`` must have a section here: a new section
without one is an error, not a gap in the documentation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import msgspec
import msgspec.inspect as mi

from healthwatch.checks.alertspec import AlertingEntry
from healthwatch.checks.spec import CheckEntry
from healthwatch.config.agent import AgentSection, ConfigFile, HealthSection, HeartbeatSection
from healthwatch.problems.gpu.config import GpuSpec
from healthwatch.problems.logmonitor.config import LogMonitorSpec
from healthwatch.problems.pluginmonitor.config import PluginMonitorSpec
from healthwatch.problems.servicemonitor.config import ServiceMonitorSpec
from healthwatch.problems.statsmonitor.config import StatsMonitorSpec
from healthwatch.store.config import HistorySection

__all__ = ["SECTIONS", "Section", "agent_file_type"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Section:
    """One top-level key of the agent's file."""

    key: str
    """The key (``checks``)."""
    spec: type[msgspec.Struct]
    """The struct the section (or each entry of its list) is validated with."""
    page: str
    """The page under ``docs/`` that explains it."""
    summary: str
    """What the section is for, and what leaving it out means."""


SECTIONS: Final[tuple[Section, ...]] = (
    Section(
        key="agent",
        spec=AgentSection,
        page="configuration.md",
        summary="Listeners, state directory, node name, logging; flags override it.",
    ),
    Section(
        key="health",
        spec=HealthSection,
        page="health.md",
        summary="Who sees details on the health listener; when the event loop counts as stalled.",
    ),
    Section(
        key="heartbeat",
        spec=HeartbeatSection,
        page="health.md#heartbeats",
        summary="Periodic reports to a control plane; off unless given.",
    ),
    Section(
        key="checks",
        spec=CheckEntry,
        page="checks.md",
        summary="Synthetic checks. Left out: the agent checks its own `/livez`; `[]`: none.",
    ),
    Section(
        key="alerting",
        spec=AlertingEntry,
        page="checks.md#alerts",
        summary="Where the checks' alerts go. Left out: transitions are only logged.",
    ),
    Section(
        key="history",
        spec=HistorySection,
        page="checks.md#history",
        summary="How long the check history is kept, and how often it is pruned.",
    ),
    Section(
        key="log_monitors",
        spec=LogMonitorSpec,
        page="problems.md",
        summary="Log monitors. Left out: the embedded kernel monitor; `[]`: none.",
    ),
    Section(
        key="plugin_monitors",
        spec=PluginMonitorSpec,
        page="plugin-monitor.md",
        summary="Custom plugin monitors (node-problem-detector's exit-code protocol).",
    ),
    Section(
        key="stats_monitor",
        spec=StatsMonitorSpec,
        page="stats-monitor.md",
        summary="The stats monitor. Left out: the embedded default; `false`: off.",
    ),
    Section(
        key="service_monitors",
        spec=ServiceMonitorSpec,
        page="service-monitor.md",
        summary="Service monitors: kubelet, container runtimes, any systemd unit.",
    ),
    Section(
        key="gpu",
        spec=GpuSpec,
        page="gpu.md",
        summary="The GPU daemon. Left out: on when NVML loads; `false`: off.",
    ),
)
"""Every section, in the order the reference shows them."""


def _typed(info: mi.Type, spec: type[msgspec.Struct], where: str) -> Any:
    """The annotation for ``info`` with the loose mapping replaced by ``spec``."""
    if isinstance(info, mi.UnionType):
        members = tuple(_typed(t, spec, where) for t in info.types)
        union: Any = members[0]
        for member in members[1:]:
            union = union | member
        return union
    if isinstance(info, mi.StructType):
        if info.cls is not spec:
            raise ValueError(f"{where}: typed {info.cls.__name__}, documented as {spec.__name__}")
        return info.cls
    if isinstance(info, mi.DictType):
        return spec
    if isinstance(info, mi.ListType) and isinstance(info.item_type, mi.DictType):
        return list[spec]  # type: ignore[valid-type]  # spec is a class, known only here
    if isinstance(info, mi.BoolType):
        return bool
    if isinstance(info, mi.NoneType):
        return None
    raise ValueError(f"{where}: the reference does not know how to show {info!r}")


def agent_file_type() -> type[msgspec.Struct]:
    """``ConfigFile`` with each section typed by its own loader's struct.

    Raises ValueError naming a ``ConfigFile`` field that no section describes, or a
    section that ``ConfigFile`` no longer has.
    """
    info = mi.type_info(ConfigFile)
    if not isinstance(info, mi.StructType):
        raise TypeError("ConfigFile is expected to be a msgspec struct")
    by_key = {section.key: section for section in SECTIONS}
    names = [f.name for f in info.fields]
    if unknown := sorted(set(by_key) - set(names)):
        raise ValueError(f"sections not in ConfigFile: {', '.join(unknown)}")
    if missing := [n for n in names if n not in by_key]:
        raise ValueError(f"ConfigFile fields without a section in the reference: {missing}")
    fields: list[tuple[str, Any, Any]] = []
    for section in SECTIONS:
        found = next(f for f in info.fields if f.name == section.key)
        typed = _typed(found.type, section.spec, f"ConfigFile.{found.name}")
        default: Any = (
            found.default
            if found.default_factory is msgspec.NODEFAULT
            else msgspec.field(default_factory=found.default_factory)
        )
        fields.append((found.name, typed, default))
    return msgspec.defstruct(
        "AgentFile",
        fields,
        kw_only=True,
        frozen=True,
        forbid_unknown_fields=True,
        module=__name__,
    )
