"""The fake API server's memory: objects, one global resourceVersion, change history, watchers.

Every committed change gets the next value of a single counter as its
``resourceVersion`` (as etcd's revision does), is appended to a bounded
history, and is offered to every matching watcher. A watch may resume from
any version still in the history; older versions, and every version before a
:meth:`ObjectStore.compact`, are gone (the server answers 410). A watcher
whose queue fills up is ended, as a real server ends a consumer too slow to
keep up; the client then resumes from the last version it saw.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from healthwatch.testing.kubefake.failures import FakeApiError
from healthwatch.testing.kubefake.selectors import Selector

__all__ = ["Change", "ObjectStore", "Watcher"]

Key = tuple[str, str]
EndKind = Literal["drop", "close"]


@dataclass(frozen=True, slots=True)
class Change:
    """One committed change."""

    version: int
    resource_id: str
    type: str
    object: dict[str, Any]


def _key(obj: dict[str, Any]) -> Key:
    metadata = obj["metadata"]
    return str(metadata.get("namespace") or ""), str(metadata["name"])


class Watcher:
    """One open watch: what it wants and the queue of changes waiting to be sent."""

    def __init__(
        self,
        *,
        resource_id: str,
        namespace: str | None,
        selector: Selector,
        bookmarks: bool,
        queue_limit: int,
    ) -> None:
        self.resource_id = resource_id
        self.namespace = namespace
        self.selector = selector
        self.bookmarks = bookmarks
        self.queue: asyncio.Queue[Change | None] = asyncio.Queue(maxsize=queue_limit)
        self.ending: EndKind | None = None
        """Set when the stream must end: ``drop`` aborts the connection, ``close`` ends it."""

    @property
    def dropped(self) -> bool:
        """Whether the connection is to be aborted."""
        return self.ending == "drop"

    def wants(self, change: Change) -> bool:
        """Whether ``change`` belongs in this watch."""
        if change.resource_id != self.resource_id:
            return False
        if self.namespace is not None and _key(change.object)[0] != self.namespace:
            return False
        return self.selector(change.object)

    def offer(self, change: Change) -> None:
        """Queue ``change``; a full queue ends the watch instead (the client resumes)."""
        if self.ending is not None:
            return
        try:
            self.queue.put_nowait(change)
        except asyncio.QueueFull:
            self.ending = "close"

    def end(self, how: EndKind) -> None:
        """Ask the stream to end now."""
        self.ending = self.ending or how
        with contextlib.suppress(asyncio.QueueFull):  # then it notices after its next item
            self.queue.put_nowait(None)


class ObjectStore:
    """Objects by type, namespace and name, with versions, history and watchers."""

    def __init__(self, *, history_limit: int = 10_000, queue_limit: int = 1_000) -> None:
        if history_limit < 1 or queue_limit < 1:
            raise ValueError("history_limit and queue_limit must be at least 1")
        self.version = 1
        """The latest resourceVersion handed out."""
        self.floor = 1
        """Watches may resume from this version or later; older ones are gone (410)."""
        self.queue_limit = queue_limit
        self._objects: dict[str, dict[Key, dict[str, Any]]] = {}
        self._history: deque[Change] = deque(maxlen=history_limit)
        self.watchers: set[Watcher] = set()

    def get(self, resource_id: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The stored object (not a copy: do not change it), or None."""
        return self._objects.get(resource_id, {}).get((namespace or "", name))

    def items(self, resource_id: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Stored objects of one type (in one namespace when given), ordered by namespace, name."""
        stored = self._objects.get(resource_id, {})
        return [
            obj for key, obj in sorted(stored.items()) if namespace is None or key[0] == namespace
        ]

    def namespaced_items(self, namespace: str) -> Iterable[tuple[str, dict[str, Any]]]:
        """Every object in ``namespace``, of any type."""
        for resource_id, stored in self._objects.items():
            for key, obj in list(stored.items()):
                if key[0] == namespace:
                    yield resource_id, obj

    def commit(self, resource_id: str, change_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Store (or for DELETED remove) ``obj`` under a new resourceVersion; tell the watchers."""
        self.version += 1
        stored = copy.deepcopy(obj)
        stored["metadata"]["resourceVersion"] = str(self.version)
        objects = self._objects.setdefault(resource_id, {})
        if change_type == "DELETED":
            objects.pop(_key(stored), None)
        else:
            objects[_key(stored)] = stored
        change = Change(self.version, resource_id, change_type, stored)
        if len(self._history) == self._history.maxlen:
            self.floor = self._history[0].version
        self._history.append(change)
        for watcher in list(self.watchers):
            if watcher.wants(change):
                watcher.offer(change)
        return copy.deepcopy(stored)

    def compact(self) -> int:
        """Forget the history: a watch from any version before now gets 410. Returns the floor."""
        self._history.clear()
        self.floor = self.version
        return self.floor

    def changes_since(self, watcher: Watcher, version: int) -> list[Change]:
        """The changes after ``version`` that ``watcher`` wants; 410 if that is too old."""
        if version < self.floor:
            raise FakeApiError(
                410,
                f"too old resource version: {version} ({self.floor})",
                reason="Expired",
            )
        return [c for c in self._history if c.version > version and watcher.wants(c)]

    def add_watcher(self, watcher: Watcher) -> None:
        """Start offering changes to ``watcher``."""
        self.watchers.add(watcher)

    def remove_watcher(self, watcher: Watcher) -> None:
        """Stop offering changes to ``watcher``."""
        self.watchers.discard(watcher)

    def end_watches(self, how: EndKind) -> int:
        """End every open watch; returns how many there were."""
        watchers = list(self.watchers)
        for watcher in watchers:
            watcher.end(how)
        return len(watchers)
