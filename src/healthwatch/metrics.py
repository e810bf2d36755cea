"""The agent's own metric definitions, in one place.

Process and platform collectors plus ``healthwatch_build_info``; the health
families of the agent's registry are added by the Prometheus exporter. A fresh
``CollectorRegistry`` per agent keeps tests and embedded uses independent of
the library's global default registry.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector

from healthwatch._version import __version__

__all__ = ["agent_metrics_registry"]


def agent_metrics_registry(*, procfs: str = "/proc", node: str = "") -> CollectorRegistry:
    """A registry with process, platform and GC collectors and the build info gauge."""
    registry = CollectorRegistry(auto_describe=True)
    ProcessCollector(registry=registry, proc=procfs)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    build = Gauge(
        "healthwatch_build_info",
        "Version of the running healthwatch agent (always 1).",
        ["version", "node"],
        registry=registry,
    )
    build.labels(version=__version__, node=node).set(1)
    return registry
