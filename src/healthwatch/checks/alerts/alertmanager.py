"""The Alertmanager v2 API: ``POST /api/v2/alerts`` with one alert per notification.

Alertmanager keeps an alert firing until its ``endsAt`` passes, so a firing
alert carries an ``endsAt`` of four ``repeat`` periods ahead and the dispatcher
re-sends it every ``repeat`` while it fires (Alertmanager deduplicates by
labels: a re-send is not a new notification for anyone). If the agent stops
re-sending, the alert ends by itself a few periods later rather than firing
forever. A resolve is the same alert with ``endsAt`` set to the time it
recovered, which is in the past when Alertmanager receives it.

Label names must match ``[a-zA-Z_][a-zA-Z0-9_]*`` there, so other characters of
a check's label names become ``_``; our own labels (``alertname``, ``check``,
``namespace``) win over a check label of the same name.
"""

from __future__ import annotations

import json
import re
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from healthwatch.checks.alerts.notification import Notification, rfc3339

__all__ = ["ALERTNAME", "ALERTS_PATH", "alertmanager_body", "alerts_url"]

ALERTNAME: Final = "HealthwatchCheckFailing"
ALERTS_PATH: Final = "/api/v2/alerts"
_BAD_LABEL_CHARS: Final = re.compile(r"[^a-zA-Z0-9_]")


def alerts_url(base: str) -> str:
    """The alerts endpoint under ``base`` (``http://am:9093`` → ``http://am:9093/api/v2/alerts``).

    A URL that already ends with the endpoint is used as it is.
    """
    parts = urlsplit(base)
    path = parts.path.rstrip("/")
    if not path.endswith(ALERTS_PATH):
        path += ALERTS_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _label_name(name: str) -> str:
    cleaned = _BAD_LABEL_CHARS.sub("_", name)
    return f"_{cleaned}" if cleaned[:1].isdigit() else cleaned


def alertmanager_alert(
    notification: Notification, *, now: float, repeat: float
) -> dict[str, object]:
    """One postable alert (the v2 API's ``postableAlert``)."""
    labels = {_label_name(k): v for k, v in notification.labels.items() if k and v}
    labels |= {
        "alertname": ALERTNAME,
        "check": notification.check_id,
        "namespace": notification.namespace,
    }
    if notification.firing:
        ends_at = now + 4 * repeat
    else:
        ends_at = notification.ended_at if notification.ended_at is not None else now
    alert: dict[str, object] = {
        "labels": labels,
        "annotations": {
            "summary": notification.summary(),
            "description": notification.description(),
        },
        "startsAt": rfc3339(notification.started_at),
        "endsAt": rfc3339(ends_at),
    }
    if notification.url:
        alert["generatorURL"] = notification.url
    return alert


def alertmanager_body(notification: Notification, *, now: float, repeat: float) -> bytes:
    """The request body: a JSON list holding the one alert."""
    alert = alertmanager_alert(notification, now=now, repeat=repeat)
    return json.dumps([alert], ensure_ascii=False, separators=(",", ":")).encode()
