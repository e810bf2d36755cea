"""The dashboard's pages with real parts: a checks service running commands, a history file,
a log monitor following a file through the detector into the recent-problems exporter.

The web application runs in-process on a loopback port; every answer is read as a
browser would get it. Hostile text (a check named ``<script>``, log lines and
command output holding markup) must arrive as text.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from healthwatch.aio.clock import SystemClock
from healthwatch.checks.service import CheckService
from healthwatch.checks.spec import build_checks
from healthwatch.detector import Detector
from healthwatch.exporters.recent import RecentProblems
from healthwatch.health.groups import READINESS, STARTUP
from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import DetailAccess
from healthwatch.health.serializers import ServiceInfo
from healthwatch.model.health import HealthStatus
from healthwatch.problems.logmonitor.config import build_log_monitors
from healthwatch.problems.logmonitor.monitor import LogMonitor
from healthwatch.store.history import HistoryStore
from healthwatch.web.app import web_app

pytestmark = pytest.mark.slow

HOSTILE = "<script>alert(1)</script>"
HOSTILE_ID = f"default/{HOSTILE}"
Client = TestClient[web.Request, web.Application]


@dataclass
class Node:
    """One in-process agent's parts and a client of its web application."""

    registry: HealthRegistry
    service: CheckService
    store: HistoryStore
    recent: RecentProblems
    log: Path
    serve: Callable[[DetailAccess], Client]
    client: Client


async def until(predicate: Callable[[], bool], within: float = 8.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("not reached in time")
        await asyncio.sleep(0.05)


def checks() -> list[object]:
    shout = f"echo '{HOSTILE}'; exit 3"
    return [
        {"name": "fails", "kind": "exec", "argv": ["/bin/sh", "-c", shout], "interval": "1s",
         "timeout": "1s", "conditions": ['stdout == "fine"']},
        {"name": "passes", "kind": "exec", "argv": ["/bin/true"], "interval": "1s",
         "timeout": "1s"},
        {"name": "later", "namespace": "other", "kind": "exec", "argv": ["/bin/true"],
         "interval": "1h", "timeout": "1s"},
    ]  # fmt: skip


MONITOR = {
    "name": "app-log",
    "source": "file",
    "conditions": [{"type": "DiskBroken", "reason": "DiskIsFine", "message": "disk is fine"}],
    "rules": [
        {"type": "temporary", "reason": "Boom", "pattern": r"BOOM \d+.*"},
        {"type": "permanent", "condition": "DiskBroken", "reason": "DiskFailed",
         "pattern": "disk failed.*"},
    ],
}  # fmt: skip


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Node]:
    clock = SystemClock()
    registry = HealthRegistry(clock=clock)
    registry.register("agent", groups=(READINESS, STARTUP))
    registry.update(
        "agent", HealthStatus.HEALTHY, "running", {"kernel_log": "off: <b>no kmsg</b> here"}
    )
    store = HistoryStore(tmp_path / "history.db", clock=clock, prune_interval=None)
    await store.open()
    specs = build_checks(checks(), source="test.yaml")
    specs[0] = dataclasses.replace(specs[0], name=HOSTILE, id=HOSTILE_ID)  # past validation
    service = CheckService(specs, clock=clock, store=store)
    await service.start()
    log = tmp_path / "app.log"
    log.write_text("")
    (config,) = build_log_monitors([{**MONITOR, "path": str(log)}], source="test.yaml")
    recent = RecentProblems()
    monitor = LogMonitor(config, clock=clock, state_dir=tmp_path / "problems")
    detector = Detector([monitor], [recent], registry=registry)
    await detector.start()
    clients: list[Client] = []

    def serve(access: DetailAccess) -> Client:
        app: web.Application = web_app(
            registry,
            access=access,
            info=ServiceInfo(instance="node-1", version="1"),
            checks=lambda: service,
            history=lambda: store,
            problems=recent,
        )
        client = TestClient(TestServer(app, host="127.0.0.1"))
        clients.append(client)
        return client

    client = serve(DetailAccess())
    await client.start_server()
    try:
        yield Node(registry, service, store, recent, log, serve, client)
    finally:
        for each in clients:
            await each.close()
        await detector.stop()
        await service.stop()
        await store.close()
        registry.close()


async def get(client: Client, path: str, status: int = 200, **headers: str) -> str:
    async with client.get(path, headers=headers) as answer:
        assert answer.status == status, (path, answer.status)
        return await answer.text()


async def ran(node: Node) -> None:
    await until(lambda: all(node.service.views[c].latest for c in (HOSTILE_ID, "default/passes")))


async def problems_written(node: Node) -> None:
    with node.log.open("a") as handle:
        handle.write(f"BOOM 7 {HOSTILE}\ndisk failed at noon\n")
    await until(lambda: bool((p := node.recent.problem("app-log", "DiskFailed")) and p.count))


def inert(page: str) -> None:
    """The page holds no markup from the data: only our own script element."""
    assert HOSTILE not in page
    assert "<b>no kmsg" not in page
    assert len(re.findall(r"<script\b", page)) == 1


