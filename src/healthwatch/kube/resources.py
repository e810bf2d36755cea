"""The values that cross the Kubernetes client's API: kinds, patch types, lists and watch events.

Objects themselves cross as plain ``dict`` values in the API server's JSON
shape (``{"apiVersion": ..., "kind": ..., "metadata": {...}, ...}``), so no
client-library type leaks into the rest of healthwatch. A kind is named by a
:class:`ResourceKind` (group, version, kind, plural, scope); the built-in kinds
the agent and the checks controller use are defined here, and custom resources
are one constructor call away. Nothing here imports the Kubernetes client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "ALL_NAMESPACES",
    "EVENT",
    "EVENTS_V1_EVENT",
    "KUBERHEALTHY_CHECK",
    "KUBERHEALTHY_HEALTHCHECK",
    "LEASE",
    "NAMESPACE",
    "NODE",
    "POD",
    "KubeObject",
    "ObjectList",
    "PatchType",
    "ResourceKind",
    "WatchEvent",
    "WatchEventType",
    "object_key",
]

KubeObject = dict[str, Any]
"""An object as the API server's JSON: ``apiVersion``, ``kind``, ``metadata``, ``spec``..."""

ALL_NAMESPACES = "*"
"""Pass as ``namespace`` to list or watch a namespaced kind across every namespace."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ResourceKind:
    """One kind of object the API serves: where it lives and how it is scoped."""

    group: str
    """API group; empty for the core group (``""``, ``coordination.k8s.io``, ``healthwatch.io``)."""
    version: str
    """API version within the group (``v1``)."""
    kind: str
    """The object's ``kind`` (``Node``, ``Lease``)."""
    plural: str
    """The resource name in URLs (``nodes``, ``leases``)."""
    namespaced: bool = True
    """Whether objects live in a namespace (nodes and namespaces do not)."""

    def __post_init__(self) -> None:
        if not self.version or not self.kind or not self.plural:
            raise ValueError(f"a resource kind needs a version, a kind and a plural: {self!r}")
        if self.plural != self.plural.lower() or "/" in self.plural:
            raise ValueError(f"a resource plural is lower case without '/': {self.plural!r}")

    @property
    def api_version(self) -> str:
        """``apiVersion`` of the objects: ``v1`` for the core group, else ``group/version``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    def __str__(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


NODE = ResourceKind(group="", version="v1", kind="Node", plural="nodes", namespaced=False)
NAMESPACE = ResourceKind(
    group="", version="v1", kind="Namespace", plural="namespaces", namespaced=False
)
POD = ResourceKind(group="", version="v1", kind="Pod", plural="pods")
EVENT = ResourceKind(group="", version="v1", kind="Event", plural="events")
"""core/v1 events: what node-problem-detector and ``kubectl describe`` use."""
EVENTS_V1_EVENT = ResourceKind(group="events.k8s.io", version="v1", kind="Event", plural="events")
"""events.k8s.io/v1 events (``reportingController``, ``series``, ``note``)."""
LEASE = ResourceKind(group="coordination.k8s.io", version="v1", kind="Lease", plural="leases")
KUBERHEALTHY_CHECK = ResourceKind(
    group="comcast.github.io", version="v1", kind="KuberhealthyCheck", plural="khchecks"
)
"""Kuberhealthy v2's check resource (state kept elsewhere, no status subresource)."""
KUBERHEALTHY_HEALTHCHECK = ResourceKind(
    group="kuberhealthy.github.io", version="v2", kind="HealthCheck", plural="healthchecks"
)
"""Kuberhealthy v3's check resource (API version ``v2``, with a status subresource)."""


class PatchType(StrEnum):
    """How a patch body is interpreted, by its content type."""

    STRATEGIC = "application/strategic-merge-patch+json"
    """Kubernetes' strategic merge: lists with a merge key (conditions by ``type``) merge by key.
    Built-in kinds only; the API server refuses it for custom resources (415)."""
    MERGE = "application/merge-patch+json"
    """RFC 7386 JSON merge patch: maps merge, ``null`` deletes, lists are replaced whole."""
    JSON = "application/json-patch+json"
    """RFC 6902 JSON patch: a list of ``add``/``remove``/``replace``/``move``/``copy``/``test``."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ObjectList:
    """The result of a list: the objects and the resourceVersion to watch from."""

    items: list[KubeObject] = field(default_factory=list)
    """The objects, each with ``apiVersion`` and ``kind`` filled in."""
    resource_version: str = ""
    """The list's resourceVersion: a watch from it misses no change."""


class WatchEventType(StrEnum):
    """What happened to an object."""

    ADDED = "ADDED"
    MODIFIED = "MODIFIED"
    DELETED = "DELETED"


@dataclass(frozen=True, slots=True, kw_only=True)
class WatchEvent:
    """One change seen by a watch."""

    type: WatchEventType
    """Added, modified or deleted."""
    object: KubeObject
    """The object after the change (for DELETED: its last known state)."""
    relisted: bool = False
    """True when made up from a re-list after the watch expired (410), not streamed."""


def object_key(obj: KubeObject) -> tuple[str, str]:
    """``(namespace, name)`` of an object; namespace is empty for cluster-scoped kinds."""
    metadata = obj.get("metadata") or {}
    return str(metadata.get("namespace") or ""), str(metadata.get("name") or "")
