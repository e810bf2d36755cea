"""The Prometheus exporter: the metrics listener and the bridge from plain metric families.

The metrics listener is separate from the health listener (it can be turned
off without touching health) and serves ``/metrics`` in the Prometheus text
format, or OpenMetrics when the scraper asks for it. :class:`FamiliesCollector`
serves :class:`MetricFamily` values (built by other parts without a client
library) through ``prometheus_client``, read from stored results at scrape time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import choose_encoder

from healthwatch.aio.sites import AppSite
from healthwatch.model.metrics import MetricFamily, MetricKind

__all__ = ["FamiliesCollector", "metrics_app", "metrics_site"]


class FamiliesCollector:
    """A ``prometheus_client`` collector over a source of :class:`MetricFamily` values."""

    def __init__(self, source: Callable[[], Iterable[MetricFamily]]) -> None:
        self._source = source

    def collect(self) -> Iterator[Metric]:
        """Convert each family at scrape time."""
        for family in self._source():
            labels = list(family.samples[0].labels) if family.samples else []
            metric: GaugeMetricFamily | CounterMetricFamily
            if family.kind is MetricKind.COUNTER:
                metric = CounterMetricFamily(family.name, family.help, labels=labels)
            else:
                metric = GaugeMetricFamily(family.name, family.help, labels=labels)
            for sample in family.samples:
                metric.add_metric([sample.labels.get(name, "") for name in labels], sample.value)
            yield metric


def metrics_app(registry: CollectorRegistry) -> web.Application:
    """An aiohttp application serving ``registry`` on ``/metrics``."""

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
    return AppSite(metrics_app(registry), name="metrics", host=host, port=port)
