"""Delivery to real receivers on loopback: retries with backoff, timeouts, rejections, isolation."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import pytest

from healthwatch.aio.clock import SystemClock
from healthwatch.checks.alerts.delivery import Outcome
from healthwatch.checks.alerts.dispatcher import AlertDispatcher
from healthwatch.checks.alerts.notification import AlertState, Notification
from healthwatch.checks.alertspec import build_alerting
from tests.integration.checks.alert_receiver import HANG, Receiver, receiver, until

__all__ = ["receiver"]

Settled = list[tuple[str, int, str, Outcome]]


def _notification(sequence: int = 1, check: str = "default/web") -> Notification:
    firing = sequence % 2 == 1
    return Notification(
        check_id=check,
        namespace="default",
        name=check.split("/")[1],
        state=AlertState.FIRING if firing else AlertState.RESOLVED,
        sequence=sequence,
        errors=("status < 400 (observed status=500)",) if firing else (),
        started_at=1_800_000_000.0,
        ended_at=None if firing else 1_800_000_060.0,
    )


@pytest.fixture
async def dispatch(
    receiver: Receiver,
) -> AsyncIterator[Callable[..., AlertDispatcher]]:
    started: list[AlertDispatcher] = []

    def make(routes: list[dict[str, object]], **options: object) -> AlertDispatcher:
        for route in routes:
            route["url"] = receiver.base + str(route["url"])
        alerting = build_alerting({"routes": routes}, source="test.yaml", environ={})
        options = {"backoff_initial": 0.05, "backoff_maximum": 0.2, **options}
        dispatcher = AlertDispatcher(alerting, clock=SystemClock(), **options)  # type: ignore[arg-type]
        started.append(dispatcher)
        return dispatcher

    yield make
    for dispatcher in started:
        await dispatcher.stop()


def _recorder(settled: Settled) -> Callable[[Notification, str, Outcome], object]:
    async def record(notification: Notification, route: str, outcome: Outcome) -> None:
        settled.append((notification.check_id, notification.sequence, route, outcome))

    return record


async def test_a_receiver_failing_twice_gets_the_notification_once_after_retries(
    receiver: Receiver, dispatch: Callable[..., AlertDispatcher]
) -> None:
    receiver.script["/hook"] = [500, 503]
    dispatcher = dispatch([{"name": "hook", "kind": "webhook", "url": "/hook"}])
    settled: Settled = []
    await dispatcher.start(_recorder(settled))  # type: ignore[arg-type]

    assert dispatcher.submit(_notification(), ["hook"]) == []
    await until(lambda: bool(settled))

    assert settled == [("default/web", 1, "hook", Outcome.DELIVERED)]
    assert len(receiver.bodies("/hook")) == 3 and len(receiver.answered("/hook")) == 1
    body = receiver.answered("/hook")[0]
    assert isinstance(body, dict) and body["state"] == "firing" and body["sequence"] == 1
    assert dispatcher.counts() == {("hook", "failed"): 2, ("hook", "delivered"): 1}
    assert dispatcher.failing() == {}


async def test_a_hanging_receiver_times_out_and_is_retried(
    receiver: Receiver, dispatch: Callable[..., AlertDispatcher]
) -> None:
    receiver.script["/slow"] = [HANG]
    dispatcher = dispatch([{"name": "slow", "kind": "slack", "url": "/slow", "timeout": "300ms"}])
    settled: Settled = []
    await dispatcher.start(_recorder(settled))  # type: ignore[arg-type]

    dispatcher.submit(_notification(), ["slow"])
    await until(lambda: bool(settled))

    assert settled == [("default/web", 1, "slow", Outcome.DELIVERED)]
    assert dispatcher.counts() == {("slow", "failed"): 1, ("slow", "delivered"): 1}
    first, second = receiver.bodies("/slow")
    assert first == second and isinstance(second, dict) and "text" in second


async def test_a_failing_route_does_not_block_another_and_is_reported(
    receiver: Receiver, dispatch: Callable[..., AlertDispatcher], caplog: pytest.LogCaptureFixture
) -> None:
    receiver.script["/down/T000/SECRET"] = [500] * 1000
    dispatcher = dispatch(
        [
            {
                "name": "down",
                "kind": "slack",
                "url": "/down/T000/SECRET",
                "headers": {"X-Token": "tok-123"},
            },
            {"name": "up", "kind": "webhook", "url": "/up"},
        ]
    )
    settled: Settled = []
    await dispatcher.start(_recorder(settled))  # type: ignore[arg-type]
    caplog.set_level(logging.DEBUG, logger="healthwatch")

    dispatcher.submit(_notification(1), ["down", "up"])
    dispatcher.submit(_notification(2), ["down", "up"])
    await until(lambda: len(settled) == 2)
    await until(lambda: "down" in dispatcher.failing())

    assert settled == [
        ("default/web", 1, "up", Outcome.DELIVERED),
        ("default/web", 2, "up", Outcome.DELIVERED),
    ]
    assert dispatcher.failing() == {"down": "HTTP 500: answer 500"}
    down = receiver.bodies("/down/T000/SECRET")
    assert all(b == down[0] for b in down)  # the firing is retried; the resolve waits behind it
    assert receiver.requests[0].headers["x-token"] == "tok-123"
    assert "SECRET" not in caplog.text and "tok-123" not in caplog.text
    assert "down (slack http://127.0.0.1:" in caplog.text


async def test_a_rejected_notification_is_not_retried(
    receiver: Receiver, dispatch: Callable[..., AlertDispatcher]
) -> None:
    receiver.script["/strict"] = [400]
    dispatcher = dispatch([{"name": "strict", "kind": "webhook", "url": "/strict"}])
    settled: Settled = []
    await dispatcher.start(_recorder(settled))  # type: ignore[arg-type]

    dispatcher.submit(_notification(), ["strict"])
    await until(lambda: bool(settled))

    assert settled == [("default/web", 1, "strict", Outcome.REJECTED)]
    assert len(receiver.bodies("/strict")) == 1
    assert dispatcher.failing() == {"strict": "HTTP 400: answer 400"}
    dispatcher.submit(_notification(2), ["strict"])
    await until(lambda: len(settled) == 2)
    assert dispatcher.failing() == {}  # delivered again: healthy


async def test_a_full_lane_refuses_and_counts_and_unknown_routes_are_refused(
    receiver: Receiver, dispatch: Callable[..., AlertDispatcher]
) -> None:
    receiver.script["/hook"] = [HANG]
    dispatcher = dispatch([{"name": "hook", "kind": "webhook", "url": "/hook"}], max_queue=1)
    await dispatcher.start()

    assert dispatcher.submit(_notification(1), ["hook"]) == []
    assert dispatcher.submit(_notification(2), ["hook", "nope"]) == ["hook", "nope"]
    assert dispatcher.counts()[("hook", "dropped")] == 1


async def test_open_alerts_are_re_sent_to_alertmanager_until_resolved(
    receiver: Receiver, dispatch: Callable[..., AlertDispatcher]
) -> None:
    dispatcher = dispatch(
        [
            {"name": "am", "kind": "alertmanager", "url": "/am", "repeat": "1s"},
            {"name": "hook", "kind": "webhook", "url": "/hook"},
        ]
    )
    settled: Settled = []
    await dispatcher.start(_recorder(settled))  # type: ignore[arg-type]

    dispatcher.submit(_notification(1), ["am", "hook"])
    await until(lambda: dispatcher.counts().get(("am", "refreshed"), 0) >= 1, within=5)
    sent = receiver.bodies("/am/api/v2/alerts")
    assert len(sent) >= 2 and all(isinstance(b, list) and len(b) == 1 for b in sent)
    assert len(receiver.bodies("/hook")) == 1  # only Alertmanager routes get re-sends
    assert len(settled) == 2  # a re-send is not a notification

    dispatcher.submit(_notification(2), ["am", "hook"])
    await until(lambda: len(settled) == 4)
    count = len(receiver.bodies("/am/api/v2/alerts"))
    last = receiver.bodies("/am/api/v2/alerts")[-1]
    assert isinstance(last, list) and last[0]["endsAt"].startswith("2027-01-15T08:01:00")
    await asyncio.sleep(1.3)
    assert len(receiver.bodies("/am/api/v2/alerts")) == count  # resolved: no more re-sends
