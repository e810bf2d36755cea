"""Serving ``?watch=true``: newline-delimited JSON events from a resourceVersion, until stopped.

Without ``resourceVersion`` (or with ``0``) the stream starts with an ADDED
event per matching object, then follows changes. With a version it replays
the retained changes after it, then follows; a version older than the
history is answered the way the API server answers it: HTTP 200, then one
ERROR event holding a 410 ``Expired`` Status. ``timeoutSeconds`` ends the
stream cleanly; ``allowWatchBookmarks=true`` lets the test send BOOKMARK
events. A test may end every stream cleanly or drop the connections.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from aiohttp import web

from healthwatch.testing.kubefake.failures import FakeApiError, status_body
from healthwatch.testing.kubefake.routes import Target
from healthwatch.testing.kubefake.selectors import field_selector, label_selector
from healthwatch.testing.kubefake.store import Change, ObjectStore, Watcher

__all__ = ["serve_watch", "watch_error"]


def _line(event_type: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": event_type, "object": obj}).encode() + b"\n"


async def _open(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    return response


async def watch_error(request: web.Request, failure: FakeApiError) -> web.StreamResponse:
    """A 200 stream holding one ERROR event with ``failure`` as its Status."""
    response = await _open(request)
    body = status_body(failure.code, failure.message, reason=failure.reason)
    await response.write(_line("ERROR", body))
    await response.write_eof()
    return response


def _parse_version(text: str | None) -> int | None:
    if text is None or text in ("", "0"):
        return None
    if not text.isdigit():
        raise FakeApiError(400, f"resourceVersion must be a number, got {text[:50]!r}")
    return int(text)


def _parse_timeout(text: str | None) -> float | None:
    if text is None or not text:
        return None
    if not text.isdigit():
        raise FakeApiError(400, f"timeoutSeconds must be a whole number, got {text[:50]!r}")
    return float(text)


async def serve_watch(
    request: web.Request, target: Target, store: ObjectStore, query: dict[str, str]
) -> web.StreamResponse:
    """Stream the changes ``target`` names until the timeout, the client leaves or the test ends."""
    labels = label_selector(query.get("labelSelector"))
    fields = field_selector(query.get("fieldSelector"))
    version = _parse_version(query.get("resourceVersion"))
    timeout = _parse_timeout(query.get("timeoutSeconds"))
    watcher = Watcher(
        resource_id=target.resource.resource_id,
        namespace=target.namespace,
        selector=lambda obj: labels(obj) and fields(obj),
        bookmarks=query.get("allowWatchBookmarks") in ("true", "1"),
        queue_limit=store.queue_limit,
    )
    # Registering and reading the backlog with no await between: no change can fall in between.
    if version is None:
        backlog = [
            Change(store.version, watcher.resource_id, "ADDED", obj)
            for obj in store.items(watcher.resource_id, watcher.namespace)
            if watcher.selector(obj)
        ]
    else:
        try:
            backlog = store.changes_since(watcher, version)
        except FakeApiError as failure:
            return await watch_error(request, failure)
    store.add_watcher(watcher)
    try:
        response = await _open(request)
        for change in backlog:
            await response.write(_line(change.type, change.object))
        await _follow(request, response, watcher, timeout)
        return response
    finally:
        store.remove_watcher(watcher)


async def _follow(
    request: web.Request, response: web.StreamResponse, watcher: Watcher, seconds: float | None
) -> None:
    loop = asyncio.get_running_loop()
    deadline = None if seconds is None else loop.time() + seconds
    while not watcher.dropped:
        if watcher.ending == "close" and watcher.queue.empty():
            break  # a clean end sends what was queued before it
        remaining = None if deadline is None else deadline - loop.time()
        if remaining is not None and remaining <= 0:
            break
        try:
            change = await asyncio.wait_for(watcher.queue.get(), remaining)
        except TimeoutError:
            break
        if change is not None and not watcher.dropped:
            await response.write(_line(change.type, change.object))
    if watcher.dropped:
        if request.transport is not None:
            request.transport.abort()
        return
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
