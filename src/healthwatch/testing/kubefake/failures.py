"""Errors the fake API server answers with, in the API server's own ``Status`` shape.

Every failure leaves the fake as a ``Status`` object (``kind: Status``,
``status: Failure``, ``reason``, ``message``, ``details``, ``code``) with the
content type ``application/json`` exactly, which is what clients check before
decoding it.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

__all__ = ["REASONS", "FakeApiError", "status_body", "status_response"]

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class FakeApiError(Exception):
    """A request the fake refuses: HTTP code, Status reason and message."""

    def __init__(
        self,
        code: int,
        message: str,
        *,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason or REASONS.get(code, "Unknown")
        self.message = message
        self.details = details


def status_body(
    code: int, message: str, *, reason: str | None = None, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A ``Status`` object as the API server writes it."""
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or REASONS.get(code, "Unknown"),
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def status_response(
    failure: FakeApiError, *, headers: dict[str, str] | None = None
) -> web.Response:
    """The HTTP answer for ``failure``."""
    body = status_body(
        failure.code, failure.message, reason=failure.reason, details=failure.details
    )
    return web.Response(
        status=failure.code,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
