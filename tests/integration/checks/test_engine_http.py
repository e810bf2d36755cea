"""The check engine against real aiohttp servers on loopback: pass, fail, timeout, retries."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from healthwatch.aio import ManualClock, SystemClock
from healthwatch.checks.engine import run_check
from healthwatch.checks.spec import CheckSpec, build_checks

FLAKY = web.AppKey("flaky", list[int])


async def _ok(_request: web.Request) -> web.Response:
    return web.Response(text="fine")


async def _down(_request: web.Request) -> web.Response:
    return web.Response(status=503, text="down")


async def _slow(_request: web.Request) -> web.Response:
    await asyncio.sleep(5)
    return web.Response(text="late")


async def _flaky(request: web.Request) -> web.Response:
    calls = request.app[FLAKY]
    calls.append(1)
    return web.Response(status=500 if len(calls) <= 2 else 200)


@pytest.fixture
async def server() -> AsyncIterator[tuple[str, list[int]]]:
    app = web.Application()
    app[FLAKY] = []
    app.router.add_get("/ok", _ok)
    app.router.add_get("/down", _down)
    app.router.add_get("/slow", _slow)
    app.router.add_get("/flaky", _flaky)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}", app[FLAKY]
    await runner.cleanup()


def _spec(url: str, **extra: object) -> CheckSpec:
    entry: dict[str, object] = {"name": "web", "kind": "http", "url": url, **extra}
    (spec,) = build_checks([entry], source="test.yaml")
    return spec


async def test_a_200_passes(server: tuple[str, list[int]]) -> None:
    base, _ = server
    spec = _spec(f"{base}/ok", conditions=["status == 200", "latency < 5s", 'body == "fine"'])
    clock = ManualClock()

    result = await run_check(spec, clock=clock, run_id="run-1")

    assert result.ok and result.errors == () and result.attempts == 1
    assert result.check_id == "default/web" and result.run_id == "run-1"
    assert result.started_at == clock.time() and result.duration == 0.0
    assert [o.ok for o in result.observations] == [True, True, True]
    assert result.observations[0].observed == "status=200"


async def test_a_503_fails_with_the_observed_status(server: tuple[str, list[int]]) -> None:
    base, _ = server
    result = await run_check(_spec(f"{base}/down"), clock=SystemClock())

    assert not result.ok and result.attempts == 1
    assert result.errors == ("status < 400 (observed status=503)",)
    assert len(result.run_id) == 32 and result.duration > 0


async def test_a_slow_server_times_out(server: tuple[str, list[int]]) -> None:
    base, _ = server
    spec = _spec(f"{base}/slow", timeout="300ms", interval="1s")

    result = await run_check(spec, clock=SystemClock())

    assert not result.ok
    assert "timed out after 0.3s" in result.errors[0]
    assert result.duration < 2


async def test_retries_stop_at_the_first_pass(server: tuple[str, list[int]]) -> None:
    base, calls = server
    spec = _spec(f"{base}/flaky", retries=2)
    async with aiohttp.ClientSession() as session:
        result = await run_check(spec, clock=SystemClock(), session=session)

    assert result.ok and result.attempts == 3 and len(calls) == 3
    assert result.errors == () and result.observations[0].observed == "status=200"


async def test_retries_exhausted_report_the_last_attempt(server: tuple[str, list[int]]) -> None:
    base, calls = server
    result = await run_check(_spec(f"{base}/flaky", retries=1), clock=SystemClock())

    assert not result.ok and result.attempts == 2 and len(calls) == 2
    assert result.errors == ("status < 400 (observed status=500)",)
