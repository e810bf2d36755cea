"""Histogram and untyped families render the same with and without prometheus_client."""

from __future__ import annotations

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from healthwatch.exporters.prometheus import FamiliesCollector
from healthwatch.health.metrics import render_text
from healthwatch.model.metrics import Histogram, MetricFamily, MetricKind, Sample


def _family() -> MetricFamily:
    histogram = Histogram((0.1, 1.0))
    for value in (0.05, 0.05, 0.5, 3.0):
        histogram.observe(value)
    return MetricFamily(
        name="demo_duration_seconds",
        kind=MetricKind.HISTOGRAM,
        help="Demo durations.",
        samples=(histogram.sample({"check": "a/b"}),),
    )


def _parsed(text: str) -> dict[tuple[str, str], float]:
    found: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "histogram"
        for sample in family.samples:
            found[(sample.name, sample.labels.get("le", ""))] = sample.value
            assert sample.labels["check"] == "a/b"
    return found


EXPECTED = {
    ("demo_duration_seconds_bucket", "0.1"): 2.0,
    ("demo_duration_seconds_bucket", "1.0"): 3.0,
    ("demo_duration_seconds_bucket", "+Inf"): 4.0,
    ("demo_duration_seconds_count", ""): 4.0,
    ("demo_duration_seconds_sum", ""): 3.6,
}


def test_observations_are_cumulative_per_bucket() -> None:
    sample = _family().samples[0]
    assert sample.buckets == ((0.1, 2.0), (1.0, 3.0))
    assert sample.value == 4.0
    assert abs(sample.sum - 3.6) < 1e-9


def test_client_free_renderer_writes_buckets_sum_and_count() -> None:
    found = _parsed(render_text([_family()]))
    assert found.keys() == EXPECTED.keys()
    for key, value in EXPECTED.items():
        assert abs(found[key] - value) < 1e-9, key


def test_prometheus_client_serves_the_same_histogram() -> None:
    registry = CollectorRegistry()
    registry.register(FamiliesCollector(lambda: [_family()], labels={"node": "n1"}))
    text = generate_latest(registry).decode()
    assert 'node="n1"' in text
    found = _parsed(text)
    for key, value in EXPECTED.items():
        assert abs(found[key] - value) < 1e-9, key


def test_untyped_counters_keep_their_compatibility_name() -> None:
    family = MetricFamily(
        name="net_rx_bytes",
        kind=MetricKind.UNTYPED,
        help="Bytes received.",
        samples=(Sample(labels={"interface_name": "eth0"}, value=42.0),),
    )
    registry = CollectorRegistry()
    registry.register(FamiliesCollector(lambda: [family]))
    for text in (generate_latest(registry).decode(), render_text([family])):
        assert "# TYPE net_rx_bytes untyped" in text
        assert 'net_rx_bytes{interface_name="eth0"} 42.0' in text
        assert "net_rx_bytes_total" not in text
