"""The aiohttp adapter on aiohttp's real test server (a loopback socket on port 0)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.test_utils import TestServer

from healthwatch.health.adapters.aiohttp import add_health_routes, health_app
from healthwatch.health.checks import CheckPolicy
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import HealthRoutes
from tests.integration.health.adapter_contract import assert_adapter_contract
from tests.integration.health.netkit import Address, fetch, timed_fetch


@contextlib.asynccontextmanager
async def aiohttp_serving(app: web.Application) -> AsyncIterator[Address]:
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        assert server.port is not None
        yield "127.0.0.1", server.port
    finally:
        await server.close()


async def home(request: web.Request) -> web.Response:
    del request
    return web.Response(text="the application")


def _app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", home)
    return app


async def test_routes_at_the_root(ready: HealthRegistry) -> None:
    app = web.Application()
    add_health_routes(app, HealthRoutes(ready))
    async with aiohttp_serving(app) as address:
        await asyncio.to_thread(assert_adapter_contract, address, "", ready)


async def test_routes_under_a_prefix(ready: HealthRegistry) -> None:
    app = _app()
    add_health_routes(app, HealthRoutes(ready), prefix="/_health/")
    async with aiohttp_serving(app) as address:
        assert (await asyncio.to_thread(fetch, address, "/")).text == "the application"
        await asyncio.to_thread(assert_adapter_contract, address, "/_health", ready)
        assert (await asyncio.to_thread(fetch, address, "/livez")).status == 404


async def test_health_app_as_a_sub_application(ready: HealthRegistry) -> None:
    app = _app()
    app.add_subapp("/_health", health_app(HealthRoutes(ready)))
    async with aiohttp_serving(app) as address:
        await asyncio.to_thread(assert_adapter_contract, address, "/_health", ready)
        encoded = await asyncio.to_thread(fetch, address, "/_h%65alth/readyz/db")
        assert encoded.status == 200  # the mount point spelt encoded is still the mount point


async def test_prefixed_routes_in_a_nested_sub_application(ready: HealthRegistry) -> None:
    ops = web.Application()
    add_health_routes(ops, HealthRoutes(ready), prefix="/hc")
    app = _app()
    app.add_subapp("/ops", ops)
    async with aiohttp_serving(app) as address:
        await asyncio.to_thread(assert_adapter_contract, address, "/ops/hc", ready)


async def test_a_slow_check_does_not_block_the_application_loop(ready: HealthRegistry) -> None:
    def slow_check() -> bool:
        time.sleep(0.6)
        return True

    ready.register("slow", slow_check, policy=CheckPolicy(timeout=2.0))
    app = _app()
    add_health_routes(app, HealthRoutes(ready), prefix="/_health")
    async with aiohttp_serving(app) as address:
        probe = asyncio.create_task(asyncio.to_thread(fetch, address, "/_health/readyz"))
        await asyncio.sleep(0.1)  # the probe is now waiting on the slow check
        reply, took = await asyncio.to_thread(timed_fetch, address, "/")
        assert (reply.text, took < 0.3) == ("the application", True)
        assert (await probe).status == 200
