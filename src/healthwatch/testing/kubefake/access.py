"""Test access to the fake API server's state: objects, versions, watches, a kubeconfig.

:class:`StoreAccess` is the part of :class:`FakeKubeAPI` a test uses to set
the scene and check the outcome without going through HTTP: read, put and
delete stored objects (watchers see the changes), compact the history, end or
drop watch streams and send bookmarks. ``kubeconfig_text`` builds the kubeconfig
the server writes for its clients.
"""

from __future__ import annotations

import copy
import os
import uuid
from pathlib import Path
from typing import Any

import yaml

from healthwatch.testing.kubefake.kinds import ResourceTable
from healthwatch.testing.kubefake.store import Change, ObjectStore

__all__ = ["StoreAccess", "kubeconfig_text"]


def kubeconfig_text(
    url: str,
    *,
    namespace: str = "default",
    token: str | None = None,
    ca_file: str | os.PathLike[str] | None = None,
    context: str = "fake",
) -> str:
    """A kubeconfig (YAML) with one cluster, user and context, selected as current."""
    cluster: dict[str, Any] = {"server": url}
    if ca_file is not None:
        cluster["certificate-authority"] = str(Path(ca_file))
    user: dict[str, Any] = {"token": token} if token else {}
    document = {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": context, "cluster": cluster}],
        "users": [{"name": context, "user": user}],
        "contexts": [
            {
                "name": context,
                "context": {"cluster": context, "user": context, "namespace": namespace},
            }
        ],
        "current-context": context,
    }
    return yaml.safe_dump(document, sort_keys=False)


class StoreAccess:
    """Direct access to the store; mixed into :class:`FakeKubeAPI`."""

    store: ObjectStore
    resources: ResourceTable
    token: str | None

    @property
    def resource_version(self) -> int:
        """The latest resourceVersion handed out."""
        return self.store.version

    def get_object(
        self, resource: str, name: str, namespace: str | None = None
    ) -> dict[str, Any] | None:
        """A copy of a stored object; ``resource`` is ``plural`` or ``plural.group``."""
        found = self.store.get(self.resources.named(resource).resource_id, namespace, name)
        return copy.deepcopy(found) if found is not None else None

    def objects(self, resource: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Copies of the stored objects of one type (in one namespace when given)."""
        resource_id = self.resources.named(resource).resource_id
        return copy.deepcopy(self.store.items(resource_id, namespace))

    def put_object(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Store ``obj`` as given (status included, no checks), creating or replacing; watchers
        see the change. Its type comes from its apiVersion and kind."""
        res = self.resources.of(str(obj.get("apiVersion")), str(obj.get("kind")))
        stored = copy.deepcopy(obj)
        metadata = stored.setdefault("metadata", {})
        namespace = metadata.get("namespace") if res.namespaced else None
        current = self.store.get(res.resource_id, namespace, str(metadata.get("name")))
        if current is None:
            metadata.setdefault("uid", str(uuid.uuid4()))
            metadata.setdefault("creationTimestamp", "2024-01-01T00:00:00Z")
            metadata.setdefault("generation", 1)
        else:
            for field in ("uid", "creationTimestamp", "generation"):
                metadata.setdefault(field, current["metadata"].get(field))
        change = "ADDED" if current is None else "MODIFIED"
        return self.store.commit(res.resource_id, change, stored)

    def delete_object(self, resource: str, name: str, namespace: str | None = None) -> bool:
        """Remove a stored object at once (finalizers ignored); False if there was none."""
        resource_id = self.resources.named(resource).resource_id
        current = self.store.get(resource_id, namespace, name)
        if current is None:
            return False
        self.store.commit(resource_id, "DELETED", current)
        return True

    def compact(self) -> int:
        """Forget the change history: watches from any older version get 410 Expired."""
        return self.store.compact()

    def drop_watches(self) -> int:
        """Abort every open watch connection (the client sees a broken stream)."""
        return self.store.end_watches("drop")

    def close_watches(self) -> int:
        """End every open watch cleanly (as the server-side watch timeout does)."""
        return self.store.end_watches("close")

    @property
    def watch_count(self) -> int:
        """Open watch streams."""
        return len(self.store.watchers)

    def send_bookmarks(self) -> int:
        """Send a BOOKMARK with the current version to watches that allow bookmarks."""
        sent = 0
        for watcher in list(self.store.watchers):
            if watcher.bookmarks:
                res = self.resources.named(watcher.resource_id)
                marker = {
                    "apiVersion": res.api_version,
                    "kind": res.kind,
                    "metadata": {"resourceVersion": str(self.store.version)},
                }
                watcher.offer(Change(self.store.version, watcher.resource_id, "BOOKMARK", marker))
                sent += 1
        return sent
