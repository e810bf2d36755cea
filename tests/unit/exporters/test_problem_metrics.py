"""node-problem-detector's problem metrics, as Prometheus scrapes them."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from healthwatch.exporters.prometheus import FamiliesCollector, ProblemMetrics
from healthwatch.model.metrics import MetricFamily, MetricKind, Sample
from healthwatch.model.problems import (
    Condition,
    ConditionStatus,
    Event,
    ProblemDeclaration,
    Severity,
    Status,
)


def scrape(registry: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def event(reason: str) -> Event:
    return Event(severity=Severity.WARN, timestamp=1.0, reason=reason, message="m")


def condition(type_: str, status: ConditionStatus, reason: str) -> Condition:
    return Condition(type=type_, status=status, transition=1.0, reason=reason, message="m")


DECLARED = (
    ProblemDeclaration(reason="OOMKilling"),
    ProblemDeclaration(reason="DockerHung", condition="KernelDeadlock"),
    ProblemDeclaration(reason="ContainerdHung", condition="KernelDeadlock"),
)


async def test_declared_reasons_start_at_zero_with_npd_names() -> None:
    registry = CollectorRegistry()
    ProblemMetrics(registry, node="node-1").declare(DECLARED)
    text = generate_latest(registry).decode()
    assert 'problem_counter{node="node-1",reason="OOMKilling"} 0.0' in text
    assert 'problem_gauge{node="node-1",reason="DockerHung",type="KernelDeadlock"} 0.0' in text
    assert "problem_counter_total" not in text  # the name dashboards know, no suffix


async def test_events_count_and_a_new_reason_zeroes_the_previous() -> None:
    registry = CollectorRegistry()
    metrics = ProblemMetrics(registry)
    metrics.declare(DECLARED)
    await metrics.export(Status(source="k", events=(event("OOMKilling"), event("OOMKilling"))))
    await metrics.export(Status(source="k", events=(event("SomethingUndeclared"),)))
    await metrics.export(
        Status(
            source="k",
            events=(event("DockerHung"),),
            conditions=(condition("KernelDeadlock", ConditionStatus.TRUE, "DockerHung"),),
        )
    )
    values = scrape(registry)
    assert values[("problem_counter", (("reason", "OOMKilling"),))] == 2
    assert values[("problem_counter", (("reason", "DockerHung"),))] == 1
    assert not any(key[1] == (("reason", "SomethingUndeclared"),) for key in values)
    gauge = ("problem_gauge", (("reason", "DockerHung"), ("type", "KernelDeadlock")))
    assert values[gauge] == 1
    await metrics.export(
        Status(
            source="k",
            conditions=(condition("KernelDeadlock", ConditionStatus.TRUE, "ContainerdHung"),),
        )
    )
    values = scrape(registry)
    assert values[gauge] == 0
    containerd = ("problem_gauge", (("reason", "ContainerdHung"), ("type", "KernelDeadlock")))
    assert values[containerd] == 1
    await metrics.export(
        Status(
            source="k",
            conditions=(condition("KernelDeadlock", ConditionStatus.FALSE, "Recovered"),),
        )
    )
    assert all(v == 0 for k, v in scrape(registry).items() if k[0] == "problem_gauge")


def test_families_of_the_same_name_are_merged() -> None:
    registry = CollectorRegistry()
    families = [
        MetricFamily(
            name="healthwatch_logmonitor_lines",
            kind=MetricKind.COUNTER,
            help="h",
            samples=(Sample(labels={"monitor": "a"}, value=1),),
        ),
        MetricFamily(
            name="healthwatch_logmonitor_lines",
            kind=MetricKind.COUNTER,
            help="h",
            samples=(Sample(labels={"monitor": "b"}, value=2),),
        ),
    ]
    registry.register(FamiliesCollector(lambda: families))
    text = generate_latest(registry).decode()
    assert text.count("# HELP healthwatch_logmonitor_lines_total") == 1
    values = scrape(registry)
    assert values[("healthwatch_logmonitor_lines_total", (("monitor", "a"),))] == 1
    assert values[("healthwatch_logmonitor_lines_total", (("monitor", "b"),))] == 2
