"""Scripted misbehaviour and a record of what was asked: the fake API server's test controls.

A :class:`Fault` matches requests by method, path pattern and whether they
are watches, and does one of: answer with an error Status (429 with
``Retry-After``, 500, 409, 410...), optionally as a non-JSON body as a proxy
would; answer late (``delay``, long enough to trip a client's timeout); reset
the connection; or, for a watch, send the Status as an ERROR event in a 200
stream. Faults wait in a queue and each serves ``times`` matching requests.
Every request the fake receives is recorded as a :class:`RecordedRequest`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from healthwatch.testing.kubefake.failures import FakeApiError, status_response
from healthwatch.testing.kubefake.watchstream import watch_error

__all__ = ["Fault", "FaultActions", "FaultQueue", "RecordedRequest", "RequestLog"]


@dataclass(kw_only=True)
class Fault:
    """One scripted misbehaviour."""

    method: str | None = None
    """HTTP method to match (``PATCH``); None matches any."""
    path: str | None = None
    """Regular expression searched in the request path (``/leases/``); None matches any."""
    watch: bool | None = None
    """True: only watch requests; False: only others; None: both."""
    status: int | None = None
    """Answer with this HTTP status and a Status body; None lets the request through after
    ``delay`` (unless ``reset``)."""
    reason: str | None = None
    """Status reason; by default the one the API server uses for ``status``."""
    message: str = "fault injected by the test"
    """Status message."""
    retry_after: float | None = None
    """``Retry-After`` header, in seconds."""
    delay: float = 0.0
    """Seconds to wait before acting."""
    reset: bool = False
    """Abort the connection instead of answering."""
    as_watch_event: bool = False
    """For a watch: answer 200 and send the Status as an ERROR event (how a real server says
    410 Expired to a watch)."""
    content_type: str = "application/json"
    """Content type of the error body; anything else sends ``message`` as plain text."""
    times: int = 1
    """How many matching requests it serves before it is used up."""
    hits: int = field(default=0, init=False)
    """How many requests it has served."""

    def __post_init__(self) -> None:
        if self.times < 1 or self.delay < 0:
            raise ValueError("a fault needs times >= 1 and delay >= 0")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError(f"not an HTTP status: {self.status}")
        if self.path is not None:
            re.compile(self.path)

    def matches(self, method: str, path: str, *, is_watch: bool) -> bool:
        """Whether this fault applies to the request."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.watch is not None and self.watch != is_watch:
            return False
        return self.path is None or re.search(self.path, path) is not None


class FaultQueue:
    """Faults in the order they were added; the first matching one that is not used up acts."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> Fault:
        """Queue ``fault``."""
        self._faults.append(fault)
        return fault

    def take(self, method: str, path: str, *, is_watch: bool) -> Fault | None:
        """The fault for this request, counted as used; None when no fault applies."""
        for fault in self._faults:
            if fault.hits < fault.times and fault.matches(method, path, is_watch=is_watch):
                fault.hits += 1
                return fault
        return None

    def pending(self) -> list[Fault]:
        """Faults not used up yet."""
        return [fault for fault in self._faults if fault.hits < fault.times]

    def clear(self) -> None:
        """Forget every fault."""
        self._faults.clear()


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedRequest:
    """A request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    content_type: str
    body: bytes
    authorization: str | None = None

    @property
    def is_watch(self) -> bool:
        """Whether it asked for a watch stream."""
        return self.query.get("watch") in ("true", "1")

    def json(self) -> Any:
        """The body decoded as JSON (None when empty)."""
        return json.loads(self.body) if self.body else None


class RequestLog:
    """The last ``limit`` requests, oldest first."""

    def __init__(self, limit: int = 10_000) -> None:
        self._requests: deque[RecordedRequest] = deque(maxlen=limit)

    def add(self, request: RecordedRequest) -> None:
        """Record one request."""
        self._requests.append(request)

    def all(self) -> list[RecordedRequest]:
        """Every recorded request."""
        return list(self._requests)

    def clear(self) -> None:
        """Forget the recorded requests."""
        self._requests.clear()


class FaultActions:
    """Delays, connection resets and error answers; delays end early when the server stops."""

    def __init__(self, stopping: asyncio.Event) -> None:
        self._stopping = stopping

    async def act(
        self, request: web.Request, fault: Fault, *, is_watch: bool
    ) -> web.StreamResponse | None:
        """The answer ``fault`` gives; None when the request should then be served normally."""
        if fault.delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), fault.delay)
        if fault.reset:
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)  # never sent: the connection is gone
        if fault.status is None:
            return None
        failure = FakeApiError(fault.status, fault.message, reason=fault.reason)
        if fault.as_watch_event and is_watch:
            return await watch_error(request, failure)
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = f"{fault.retry_after:g}"
        if fault.content_type != "application/json":
            return web.Response(
                status=fault.status,
                body=fault.message.encode(),
                headers={"Content-Type": fault.content_type, **headers},
            )
        return status_response(failure, headers=headers)
