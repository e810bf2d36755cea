"""Health metrics built from stored results, without a client library.

:func:`health_families` reads a report (taken with ``probes=()``, so no check
runs because someone scraped) and returns plain :class:`MetricFamily` values.
:func:`render_text` writes them in the Prometheus text format for services
that embed only the health core; the agent's metrics listener serves the same
families through ``prometheus_client``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from healthwatch.model.health import HealthReport, HealthStatus, Lifecycle, OverallStatus
from healthwatch.model.metrics import MetricFamily, MetricKind, Sample

__all__ = ["health_families", "render_text"]


def _one_hot(label: str, current: str, values: Iterable[str], **extra: str) -> list[Sample]:
    return [
        Sample(labels={**extra, label: value}, value=1.0 if value == current else 0.0)
        for value in values
    ]


def health_families(report: HealthReport) -> list[MetricFamily]:
    """The metrics of one report."""
    statuses = [str(s) for s in HealthStatus]
    component_status: list[Sample] = []
    failures: list[Sample] = []
    last_success: list[Sample] = []
    durations: list[Sample] = []
    for c in report.components:
        component_status += _one_hot("status", str(c.status), statuses, component=c.name)
        failures.append(Sample(labels={"component": c.name}, value=c.consecutive_failures))
        if c.last_success_at is not None:
            last_success.append(Sample(labels={"component": c.name}, value=c.last_success_at))
        if c.duration is not None:
            durations.append(Sample(labels={"component": c.name}, value=c.duration))
    probes = report.probes.values()
    return [
        MetricFamily(
            name="healthwatch_health_status",
            kind=MetricKind.GAUGE,
            help="Overall health (1 for the current status, 0 for the others).",
            samples=tuple(_one_hot("status", str(report.status), [str(s) for s in OverallStatus])),
        ),
        MetricFamily(
            name="healthwatch_lifecycle",
            kind=MetricKind.GAUGE,
            help="Lifecycle state of the process (1 for the current state).",
            samples=tuple(_one_hot("state", str(report.lifecycle), [str(s) for s in Lifecycle])),
        ),
        MetricFamily(
            name="healthwatch_standby",
            kind=MetricKind.GAUGE,
            help="1 while the process is a standby (not leader).",
            samples=(Sample(value=1.0 if report.standby else 0.0),),
        ),
        MetricFamily(
            name="healthwatch_probe_passed",
            kind=MetricKind.GAUGE,
            help="1 when the probe group passes, 0 when it fails.",
            samples=tuple(Sample(labels={"probe": v.probe}, value=float(v.passed)) for v in probes),
        ),
        MetricFamily(
            name="healthwatch_probe_suppressed",
            kind=MetricKind.GAUGE,
            help="1 while a suppression window is open for the probe group.",
            samples=tuple(
                Sample(labels={"probe": v.probe}, value=float(bool(v.suppressed))) for v in probes
            ),
        ),
        MetricFamily(
            name="healthwatch_component_status",
            kind=MetricKind.GAUGE,
            help="Component status (1 for the current status, 0 for the others).",
            samples=tuple(component_status),
        ),
        MetricFamily(
            name="healthwatch_component_consecutive_failures",
            kind=MetricKind.GAUGE,
            help="Failed observations of the component since its last success.",
            samples=tuple(failures),
        ),
        MetricFamily(
            name="healthwatch_component_last_success_timestamp_seconds",
            kind=MetricKind.GAUGE,
            help="Unix time of the component's latest healthy or degraded observation.",
            samples=tuple(last_success),
        ),
        MetricFamily(
            name="healthwatch_component_check_duration_seconds",
            kind=MetricKind.GAUGE,
            help="Seconds the component's latest check run took.",
            samples=tuple(durations),
        ),
    ]


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _format_value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else f"{value:.1f}"


def _labels(labels: Mapping[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels.items()) + "}"


def _histogram_lines(name: str, sample: Sample) -> list[str]:
    lines = [
        f"{name}_bucket{_labels({**sample.labels, 'le': _format_value(bound)})} "
        f"{_format_value(count)}"
        for bound, count in sample.buckets
    ]
    lines.append(
        f"{name}_bucket{_labels({**sample.labels, 'le': '+Inf'})} {_format_value(sample.value)}"
    )
    lines.append(f"{name}_sum{_labels(sample.labels)} {_format_value(sample.sum)}")
    lines.append(f"{name}_count{_labels(sample.labels)} {_format_value(sample.value)}")
    return lines


def render_text(families: Iterable[MetricFamily]) -> str:
    """Prometheus text exposition format 0.0.4."""
    lines: list[str] = []
    for family in families:
        name = family.name + ("_total" if family.kind is MetricKind.COUNTER else "")
        help_text = family.help.replace("\\", "\\\\").replace("\n", "\\n")
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {family.kind}")
        for sample in family.samples:
            if family.kind is MetricKind.HISTOGRAM:
                lines += _histogram_lines(name, sample)
            else:
                lines.append(f"{name}{_labels(sample.labels)} {_format_value(sample.value)}")
    return "\n".join(lines) + "\n"
