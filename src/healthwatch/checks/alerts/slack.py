"""Slack-compatible incoming webhooks: ``{"text": …}`` plus a Block Kit section.

Slack, Mattermost, Rocket.Chat and most chat tools accept this shape at an
incoming-webhook URL. ``text`` is what notifications and clients without blocks
show; the block adds the errors and a link to the check. The URL of such a
webhook is itself the secret, so it is never logged (see
:meth:`healthwatch.checks.alertspec.AlertRoute.display`). A route's template,
when given, replaces this body entirely.
"""

from __future__ import annotations

import json
from typing import Final

from healthwatch.checks.alerts.notification import Notification

__all__ = ["slack_body", "slack_message"]

MAX_TEXT: Final = 2900
"""Slack cuts a section's text at 3000 characters; stay under it."""


def _escape(text: str) -> str:
    """Slack's three control characters, escaped as its docs ask."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(notification: Notification) -> dict[str, object]:
    """The message as a dict: ``text`` and one ``section`` block."""
    mark = ":red_circle:" if notification.firing else ":large_green_circle:"
    headline = f"{mark} {_escape(notification.summary())}"
    details = [f"*{_escape(notification.check_id)}* is *{notification.state.value}*"]
    details += [f"• {_escape(error)}" for error in notification.errors]
    if notification.url:
        details.append(f"<{_escape(notification.url)}|open the check>")
    section = "\n".join(details)
    if len(section) > MAX_TEXT:
        section = section[: MAX_TEXT - 1] + "…"
    return {
        "text": headline,
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"{headline}\n{section}"}}
        ],
    }


def slack_body(notification: Notification) -> bytes:
    """The request body as JSON bytes."""
    return json.dumps(slack_message(notification), ensure_ascii=False).encode()
