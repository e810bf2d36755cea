"""A webhook receiver on loopback for alert tests: records requests, answers as scripted."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest
from aiohttp import web

HANG = -1
"""A scripted answer: never answer (until the client gives up)."""


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: object


@dataclass
class Receiver:
    base: str
    requests: list[Received] = field(default_factory=list)
    script: dict[str, list[int]] = field(default_factory=dict)
    """Statuses to answer per path, in order; when a path's list is empty: 200."""

    def bodies(self, path: str) -> list[object]:
        return [r.body for r in self.requests if r.path == path]

    def answered(self, path: str) -> list[object]:
        """Bodies of the requests to ``path`` that got a 2xx."""
        return [r.body for r in self.requests if r.path == path and r.headers.get("x-ok")]


async def until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    """Poll ``predicate`` until it holds; fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver(base="")

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        entry = Received(path=request.path, headers=headers, body=json.loads(raw or b"null"))
        state.requests.append(entry)
        planned = state.script.get(request.path) or []
        status = planned.pop(0) if planned else 200
        if status == HANG:
            await asyncio.sleep(30)
        if 200 <= status < 300:
            entry.headers["x-ok"] = "1"
        return web.Response(status=status, text=f"answer {status}")

    app = web.Application()
    app.router.add_post("/{tail:.*}", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.base = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield state
    await runner.cleanup()
