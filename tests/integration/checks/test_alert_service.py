"""Alerts end to end: a real check, a real store, a webhook receiver, restarts in between."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web

from healthwatch.agent_checks import open_checks
from healthwatch.aio.clock import SystemClock
from healthwatch.checks.alerts.dispatcher import AlertDispatcher
from healthwatch.checks.alertspec import build_alerting
from healthwatch.checks.service import CheckService
from healthwatch.checks.spec import build_checks
from healthwatch.config.agent import load_config
from healthwatch.health.registry import HealthRegistry
from healthwatch.model.health import HealthStatus
from healthwatch.store.history import HistoryStore
from tests.integration.checks.alert_receiver import Receiver, receiver, until

__all__ = ["receiver"]

pytestmark = pytest.mark.slow
CHECK = "default/web"


@dataclass
class Target:
    url: str
    status: int = 500


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    state = Target(url="")

    async def health(_request: web.Request) -> web.Response:
        return web.Response(status=state.status, text="state")

    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.url = f"http://127.0.0.1:{runner.addresses[0][1]}/health"
    yield state
    await runner.cleanup()


class Agent:
    """A checks service on a history file, started and stopped like the agent does."""

    def __init__(self, path: Path, target: Target, receiver: Receiver, **check: object) -> None:
        self.path, self.target, self.receiver, self.check = path, target, receiver, check
        self.store: HistoryStore | None = None
        self.service: CheckService | None = None

    async def start(self) -> CheckService:
        clock = SystemClock()
        entry = {"name": "web", "kind": "http", "url": self.target.url, "interval": "1s",
                 "timeout": "500ms", "labels": {"team": "shop"}, **self.check}  # fmt: skip
        specs = build_checks([entry], source="agent.yaml")
        alerting = build_alerting(
            {"routes": [{"name": "hook", "kind": "webhook", "url": self.receiver.base + "/hook"}],
             "default_routes": ["hook"], "dashboard_url": "https://status.example/"},
            source="agent.yaml",
            environ={},
        )  # fmt: skip
        alerts = AlertDispatcher(alerting, clock=clock, backoff_initial=0.05, backoff_maximum=0.2)
        self.store = HistoryStore(self.path, clock=clock)
        await self.store.open()
        self.service = CheckService(specs, clock=clock, store=self.store, alerts=alerts)
        await self.service.start()
        return self.service

    async def stop(self) -> None:
        if self.service is not None:
            await self.service.stop()
            self.service = None
        if self.store is not None:
            await self.store.close()
            self.store = None


@pytest.fixture
async def agents(tmp_path: Path) -> AsyncIterator[list[Agent]]:
    made: list[Agent] = []
    yield made
    for agent in made:
        await agent.stop()


def _states(receiver: Receiver) -> list[tuple[str, int]]:
    out = []
    for body in receiver.answered("/hook"):
        assert isinstance(body, dict)
        out.append((body["state"], body["sequence"]))
    return out


async def _saved(path: Path) -> dict[str, object]:
    async with HistoryStore(path, clock=SystemClock()) as store:
        return (await store.load_states())[CHECK]


async def test_a_failing_check_fires_once_and_resolves_once(
    tmp_path: Path, target: Target, receiver: Receiver, agents: list[Agent]
) -> None:
    agent = Agent(tmp_path / "history.db", target, receiver, failure_threshold=2)
    agents.append(agent)
    service = await agent.start()
    view = service.views[CHECK]

    await until(lambda: bool(receiver.answered("/hook")))
    assert view.runs == 2 and view.alert_status == "firing"
    await until(lambda: view.runs == 3)
    target.status = 200
    await until(lambda: len(receiver.answered("/hook")) == 2)

    assert _states(receiver) == [("firing", 1), ("resolved", 2)]
    firing, resolved = receiver.answered("/hook")
    assert isinstance(firing, dict) and isinstance(resolved, dict)
    assert firing["errors"] == ["status < 400 (observed status=500)"]
    assert firing["labels"] == {"team": "shop"}
    assert firing["url"] == "https://status.example/checks/default/web"
    assert resolved["started_at"] == firing["started_at"] and resolved["ended_at"]
    (family,) = [
        f for f in service.metric_families() if f.name == "healthwatch_alert_notifications"
    ]
    assert {(s.labels["route"], s.labels["outcome"], s.value) for s in family.samples} == {
        ("hook", "delivered", 2)
    }
    assert service.health()[0] is HealthStatus.HEALTHY
    await agent.stop()
    saved = await _saved(tmp_path / "history.db")
    assert saved["pending"] == [] and saved["alerting"] is False
    assert isinstance(saved["notified"], dict) and saved["notified"]["sequence"] == 2


async def test_a_restart_mid_streak_resumes_thresholds_and_open_alerts_without_duplicates(
    tmp_path: Path, target: Target, receiver: Receiver, agents: list[Agent]
) -> None:
    path = tmp_path / "history.db"
    first = Agent(path, target, receiver, failure_threshold=3)
    agents.append(first)
    view = (await first.start()).views[CHECK]
    await until(lambda: view.runs == 2)
    await first.stop()
    assert receiver.requests == []  # two failures of three: nothing yet

    second = Agent(path, target, receiver, failure_threshold=3)
    agents.append(second)
    view = (await second.start()).views[CHECK]
    await until(lambda: bool(receiver.answered("/hook")))
    # The streak resumed from the store (a fresh one would need three more runs): the
    # first run after the restart was the third failure in a row, and it fired.
    assert view.state.consecutive_failures == 2 + view.runs
    assert _states(receiver) == [("firing", 1)]
    await until(lambda: view.runs == 2)
    await second.stop()

    third = Agent(path, target, receiver, failure_threshold=3)
    agents.append(third)
    view = (await third.start()).views[CHECK]
    assert view.state.alerting
    await until(lambda: view.runs == 2)
    assert _states(receiver) == [("firing", 1)]  # still failing, still one notification
    target.status = 200
    await until(lambda: len(receiver.answered("/hook")) == 2)
    assert _states(receiver) == [("firing", 1), ("resolved", 2)]
    assert len(receiver.requests) == 2


async def test_an_undelivered_notification_is_sent_on_the_next_start(
    tmp_path: Path, target: Target, receiver: Receiver, agents: list[Agent]
) -> None:
    path = tmp_path / "history.db"
    receiver.script["/hook"] = [502] * 1000
    first = Agent(path, target, receiver)
    agents.append(first)
    service = await first.start()
    await until(lambda: service.health()[0] is HealthStatus.DEGRADED)
    _, message = service.health()
    assert message.startswith("alert route hook failing: HTTP 502: answer 502;")
    await first.stop()
    saved = await _saved(path)
    assert isinstance(saved["pending"], list) and len(saved["pending"]) == 1

    receiver.script["/hook"].clear()
    attempts = len(receiver.requests)
    second = Agent(path, target, receiver)
    agents.append(second)
    service = await second.start()
    await until(lambda: bool(receiver.answered("/hook")))
    await until(lambda: service.views[CHECK].runs == 2)
    assert _states(receiver) == [("firing", 1)]
    assert len(receiver.requests) == attempts + 1
    await second.stop()
    saved = await _saved(path)
    assert saved["pending"] == [] and saved["alerting"] is True


async def test_maintenance_keeps_running_and_history_but_holds_the_alert(
    tmp_path: Path, target: Target, receiver: Receiver, agents: list[Agent]
) -> None:
    ends = time.time() + 2.2
    window = {
        "start": "2020-01-01T00:00:00Z",
        "end": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ends)),
    }
    agent = Agent(tmp_path / "history.db", target, receiver, maintenance=[window])
    agents.append(agent)
    service = await agent.start()
    view = service.views[CHECK]
    await until(lambda: view.runs >= 1)
    assert view.alert_status == "in maintenance" and view.maintenance is not None
    assert view.state.consecutive_failures >= 1 and not view.state.alerting

    await until(lambda: bool(receiver.answered("/hook")))
    firing = receiver.answered("/hook")[0]
    assert isinstance(firing, dict) and firing["state"] == "firing"
    assert view.runs >= 2 and view.alert_status == "firing"
    assert service.views[CHECK].maintenance is None
    assert agent.store is not None
    assert len(await agent.store.results(CHECK)) >= 2  # history kept through the window
    assert time.time() >= int(ends)


async def test_the_agent_wires_alerting_from_its_config_file(
    tmp_path: Path, target: Target, receiver: Receiver
) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(
        f"agent: {{state_dir: '{tmp_path / 'state'}'}}\n"
        "alerting:\n"
        f"  routes: [{{name: hook, kind: webhook, url: '{receiver.base}/hook'}}]\n"
        "  default_routes: [hook]\n"
        "checks:\n"
        f"  - {{name: web, kind: http, url: '{target.url}', interval: 1s, timeout: 500ms}}\n"
    )
    (tmp_path / "state").mkdir()
    registry = HealthRegistry(auto_register=False)
    service, store = await open_checks(
        load_config(str(path)), registry=registry, clock=SystemClock(), health_url="http://h"
    )
    assert service.alerts is not None and list(service.alerts.routes) == ["hook"]
    await service.start()
    try:
        await until(lambda: bool(receiver.answered("/hook")))
        assert _states(receiver) == [("firing", 1)]
    finally:
        await service.stop()
        if store is not None:
            await store.close()
        registry.close()
