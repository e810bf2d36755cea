"""What each kind of route receives: Alertmanager v2 alerts, Slack messages, webhook JSON."""

from __future__ import annotations

import json
from datetime import datetime

from healthwatch.checks.alerts.alertmanager import ALERTNAME, alertmanager_body, alerts_url
from healthwatch.checks.alerts.delivery import render
from healthwatch.checks.alerts.notification import AlertState, Notification, rfc3339
from healthwatch.checks.alerts.slack import slack_message
from healthwatch.checks.alerts.webhook import WEBHOOK_VERSION, webhook_document
from healthwatch.checks.alertspec import build_alerting

START = 1_800_000_000.0


def _notification(*, firing: bool = True, **extra: object) -> Notification:
    values: dict[str, object] = {
        "check_id": "shop/web",
        "namespace": "shop",
        "name": "web",
        "state": AlertState.FIRING if firing else AlertState.RESOLVED,
        "sequence": 1 if firing else 2,
        "errors": ("status < 400 (observed status=503)", "latency < 1s (observed 2.1s)")
        if firing
        else (),
        "labels": {"team": "payments", "app.kubernetes.io/name": "web", "9lives": "x", "e": ""},
        "started_at": START,
        "ended_at": None if firing else START + 90,
        "url": "http://127.0.0.1:9800/checks/shop/web",
        **extra,
    }
    return Notification(**values)  # type: ignore[arg-type]


def test_rfc3339_is_utc_with_milliseconds() -> None:
    assert rfc3339(START + 0.25) == "2027-01-15T08:00:00.250Z"
    assert datetime.fromisoformat(rfc3339(START)).timestamp() == START


def test_the_alerts_endpoint_is_added_once() -> None:
    assert alerts_url("http://am:9093") == "http://am:9093/api/v2/alerts"
    assert alerts_url("http://am:9093/") == "http://am:9093/api/v2/alerts"
    assert alerts_url("https://h/prefix/api/v2/alerts") == "https://h/prefix/api/v2/alerts"
    assert alerts_url("http://h/am?x=1") == "http://h/am/api/v2/alerts?x=1"


def test_a_firing_alert_for_alertmanager() -> None:
    (alert,) = json.loads(alertmanager_body(_notification(), now=START + 5, repeat=60))
    assert alert["labels"] == {
        "alertname": ALERTNAME,
        "check": "shop/web",
        "namespace": "shop",
        "team": "payments",
        "app_kubernetes_io_name": "web",
        "_9lives": "x",
    }
    assert alert["annotations"] == {
        "summary": "check shop/web is failing",
        "description": "status < 400 (observed status=503)\nlatency < 1s (observed 2.1s)",
    }
    assert alert["startsAt"] == rfc3339(START)
    assert alert["endsAt"] == rfc3339(START + 5 + 240)  # four re-send periods ahead
    assert alert["generatorURL"].endswith("/checks/shop/web")


def test_a_resolve_for_alertmanager_ends_when_the_check_recovered() -> None:
    (alert,) = json.loads(alertmanager_body(_notification(firing=False), now=START + 95, repeat=60))
    assert alert["startsAt"] == rfc3339(START) and alert["endsAt"] == rfc3339(START + 90)
    assert alert["annotations"]["summary"] == "check shop/web recovered"


def test_our_labels_win_and_the_url_is_left_out_when_unknown() -> None:
    notification = _notification(labels={"check": "spoofed", "alertname": "Other"}, url=None)
    (alert,) = json.loads(alertmanager_body(notification, now=START, repeat=60))
    assert alert["labels"]["check"] == "shop/web" and alert["labels"]["alertname"] == ALERTNAME
    assert "generatorURL" not in alert


def test_a_slack_message_has_text_and_a_block_with_escaped_errors() -> None:
    message = slack_message(_notification(errors=("body matches <b> & more",)))
    assert message["text"] == ":red_circle: check shop/web is failing"
    blocks = message["blocks"]
    assert isinstance(blocks, list) and len(blocks) == 1
    text = blocks[0]["text"]["text"]
    assert "&lt;b&gt; &amp; more" in text and "*shop/web* is *firing*" in text
    assert "<http://127.0.0.1:9800/checks/shop/web|open the check>" in text
    resolved = slack_message(_notification(firing=False))
    assert resolved["text"] == ":large_green_circle: check shop/web recovered"


def test_the_default_webhook_document() -> None:
    document = webhook_document(_notification(firing=False))
    assert document == {
        "version": WEBHOOK_VERSION,
        "check": "shop/web",
        "namespace": "shop",
        "name": "web",
        "state": "resolved",
        "sequence": 2,
        "summary": "check shop/web recovered",
        "errors": [],
        "labels": {"team": "payments", "app.kubernetes.io/name": "web", "9lives": "x", "e": ""},
        "started_at": rfc3339(START),
        "ended_at": rfc3339(START + 90),
        "url": "http://127.0.0.1:9800/checks/shop/web",
    }


def test_each_route_kind_renders_its_own_request() -> None:
    alerting = build_alerting(
        {
            "routes": [
                {"name": "am", "kind": "alertmanager", "url": "http://am:9093", "repeat": "30s"},
                {"name": "chat", "kind": "slack", "url": "https://hooks.example/T/B/X"},
                {"name": "hook", "kind": "webhook", "url": "http://h/alerts"},
                {
                    "name": "custom",
                    "kind": "slack",
                    "url": "http://h/custom",
                    "template": '{"text": "{{summary}} ({{labels.team}})"}',
                },
            ]
        },
        source="agent.yaml",
        environ={},
    )
    notification = _notification()
    url, body = render(alerting.routes["am"], notification, now=START)
    assert url == "http://am:9093/api/v2/alerts"
    assert json.loads(body)[0]["endsAt"] == rfc3339(START + 120)
    url, body = render(alerting.routes["chat"], notification, now=START)
    assert url == "https://hooks.example/T/B/X" and "blocks" in json.loads(body)
    url, body = render(alerting.routes["hook"], notification, now=START)
    assert json.loads(body)["state"] == "firing"
    _, body = render(alerting.routes["custom"], notification, now=START)
    assert json.loads(body) == {"text": "check shop/web is failing (payments)"}
