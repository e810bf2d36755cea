"""Generic webhooks: the notification as JSON, or the route's own template.

Without a template the body is a stable, versioned document
(:func:`webhook_document`) that scripts can rely on; with one, the template
(compiled at load by :mod:`healthwatch.checks.alerts.template`) decides the
shape and every value is JSON-escaped into it.
"""

from __future__ import annotations

import json

from healthwatch.checks.alerts.notification import Notification, rfc3339
from healthwatch.checks.alerts.template import Template

__all__ = ["WEBHOOK_VERSION", "render_template", "webhook_body", "webhook_document"]

WEBHOOK_VERSION = "1"


def webhook_document(notification: Notification) -> dict[str, object]:
    """The default body: every field of the notification, times in RFC 3339."""
    return {
        "version": WEBHOOK_VERSION,
        "check": notification.check_id,
        "namespace": notification.namespace,
        "name": notification.name,
        "state": notification.state.value,
        "sequence": notification.sequence,
        "summary": notification.summary(),
        "errors": list(notification.errors),
        "labels": dict(notification.labels),
        "started_at": rfc3339(notification.started_at),
        "ended_at": None if notification.ended_at is None else rfc3339(notification.ended_at),
        "url": notification.url,
    }


def render_template(template: Template, notification: Notification) -> bytes:
    """The template filled in with the notification's values."""
    return template.render(notification.values(), notification.labels).encode()


def webhook_body(notification: Notification, template: Template | None = None) -> bytes:
    """The request body: the template when given, else :func:`webhook_document` as JSON."""
    if template is not None:
        return render_template(template, notification)
    return json.dumps(webhook_document(notification), ensure_ascii=False).encode()
