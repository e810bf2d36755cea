"""Watching a kind: a stream of changes that survives dropped connections and expired versions.

A :class:`Watch` is what an informer does, in a page: list, then watch from
the list's resourceVersion; remember the latest version seen (bookmarks
included) and resume from it when a stream ends or breaks; when the server
says that version is gone (410, as an HTTP status or an ERROR event), list
again and yield the differences against what was already yielded (ADDED,
MODIFIED, DELETED, marked ``relisted``), then watch on. A stream silent for
longer than the server-side watch timeout is treated as dead. Transient
failures are retried with backoff; after ``policy.attempts`` failures in a row
the watch raises :class:`KubeUnavailable`. Only :class:`KubeError` escapes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from lightkube.types import OnErrorAction, OnErrorResult

from healthwatch.kube.adapter import resource_class
from healthwatch.kube.errors import KubeError, KubeGone, KubeUnavailable
from healthwatch.kube.resources import (
    KubeObject,
    ResourceKind,
    WatchEvent,
    WatchEventType,
    object_key,
)
from healthwatch.kube.translate import translate

if TYPE_CHECKING:
    from healthwatch.kube.client import KubeClient

__all__ = ["Watch"]

_TYPES = {kind.value: kind for kind in WatchEventType}


def _raise(_error: Exception, _count: int) -> OnErrorResult:
    """Hand every stream error to us: resuming is decided here, not in the library."""
    return OnErrorResult(OnErrorAction.RAISE)


def _stub(obj: KubeObject) -> KubeObject:
    """What is kept of an object to report its deletion after a re-list."""
    metadata = obj.get("metadata") or {}
    kept = ("name", "namespace", "uid", "resourceVersion", "labels")
    return {
        "apiVersion": obj.get("apiVersion"),
        "kind": obj.get("kind"),
        "metadata": {key: metadata[key] for key in kept if key in metadata},
    }


def _version_of(obj: KubeObject) -> str:
    return str((obj.get("metadata") or {}).get("resourceVersion") or "")


class Watch:
    """An async iterator of :class:`WatchEvent`; close it (``async with``/``aclose``) when done."""

    def __init__(
        self,
        client: KubeClient,
        kind: ResourceKind,
        *,
        namespace: str | None,
        resource_version: str | None,
        labels: dict[str, str] | None,
        fields: dict[str, str] | None,
    ) -> None:
        self._client = client
        self._kind = kind
        self._namespace = namespace
        self._labels = labels
        self._fields = fields
        self._version = resource_version
        self._known: dict[tuple[str, str], KubeObject] = {}
        self._events = self._run()
        self.relists = 0
        """How many times the watch expired (410) and listed again."""
        self.reconnects = 0
        """How many times a stream was opened again after it broke or went silent."""

    @property
    def resource_version(self) -> str | None:
        """The latest resourceVersion seen: where the watch resumes."""
        return self._version

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> WatchEvent:
        return await anext(self._events)

    async def aclose(self) -> None:
        """Stop watching and release the connection."""
        await self._events.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ internals

    @property
    def _operation(self) -> str:
        where = f" in {self._namespace}" if self._namespace else ""
        return f"watch {self._kind}{where}"

    def _remember(self, event_type: WatchEventType, obj: KubeObject) -> None:
        key = object_key(obj)
        if event_type is WatchEventType.DELETED:
            self._known.pop(key, None)
        else:
            self._known[key] = _stub(obj)

    async def _run(self) -> AsyncGenerator[WatchEvent, None]:
        client = self._client
        backoff = client.policy.backoff(client._rng)
        failures = 0
        if self._version is None:
            async for event in self._relist(initial=True):
                yield event
        while True:
            try:
                async with aclosing(self._stream()) as stream:
                    async for event in stream:
                        failures = 0
                        backoff.success()
                        yield event
                self.reconnects += 1
                continue
            except KubeGone:
                self.relists += 1
                async for event in self._relist(initial=False):
                    yield event
                continue
            except KubeUnavailable as error:
                failures += 1
                if failures >= client.policy.attempts:
                    raise KubeUnavailable(
                        f"{error.message} (gave up after {failures} tries)",
                        code=error.code,
                        reason=error.reason,
                        operation=self._operation,
                    ) from error
                delay = backoff.failure()
                if error.retry_after is not None:
                    delay = max(delay, min(error.retry_after, client.policy.max_retry_after))
            await client._sleep(delay)
            self.reconnects += 1

    async def _relist(self, *, initial: bool) -> AsyncGenerator[WatchEvent, None]:
        listing = await self._client.list(
            self._kind, namespace=self._namespace, labels=self._labels, fields=self._fields
        )
        seen: set[tuple[str, str]] = set()
        for item in listing.items:
            key = object_key(item)
            seen.add(key)
            known = self._known.get(key)
            self._known[key] = _stub(item)
            if known is None:
                yield WatchEvent(type=WatchEventType.ADDED, object=item, relisted=not initial)
            elif _version_of(known) != _version_of(item):
                yield WatchEvent(type=WatchEventType.MODIFIED, object=item, relisted=True)
        for key in [key for key in self._known if key not in seen]:
            gone = self._known.pop(key)
            yield WatchEvent(type=WatchEventType.DELETED, object=gone, relisted=True)
        self._version = listing.resource_version or self._version

    async def _stream(self) -> AsyncGenerator[WatchEvent, None]:
        policy = self._client.policy
        inner: Any = self._client._client.watch(
            resource_class(self._kind),
            namespace=self._namespace,
            labels=self._labels,
            fields=self._fields,
            server_timeout=policy.watch_timeout,
            resource_version=self._version,
            on_error=_raise,
        )
        idle = policy.watch_timeout + policy.timeout
        async with aclosing(inner):
            while True:
                try:
                    async with asyncio.timeout(idle):
                        type_text, raw = await anext(inner)
                except StopAsyncIteration:
                    return
                except TimeoutError:
                    raise KubeUnavailable(
                        f"the stream was silent for {idle:g}s",
                        reason="Timeout",
                        operation=self._operation,
                    ) from None
                except KubeError:
                    raise
                except Exception as error:
                    raise translate(error, self._operation) from error
                obj: KubeObject = dict(raw)
                version = _version_of(obj)
                if version:
                    self._version = version
                event_type = _TYPES.get(str(type_text))
                if event_type is None:  # BOOKMARK, or a type this client does not know
                    continue
                obj.setdefault("apiVersion", self._kind.api_version)
                obj.setdefault("kind", self._kind.kind)
                self._remember(event_type, obj)
                yield WatchEvent(type=event_type, object=obj)
