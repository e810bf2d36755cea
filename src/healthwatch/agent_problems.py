"""Which problem daemons the agent runs, built from its config, and the detector over them.

Every daemon kind has two ways in: node-problem-detector's JSON files (the
``--config.*`` flags, unchanged) and our YAML sections. What nobody configured
falls back to the embedded default: the kernel log monitor on the best source
this machine has, the stats monitor, and the GPU daemon when NVML loads. Each
choice the agent makes by itself is recorded with its reason in ``decisions``,
shown in the agent component's metadata and by ``healthwatch status``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from healthwatch.aio.clock import Clock
from healthwatch.config.agent import AgentConfig
from healthwatch.config.yamlfile import convert
from healthwatch.detector import PROBLEMS_GROUP, Detector
from healthwatch.health.registry import HealthRegistry
from healthwatch.model.errors import ConfigError, HealthwatchError
from healthwatch.model.health import HealthStatus
from healthwatch.model.problems import StatusExporter
from healthwatch.problems.base import DaemonKinds, ProblemDaemon
from healthwatch.problems.logmonitor.config import (
    LogMonitorSpec,
    build_log_monitor,
    load_npd_system_log_monitor,
)
from healthwatch.problems.logmonitor.specs import LogMonitorConfig

TYPE_CHECKING = False
if TYPE_CHECKING:
    from healthwatch.problems.pluginmonitor.specs import PluginMonitorConfig

__all__ = [
    "DaemonPlan",
    "configured_daemons",
    "configured_log_monitors",
    "embedded_daemons",
    "load_npd_file",
    "open_problems",
]

_log = logging.getLogger("healthwatch.agent")


@dataclass(frozen=True, slots=True)
class DaemonPlan:
    """One daemon to build: its kind and its validated config."""

    kind: str
    """A kind of :class:`DaemonKinds` (``logmonitor``, ``pluginmonitor`` ...)."""
    config: object
    """The kind's own validated config object."""
    name: str
    """The daemon's name, unique among daemons of its kind."""


def configured_log_monitors(config: AgentConfig) -> list[LogMonitorConfig]:
    """The log monitors a config asks for: node-problem-detector files, then our YAML ones.

    Raises :class:`ConfigError` naming the file, line and field of the first problem.
    """
    configs = [load_npd_system_log_monitor(path) for path in config.system_log_monitors]
    for index, raw in enumerate(config.log_monitors or ()):
        prefix = f"log_monitors[{index}]"
        spec = convert(raw, LogMonitorSpec, source=config.source, lines=config.lines, prefix=prefix)
        configs.append(
            build_log_monitor(spec, source=config.source, lines=config.lines, prefix=prefix)
        )
    names = [c.name for c in configs]
    for name in names:
        if names.count(name) > 1:
            raise ConfigError(f"{config.source}: two log monitors are named {name!r}")
    return configs


_STATS_KEYS = frozenset({"cpu", "disk", "host", "memory", "net", "osFeature", "invokeInterval"})


