"""One delivery attempt: render a notification for its route, POST it, judge the answer.

The dispatcher decides when to try and how often; this module makes one bounded
attempt and says what happened: ``delivered`` (2xx), ``failed`` (worth trying
again: a timeout, a refused connection, 5xx, 408, 425 or 429) or ``rejected``
(any other answer, such as 400 for a body the receiver will never accept, so
retrying would only repeat it). Redirects are not followed: a webhook that
moved is a configuration problem. The detail text never holds a URL path, query,
credential or header value, only the route's safe display form, the status and
the first bytes of the receiver's answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import aiohttp

from healthwatch._version import __version__
from healthwatch.checks.alerts.alertmanager import alertmanager_body, alerts_url
from healthwatch.checks.alerts.notification import Notification
from healthwatch.checks.alerts.slack import slack_body
from healthwatch.checks.alerts.webhook import render_template, webhook_body
from healthwatch.checks.alertspec import AlertRoute

__all__ = ["Attempt", "Outcome", "deliver", "render"]

MAX_ANSWER: Final = 300
"""Bytes of a receiver's answer kept for the error message."""
_RETRY_STATUSES: Final = frozenset({408, 425, 429})


class Outcome(StrEnum):
    """What one attempt achieved."""

    DELIVERED = "delivered"
    FAILED = "failed"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt:
    """The outcome of one attempt and a short, secret-free reason."""

    outcome: Outcome
    detail: str = ""


def render(route: AlertRoute, notification: Notification, *, now: float) -> tuple[str, bytes]:
    """The URL to POST to and the body, for ``route``'s kind."""
    if route.kind == "alertmanager":
        body = alertmanager_body(notification, now=now, repeat=route.repeat)
        return alerts_url(route.url), body
    if route.template is not None:
        return route.url, render_template(route.template, notification)
    if route.kind == "slack":
        return route.url, slack_body(notification)
    return route.url, webhook_body(notification)


def _answer(status: int, head: bytes) -> str:
    text = " ".join(head.decode("utf-8", "replace").split())
    return f"HTTP {status}: {text}" if text else f"HTTP {status}"


async def deliver(
    session: aiohttp.ClientSession, route: AlertRoute, notification: Notification, *, now: float
) -> Attempt:
    """POST ``notification`` to ``route`` once, within ``route.timeout``; never raises.

    Cancellation still propagates.
    """
    url, body = render(route, notification, now=now)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"healthwatch/{__version__}",
        **route.headers,
    }
    try:
        async with asyncio.timeout(route.timeout):
            async with session.post(
                url,
                data=body,
                headers=headers,
                allow_redirects=False,
                timeout=aiohttp.ClientTimeout(total=route.timeout),
            ) as response:
                status = response.status
                head = await response.content.read(MAX_ANSWER)
    except TimeoutError:
        return Attempt(outcome=Outcome.FAILED, detail=f"timed out after {route.timeout:g}s")
    except aiohttp.ClientConnectorError as error:
        reason = error.os_error.strerror or type(error.os_error).__name__
        return Attempt(outcome=Outcome.FAILED, detail=f"cannot connect: {reason}")
    except aiohttp.ClientError as error:
        return Attempt(outcome=Outcome.FAILED, detail=f"request failed: {type(error).__name__}")
    except OSError as error:
        return Attempt(outcome=Outcome.FAILED, detail=f"request failed: {error.strerror or error}")
    if 200 <= status < 300:
        return Attempt(outcome=Outcome.DELIVERED, detail=f"HTTP {status}")
    if status >= 500 or status in _RETRY_STATUSES:
        return Attempt(outcome=Outcome.FAILED, detail=_answer(status, head))
    return Attempt(outcome=Outcome.REJECTED, detail=_answer(status, head))