async def test_the_overview_shows_checks_conditions_components_and_events(node: Node) -> None:
    await ran(node)
    await problems_written(node)
    async with node.client.get("/") as answer:
        assert answer.status == 200
        assert answer.content_type == "text/html"
        csp = answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["Cache-Control"] == "no-store"
        page = await answer.text()
    inert(page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'href="/checks/default/%3Cscript%3Ealert%281%29%3C%2Fscript%3E"' in page
    assert "stdout == &#34;fine&#34; (saw" in page  # the failed condition and what was seen
    assert 'href="/checks/default/passes"' in page
    assert "not run yet" in page  # other/later runs hourly: pending
    assert page.index('href="/checks/default/%3Cscript') < page.index('"/checks/default/passes"')
    assert '<a href="/problems/app-log/DiskFailed">DiskFailed</a>' in page
    assert "st-raised" in page
    assert '<a href="/components/daemon:app-log">daemon:app-log</a>' in page
    assert 'href="/problems/app-log/Boom"' in page  # problems seen and the timeline
    assert "Why is this on" in page and "&lt;b&gt;no kmsg&lt;/b&gt; here" in page
    assert "<svg class=ub" in page and "<svg class=sl" in page  # read from the store
    assert "http" not in re.sub(r'href="/[^"]*"|https?://127\.0\.0\.1[^"<]*', "", page).replace(
        "http://www.w3.org", ""
    )  # no outside host is named


async def test_the_check_page_shows_runs_observed_values_latency_and_alerts(node: Node) -> None:
    await ran(node)
    await until(lambda: node.service.views[HOSTILE_ID].runs >= 2)
    await asyncio.sleep(0.2)  # let the store write the batch
    path = "/checks/default/%3Cscript%3Ealert%281%29%3C%2Fscript%3E"
    page = await get(node.client, path)
    inert(page)
    assert f"<h1>default/{HOSTILE.replace('<', '&lt;').replace('>', '&gt;')}" in page
    assert '<code>stdout == &#34;fine&#34;</code> observed <code class="obs">' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '<svg class="pc"' in page and 'class="p99"' in page
    assert '<svg class="ubd"' in page
    assert "Alert history over the latest" in page and "firing" in page
    for period in ("7d", "90d"):
        assert 'aria-current="page">' + period in await get(node.client, f"{path}?period={period}")
    assert "period is one of" in await get(node.client, f"{path}?period=1y", 400)
    missing = await get(node.client, "/checks/default/nope", 404)
    assert "no such check" in missing


async def test_the_problem_page_is_the_evidence(node: Node) -> None:
    await problems_written(node)
    page = await get(node.client, "/problems/app-log/Boom")
    inert(page)
    assert "BOOM 7 &lt;script&gt;alert(1)&lt;/script&gt;" in page  # the matched line, as text
    assert r"<code>BOOM \d+.*</code>" in page  # the rule
    assert "1 time since the agent started" in page
    assert "temporary" in page and 'href="/components/daemon:app-log"' in page
    disk = await get(node.client, "/problems/app-log/DiskFailed")
    assert "sets the node condition <strong>DiskBroken</strong>" in disk
    assert "disk failed at noon" in disk and "Earlier states" in disk
    assert "DiskIsFine" in disk  # the state before
    for path in ("/problems/app-log/Nope", "/problems/nobody/Boom", "/problems/a/" + "x" * 600):
        assert "No daemon" in await get(node.client, path, 404)


async def test_the_component_page_shows_history_groups_windows_and_standby(node: Node) -> None:
    registry = node.registry
    registry.register("db/primary", groups=(READINESS,))
    registry.update("db/primary", HealthStatus.HEALTHY, "fine")
    registry.update("db/primary", HealthStatus.UNHEALTHY, f"refused {HOSTILE}")
    registry.suppress(READINESS, 600, "planned <failover>")
    registry.set_standby(True)
    page = await get(node.client, "/components/db/primary")
    inert(page)
    assert "<h1>db/primary" in page and "st-unhealthy" in page
    assert "refused &lt;script&gt;" in page
    assert "healthy</span></td><td><span class=st-unhealthy>unhealthy" in page
    assert "planned &lt;failover&gt;" in page and "readiness" in page and "required" in page
    assert "standby: readiness passes" in page
    agent = await get(node.client, "/components/agent")
    assert "Why is this on" in agent and "kernel_log" in agent
    for path in ("/components/nope", "/components/" + "a" * 600):
        assert "no such component" in await get(node.client, path, 404)


async def test_the_live_state_follows_changes_and_is_revalidated(node: Node) -> None:
    await ran(node)
    async with node.client.get("/api/v1/dashboard") as answer:
        assert answer.status == 200
        etag = answer.headers["ETag"]
        state = await answer.json()
    assert state["checks"][HOSTILE_ID]["state"] == "failing"
    assert state["checks"]["other/later"]["state"] == "pending"
    assert state["components"]["agent"]["status"] == "healthy"
    async with node.client.get("/api/v1/dashboard", headers={"If-None-Match": etag}) as again:
        assert again.status in (200, 304)  # 200 only if a check ran in between
    node.registry.update("agent", HealthStatus.DEGRADED, "slow")
    await problems_written(node)
    async with node.client.get("/api/v1/dashboard", headers={"If-None-Match": etag}) as changed:
        assert changed.status == 200
        state = await changed.json()
    assert state["components"]["agent"] == {"status": "degraded", "message": "slow"}
    (raised,) = [c for c in state["conditions"] if c["state"] == "raised"]
    assert raised["href"] == "/problems/app-log/DiskFailed"
    kinds = {(t["kind"], t["title"]) for t in state["timeline"]}
    assert ("problem", "Boom") in kinds and ("component", "agent: healthy → degraded") in kinds
