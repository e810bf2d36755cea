"""The checks service against a real loopback server: its metrics, its shared HTTP session.

A check's cookies must never reach another check, the scheduler's counters and the
lateness histogram must be in the families, and samples reused between scrapes must
follow the values they show.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web

from healthwatch.aio import SystemClock
from healthwatch.checks.service import CheckService
from healthwatch.checks.spec import build_checks
from healthwatch.model.metrics import MetricFamily, MetricKind

COOKIES = web.AppKey("cookies", list[str])
FAILING = web.AppKey("failing", list[bool])


async def _set_cookie(_request: web.Request) -> web.Response:
    response = web.Response(text="set")
    response.set_cookie("session", "secret-of-one-check")
    return response


async def _echo(request: web.Request) -> web.Response:
    request.app[COOKIES].append(request.headers.get("Cookie", ""))
    status = 503 if request.app[FAILING][0] else 200
    return web.Response(status=status, text="seen")


@pytest.fixture
async def target() -> AsyncIterator[tuple[web.Application, int]]:
    app = web.Application()
    app[COOKIES] = []
    app[FAILING] = [False]
    app.router.add_get("/set", _set_cookie)
    app.router.add_get("/echo", _echo)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "localhost", 0)  # a name: cookies are kept for names, not IPs
    await site.start()
    yield app, runner.addresses[0][1]
    await runner.cleanup()


async def _until(condition: Callable[[], bool], *, within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


def _families(service: CheckService) -> dict[str, MetricFamily]:
    return {family.name: family for family in service.metric_families("node-1")}


def _value(family: MetricFamily, **labels: str) -> float:
    (found,) = [s.value for s in family.samples if labels.items() <= s.labels.items()]
    return found


@pytest.fixture
async def service(target: tuple[web.Application, int]) -> AsyncIterator[CheckService]:
    base = f"http://localhost:{target[1]}"
    entries: list[object] = [
        {"name": "setter", "kind": "http", "url": f"{base}/set", "interval": "1s", "timeout": "1s"},
        {
            "name": "reader",
            "kind": "http",
            "url": f"{base}/echo",
            "interval": "1s",
            "timeout": "1s",
        },
    ]
    checks = CheckService(build_checks(entries, source="test.yaml"), clock=SystemClock())
    await checks.start()
    yield checks
    await checks.stop()


async def test_one_checks_cookies_never_reach_another_check(
    service: CheckService, target: tuple[web.Application, int]
) -> None:
    await _until(lambda: all(v.runs >= 2 for v in service.views.values()))
    seen = target[0][COOKIES]
    assert seen and set(seen) == {""}


async def test_metrics_carry_scheduler_counters_and_the_lateness_histogram(
    service: CheckService,
) -> None:
    await _until(lambda: all(v.runs >= 1 for v in service.views.values()))
    families = _families(service)
    lateness = families["healthwatch_check_schedule_lateness_seconds"]
    assert lateness.kind is MetricKind.HISTOGRAM
    (sample,) = lateness.samples
    started = _value(families["healthwatch_check_scheduler_runs"], event="started")
    assert sample.value == started >= 2 and sample.labels == {"node": "node-1"}
    assert dict(sample.buckets)[60.0] == started
    completed = _value(families["healthwatch_check_scheduler_runs"], event="completed")
    assert 2 <= completed <= started


async def test_reused_samples_follow_the_values_they_show(
    service: CheckService, target: tuple[web.Application, int]
) -> None:
    reader = service.views["default/reader"]
    await _until(lambda: reader.runs >= 1)
    first = _families(service)
    assert _value(first["healthwatch_check_consecutive_failures"], check="default/reader") == 0
    assert _value(first["kuberhealthy_check"], check="default/reader") == 1.0
    target[0][FAILING][0] = True
    await _until(lambda: reader.state.consecutive_failures >= 1)
    second = _families(service)
    streak = _value(second["healthwatch_check_consecutive_failures"], check="default/reader")
    assert streak == reader.state.consecutive_failures >= 1
    assert _value(second["kuberhealthy_check"], check="default/reader") == 0.0
    failed = _value(second["healthwatch_check_runs"], check="default/reader", outcome="failed")
    assert failed == reader.failures >= 1
    run_ids = {v.latest.run_id for v in service.views.values() if v.latest is not None}
    assert len(run_ids) == 2 and all(len(i) == 32 and int(i, 16) >= 0 for i in run_ids)