def load_npd_file(path: str) -> str:
    """Validate one node-problem-detector JSON file of any monitor kind; returns the kind.

    The kind is told by the content, as node-problem-detector's flags would have
    said: ``"plugin": "custom"`` is a custom plugin monitor, stats keys without a
    ``plugin`` a system stats monitor, anything else a system log monitor (whose
    loader names what is wrong). Raises :class:`ConfigError`.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        data = None  # the system log monitor loader reports the file's problem precisely
    if isinstance(data, dict) and data.get("plugin") == "custom":
        from healthwatch.problems.pluginmonitor.config import (  # noqa: PLC0415
            load_npd_custom_plugin_monitor,
        )

        load_npd_custom_plugin_monitor(path)
        return "custom plugin monitor"
    if isinstance(data, dict) and "plugin" not in data and _STATS_KEYS & data.keys():
        from healthwatch.problems.statsmonitor.config import (  # noqa: PLC0415
            load_npd_system_stats_monitor,
        )

        load_npd_system_stats_monitor(path)
        return "system stats monitor"
    load_npd_system_log_monitor(path)
    return "system log monitor"


def configured_daemons(config: AgentConfig) -> list[DaemonPlan]:
    """Every daemon the config names explicitly (no embedded defaults), validated.

    Used by the agent and by ``healthwatch validate``; raises :class:`ConfigError`
    naming file, line, field and value, or a duplicate name.
    """
    from healthwatch.problems.pluginmonitor.config import (  # noqa: PLC0415
        build_plugin_monitor,
        load_npd_custom_plugin_monitor,
    )
    from healthwatch.problems.servicemonitor.config import build_service_monitors  # noqa: PLC0415
    from healthwatch.problems.statsmonitor.config import (  # noqa: PLC0415
        build_stats_monitor,
        load_npd_system_stats_monitor,
    )

    plans = [DaemonPlan("logmonitor", c, c.name) for c in configured_log_monitors(config)]
    plugins = _distinct_sources(
        [load_npd_custom_plugin_monitor(p) for p in config.custom_plugin_monitors]
    )
    plugins += [
        build_plugin_monitor(
            raw, source=config.source, lines=config.lines, prefix=f"plugin_monitors[{index}]"
        )
        for index, raw in enumerate(config.plugin_monitors or ())
    ]
    plans += [DaemonPlan("pluginmonitor", c, c.name) for c in plugins]
    stats = [load_npd_system_stats_monitor(p) for p in config.system_stats_monitors]
    if isinstance(config.stats_monitor, dict):
        stats.append(
            build_stats_monitor(
                config.stats_monitor,
                source=config.source,
                lines=config.lines,
                prefix="stats_monitor",
            )
        )
    plans += [DaemonPlan("statsmonitor", c, c.name) for c in stats if c.enabled]
    services = build_service_monitors(
        config.service_monitors or (), source=config.source, lines=config.lines
    )
    plans += [DaemonPlan("servicemonitor", c, c.name) for c in services]
    if isinstance(config.gpu, dict) or config.gpu is True:
        from healthwatch.problems.gpu.config import build_gpu_config  # noqa: PLC0415

        raw = config.gpu if isinstance(config.gpu, dict) else {}
        gpu = build_gpu_config(raw, source=config.source, lines=config.lines, prefix="gpu")
        plans.append(DaemonPlan("gpu", gpu, "gpu"))
    _unique(config.source, plans)
    return plans


def _distinct_sources(configs: list[PluginMonitorConfig]) -> list[PluginMonitorConfig]:
    """Monitors of NPD files sharing a ``source`` are named after their files instead.

    node-problem-detector's health-checker files all say ``health-checker``; each
    must still be its own health component (``daemon:health-checker-kubelet``).
    """
    names = [c.name for c in configs]
    return [
        dataclasses.replace(c, name=Path(c.origin).stem) if names.count(c.name) > 1 else c
        for c in configs
    ]


def _unique(source: str, plans: list[DaemonPlan]) -> None:
    """Daemon names are health component names (``daemon:NAME``): one per agent."""
    names = [plan.name for plan in plans]
    for plan in plans:
        if names.count(plan.name) > 1:
            kinds = " and ".join(sorted({p.kind for p in plans if p.name == plan.name}))
            raise ConfigError(
                f"{source}: two problem daemons ({kinds}) are named {plan.name!r};"
                " give one a different name"
            )


def embedded_daemons(
    config: AgentConfig, plans: list[DaemonPlan], decisions: dict[str, str]
) -> list[DaemonPlan]:
    """The embedded defaults for each kind nobody configured, with the reasons."""
    from healthwatch.problems.logmonitor.defaults import default_kernel_monitor  # noqa: PLC0415

    kinds = {plan.kind for plan in plans}
    extra: list[DaemonPlan] = []
    if config.log_monitors is None and not config.system_log_monitors:
        default, why = default_kernel_monitor(config.host_root)
        decisions["kernel_log"] = why
        if default is not None:
            extra.append(DaemonPlan("logmonitor", default, default.name))
    stats_given = (
        isinstance(config.stats_monitor, dict)
        or config.stats_monitor is False
        or bool(config.system_stats_monitors)
    )
    if "statsmonitor" not in kinds and not stats_given:
        from healthwatch.problems.statsmonitor.config import default_stats_monitor  # noqa: PLC0415

        stats = default_stats_monitor()
        decisions["stats"] = "on by default (turn off with stats_monitor: false)"
        extra.append(DaemonPlan("statsmonitor", stats, stats.name))
    if "gpu" not in kinds and config.gpu is None:
        from healthwatch.problems.gpu.config import default_gpu_config  # noqa: PLC0415
        from healthwatch.problems.gpu.nvml import load_nvml  # noqa: PLC0415

        adapter, why = load_nvml()
        if adapter is None:
            decisions["gpu"] = f"off: {why}"
        else:
            adapter.shutdown()
            decisions["gpu"] = "on: NVML loaded"
            extra.append(DaemonPlan("gpu", default_gpu_config(), "gpu"))
    return extra


async def open_problems(
    config: AgentConfig,
    *,
    registry: HealthRegistry,
    clock: Clock,
    kinds: DaemonKinds,
    exporters: list[StatusExporter],
    decisions: dict[str, str],
    boot_time: float | None,
) -> Detector | None:
    """Build and start every daemon under one detector; None when there is none.

    Raises :class:`NoDaemonStartedError` when daemons are configured but none starts.
    """
    plans = configured_daemons(config)
    plans += embedded_daemons(config, plans, decisions)
    if "kernel_log" in decisions and not any(p.kind == "logmonitor" for p in plans):
        registry.add_group(PROBLEMS_GROUP)
        registry.register("daemon:kernel-monitor", groups=(PROBLEMS_GROUP,))
        registry.update("daemon:kernel-monitor", HealthStatus.DEGRADED, decisions["kernel_log"])
        _log.warning("kernel monitor off: %s", decisions["kernel_log"])
    if not plans:
        return None
    state: Path = config.state_dir / "problems"
    daemons: list[ProblemDaemon] = []
    for plan in plans:
        try:
            make = kinds.factory(plan.kind)
        except KeyError as error:
            raise HealthwatchError(str(error.args[0])) from None
        daemons.append(
            make(
                config=plan.config,
                clock=clock,
                host_root=config.host_root,
                state_dir=state,
                boot_time=boot_time,
            )
        )
    detector = Detector(daemons, exporters, registry=registry)
    await detector.start()
    return detector
