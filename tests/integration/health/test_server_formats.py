"""Answer formats: Kubernetes verbose text, ?exclude=, JSON, health+json, Prometheus, size caps."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families

from healthwatch.health.groups import LIVENESS, READINESS, STARTUP
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import HealthRoutes
from healthwatch.health.serializers import ServiceInfo
from healthwatch.health.server import HealthServer
from tests.integration.health.netkit import Serve, fetch

PROBE_LIMIT = 10 * 1024
JSON = {"Accept": "application/json"}
HEALTH_JSON = {"Accept": "application/health+json"}


def test_verbose_lists_every_member(ready: HealthRegistry, serve: Serve) -> None:
    ready.register("queue")
    ready.update("queue", "degraded", "lagging 40s")
    server = serve(HealthRoutes(ready))
    reply = fetch(server.address, "/readyz?verbose")
    assert reply.status == 200
    assert reply.lines == ["[+]db ok", "[+]cache ok", "[+]queue degraded", "readyz check passed"]
    ready.update("cache", "unhealthy", "connection\nrefused")
    failed = fetch(server.address, "/readyz?verbose")
    assert failed.status == 503
    assert "[-]cache failed: connection refused" in failed.lines  # one line, whitespace folded
    assert failed.lines[-1] == "readyz check failed"


def test_a_failing_probe_explains_itself_without_verbose(
    ready: HealthRegistry, serve: Serve
) -> None:
    ready.update("db", "unhealthy", "timeout")
    server = serve(HealthRoutes(ready))
    reply = fetch(server.address, "/readyz")
    assert reply.status == 503
    assert reply.lines == ["[-]db failed: timeout", "[+]cache ok", "readyz check failed"]


@pytest.mark.parametrize("path", ["/livez?verbose", "/healthz?verbose=1", "/startupz?verbose"])
def test_verbose_word_follows_the_probe(ready: HealthRegistry, serve: Serve, path: str) -> None:
    server = serve(HealthRoutes(ready))
    word = "livez" if path.startswith(("/livez", "/healthz")) else "startupz"
    assert fetch(server.address, path).lines[-1] == f"{word} check passed"


def test_exclude_is_repeatable(ready: HealthRegistry, serve: Serve) -> None:
    ready.register("queue")
    ready.update("queue", "unhealthy", "broker down")
    ready.update("cache", "unhealthy", "evicted")
    server = serve(HealthRoutes(ready))
    assert fetch(server.address, "/readyz?exclude=queue").status == 503
    both = fetch(server.address, "/readyz?exclude=queue&exclude=cache&verbose")
    assert both.status == 200
    assert both.lines == [
        "[+]db ok",
        "[+]cache excluded: ok",
        "[+]queue excluded: ok",
        "readyz check passed",
    ]
    unknown = fetch(server.address, "/readyz?exclude=nope&exclude=queue&exclude=cache&verbose")
    assert unknown.status == 200
    assert not any("nope" in line for line in unknown.lines)
    data = json.loads(fetch(server.address, "/readyz?exclude=cache", headers=JSON).body)
    assert data["members"] == ["db", "queue"]


def test_json_when_asked(ready: HealthRegistry, serve: Serve) -> None:
    ready.update("cache", "unhealthy", "evicted")
    server = serve(HealthRoutes(ready))
    reply = fetch(server.address, "/readyz", headers=JSON)
    assert reply.status == 503
    assert reply.headers["content-type"] == "application/json"
    data = json.loads(reply.body)
    assert (data["probe"], data["passed"], data["status"]) == ("readiness", False, "unhealthy")
    assert (data["members"], data["failing"]) == (["db", "cache"], ["cache"])
    live = json.loads(fetch(server.address, "/livez", headers=JSON).body)
    assert (live["probe"], live["passed"]) == ("liveness", True)
    verbose = fetch(server.address, "/readyz?verbose", headers=JSON)
    assert verbose.headers["content-type"].startswith("text/plain")  # ?verbose asks for text


def test_health_json(ready: HealthRegistry, serve: Serve) -> None:
    info = ServiceInfo(service="orders", instance="pod-7", version="2.4.1", commit="abc123")
    server = serve(HealthRoutes(ready, info=info))
    ok = fetch(server.address, "/health", headers=HEALTH_JSON)
    assert ok.status == 200
    assert ok.headers["content-type"] == "application/health+json"
    data = json.loads(ok.body)
    assert data["status"] == "pass"
    assert set(data["checks"]) == {"db", "cache"}
    [db] = data["checks"]["db"]
    assert (db["componentId"], db["status"], db["output"]) == ("db", "pass", "pool 4/10")
    assert db["time"].endswith("Z")
    assert (data["serviceId"], data["version"], data["releaseId"]) == ("orders", "2", "2.4.1")
    ready.update("cache", "degraded", "slow")
    warn = fetch(server.address, "/health", headers=HEALTH_JSON)
    assert (warn.status, json.loads(warn.body)["status"]) == (200, "warn")
    assert json.loads(warn.body)["checks"]["cache"][0]["status"] == "warn"
    ready.update("db", "unhealthy", "down")
    fail = fetch(server.address, "/health", headers=HEALTH_JSON)
    assert (fail.status, json.loads(fail.body)["status"]) == (503, "fail")
    assert json.loads(fail.body)["checks"]["db"][0]["status"] == "fail"


def test_metrics_are_prometheus_text(ready: HealthRegistry, serve: Serve) -> None:
    calls: list[int] = []

    def disk() -> bool:
        calls.append(1)
        return True

    ready.register("disk", disk, groups=(LIVENESS,))
    ready.update("cache", "degraded", 'slow "quoted"\nline')
    server = serve(HealthRoutes(ready, metrics=True))
    reply = fetch(server.address, "/metrics")
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(reply.text)}
    assert calls == []  # a scrape never runs a check
    health = {s.labels["status"]: s.value for s in families["healthwatch_health_status"].samples}
    assert health["degraded"] == 1.0
    assert sum(health.values()) == 1.0
    component = {
        (s.labels["component"], s.labels["status"]): s.value
        for s in families["healthwatch_component_status"].samples
    }
    assert component[("db", "healthy")] == 1.0
    assert component[("cache", "degraded")] == 1.0
    assert component[("cache", "healthy")] == 0.0
    assert component[("disk", "unknown")] == 1.0
    probes = {s.labels["probe"]: s.value for s in families["healthwatch_probe_passed"].samples}
    assert probes[READINESS] == 1.0
    assert probes[STARTUP] == 1.0


def test_metrics_route_is_off_by_default(ready: HealthRegistry, serve: Serve) -> None:
    assert fetch(serve(HealthRoutes(ready)).address, "/metrics").status == 404


@pytest.fixture(scope="module")
def crowded() -> Iterator[tuple[HealthRegistry, HealthServer]]:
    """2,000 components in readiness, startup and liveness, half failing with long messages."""
    registry = HealthRegistry()
    registry.mark_started()  # else every update re-judges startup: quadratic set-up
    for i in range(2000):
        name = f"component-{i:04d}-" + "x" * 40
        registry.register(name, groups=(READINESS, STARTUP, LIVENESS))
        registry.update(name, "healthy" if i % 2 else "unhealthy", "m" * 400 + f" #{i}")
    with HealthServer(HealthRoutes(registry), host="127.0.0.1", port=0) as server:
        yield registry, server
    registry.close()


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/readyz", {}),
        ("/readyz?verbose", {}),
        ("/livez?verbose", {}),
        ("/startupz?verbose", {}),
        ("/readyz", JSON),
        ("/livez", JSON),
        ("/readyz?exclude=component-0000&verbose", {}),
    ],
)
def test_probe_bodies_stay_under_10_kib(
    crowded: tuple[HealthRegistry, HealthServer], path: str, headers: dict[str, str]
) -> None:
    registry, server = crowded
    reply = fetch(server.address, path, headers=headers)
    probe = {"/r": READINESS, "/l": LIVENESS, "/s": STARTUP}[path[:2]]
    passed = registry.report(probes=(probe,)).probes[probe].passed
    assert reply.status == (200 if passed else 503)
    assert len(reply.body) < PROBE_LIMIT
    if headers:
        data = json.loads(reply.body)
        verdict = registry.report(probes=(probe,)).probes[probe]
        assert (data["probe"], data["passed"], data["truncated"]) == (probe, passed, True)
        assert (data["members_total"], data["failing_total"]) == (
            len(verdict.members),
            len(verdict.failing),
        )
        assert data["failing"] == list(verdict.failing[: len(data["failing"])])
        assert data["failing"]  # as many names as fit are still given
    else:
        assert reply.lines[-1].endswith("check passed" if passed else "check failed")
        assert "more lines not shown" in reply.text
