"""The Prometheus exporter: the metrics listener and the bridge from plain metric families.

The metrics listener is separate from the health listener (it can be turned
off without touching health) and serves ``/metrics`` in the Prometheus text
format, or OpenMetrics when the scraper asks for it. :class:`FamiliesCollector`
serves :class:`MetricFamily` values (built by other parts without a client
library) through ``prometheus_client``, read from stored results at scrape time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator, Mapping

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import choose_encoder

from healthwatch.model.metrics import MetricFamily, MetricKind
from healthwatch.model.problems import ConditionStatus, ProblemDeclaration, Status

TYPE_CHECKING = False  # aiohttp only for the listener: the exporter alone stays light
if TYPE_CHECKING:
    from aiohttp import web

    from healthwatch.aio.sites import AppSite

__all__ = ["FamiliesCollector", "ProblemMetrics", "metrics_app", "metrics_site"]


class FamiliesCollector:
    """A ``prometheus_client`` collector over a source of :class:`MetricFamily` values."""

    def __init__(
        self,
        source: Callable[[], Iterable[MetricFamily]],
        *,
        labels: Mapping[str, str] | None = None,
    ) -> None:
        self._source = source
        self._labels = dict(labels or {})
        """Constant labels added to every sample that lacks them (``node``)."""

    def collect(self) -> Iterator[Metric]:
        """Convert each family at scrape time; families of the same name are merged."""
        merged: dict[str, MetricFamily] = {}
        for family in self._source():
            seen = merged.get(family.name)
            merged[family.name] = (
                family
                if seen is None
                else MetricFamily(
                    name=family.name,
                    kind=family.kind,
                    help=family.help,
                    samples=seen.samples + family.samples,
                )
            )
        for family in merged.values():
            labels = sorted(
                {name for sample in family.samples for name in sample.labels} | set(self._labels)
            )
            if family.kind is MetricKind.HISTOGRAM:
                yield _histogram(family, labels, self._labels)
                continue
            if family.kind is MetricKind.UNTYPED:
                yield _untyped(family, self._labels)
                continue
            metric: GaugeMetricFamily | CounterMetricFamily
            if family.kind is MetricKind.COUNTER:
                metric = CounterMetricFamily(family.name, family.help, labels=labels)
            else:
                metric = GaugeMetricFamily(family.name, family.help, labels=labels)
            for sample in family.samples:
                values = {**self._labels, **sample.labels}
                metric.add_metric([values.get(name, "") for name in labels], sample.value)
            yield metric


def _untyped(family: MetricFamily, constant: Mapping[str, str]) -> Metric:
    metric = Metric(family.name, family.help, "unknown")  # written as "untyped"
    for sample in family.samples:
        metric.add_sample(family.name, {**constant, **sample.labels}, sample.value)
    return metric


def _histogram(
    family: MetricFamily, labels: list[str], constant: Mapping[str, str]
) -> HistogramMetricFamily:
    metric = HistogramMetricFamily(family.name, family.help, labels=labels)
    for sample in family.samples:
        values = {**constant, **sample.labels}
        buckets = [(repr(float(bound)), count) for bound, count in sample.buckets]
        buckets.append(("+Inf", sample.value))
        metric.add_metric(
            [values.get(name, "") for name in labels], buckets=buckets, sum_value=sample.sum
        )
    return metric


def metrics_app(registry: CollectorRegistry) -> web.Application:
    """An aiohttp application serving ``registry`` on ``/metrics``."""
    from aiohttp import web  # noqa: PLC0415 - only the metrics listener needs aiohttp

    async def metrics(request: web.Request) -> web.Response:
        encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
        loop = asyncio.get_running_loop()
        body = await loop.run_in_executor(None, encoder, registry)
        return web.Response(
            body=body, headers={"Content-Type": content_type, "Cache-Control": "no-store"}
        )

    app = web.Application(client_max_size=1024)
    app.router.add_get("/metrics", metrics)
    return app


def metrics_site(registry: CollectorRegistry, *, host: str, port: int) -> AppSite:
    """The metrics listener, ready to start."""
    from healthwatch.aio.sites import AppSite  # noqa: PLC0415 - see metrics_app

    return AppSite(metrics_app(registry), name="metrics", host=host, port=port)


class ProblemMetrics:
    """node-problem-detector's problem metrics, under their own names, as an exporter.

    ``problem_counter{reason}`` counts temporary problems and condition changes per
    reason; ``problem_gauge{type,reason}`` is 1 while a condition of that type holds
    for that reason, and setting a new reason for a type zeroes the previous one.
    Every declared reason starts at 0. No prefix, so existing dashboards and alerts
    keep working. (The text format's TYPE line says ``untyped`` for the counter:
    ``prometheus_client`` cannot expose a counter without the ``_total`` suffix, and
    the name matters more than the type line. PromQL treats both alike.)
    """

    name = "prometheus"

    def __init__(self, registry: CollectorRegistry, *, node: str | None = None) -> None:
        self._node = node
        self._counts: dict[str, float] = {}
        self._gauges: dict[tuple[str, str], float] = {}
        registry.register(self)

    def declare(self, declarations: tuple[ProblemDeclaration, ...]) -> None:
        """Start every declared reason at zero."""
        for item in declarations:
            self._counts.setdefault(item.reason, 0.0)
            if item.condition is not None:
                self._gauges.setdefault((item.condition, item.reason), 0.0)

    async def export(self, status: Status) -> None:
        """Count the events of known reasons and follow the conditions."""
        for event in status.events:
            if event.reason in self._counts:
                self._counts[event.reason] += 1
        for condition in status.conditions:
            active = condition.status is ConditionStatus.TRUE
            for key in [k for k in self._gauges if k[0] == condition.type]:
                self._gauges[key] = 1.0 if active and key[1] == condition.reason else 0.0
            if active:
                self._gauges[(condition.type, condition.reason)] = 1.0

    def collect(self) -> Iterator[Metric]:
        """The two families, read at scrape time."""
        node = {"node": self._node} if self._node else {}
        counter = Metric(
            "problem_counter",
            "Number of times a specific type of problem have occurred.",
            "unknown",
        )
        for reason, value in sorted(self._counts.items()):
            counter.add_sample("problem_counter", {**node, "reason": reason}, value)
        gauge = Metric(
            "problem_gauge",
            "Whether a specific type of problem is affecting the node or not.",
            "gauge",
        )
        for (type_, reason), value in sorted(self._gauges.items()):
            gauge.add_sample("problem_gauge", {**node, "type": type_, "reason": reason}, value)
        yield counter
        yield gauge
