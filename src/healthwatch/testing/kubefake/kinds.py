"""The resource types the fake API server serves, and the per-type rules it applies.

A :class:`FakeResource` says where a type lives (group, version, plural,
scope), whether it has a ``status`` subresource, what happens to a status sent
on create, and which lists a strategic-merge patch merges by key (the
``patchMergeKey`` of the real types). The built-in types are listed here;
custom resources are registered at run time and, as on a real API server,
refuse strategic-merge patches.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["BUILTIN_RESOURCES", "FakeResource", "ResourceTable"]

CreateStatus = Literal["keep", "drop", "pending"]

_OBJECT_META_KEYS = {"metadata.ownerReferences": "uid"}
_OBJECT_META_SETS = frozenset({"metadata.finalizers"})


@dataclass(frozen=True, slots=True, kw_only=True)
class FakeResource:
    """One served type and its rules."""

    group: str
    """API group, empty for core."""
    version: str
    """Served version."""
    kind: str
    """Object kind."""
    plural: str
    """Name in URLs."""
    namespaced: bool = True
    """Whether objects live in namespaces."""
    status_subresource: bool = False
    """Whether ``/status`` exists: then writes to the object ignore ``status`` and writes to
    ``/status`` change only ``status``."""
    create_status: CreateStatus = "keep"
    """What a create does with a ``status``: keep it, drop it, or set ``{"phase": "Pending"}``."""
    custom: bool = False
    """A custom resource: strategic-merge patch is refused with 415, as a real server does."""
    merge_keys: Mapping[str, str] = field(default_factory=dict)
    """Strategic merge: list path (``spec.containers[].env``) → the key its items merge by."""
    merge_sets: frozenset[str] = _OBJECT_META_SETS
    """Strategic merge: lists of scalars merged as sets (``metadata.finalizers``)."""

    @property
    def api_version(self) -> str:
        """``v1`` or ``group/version``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def resource_id(self) -> str:
        """``plural`` for core, else ``plural.group`` (``leases.coordination.k8s.io``)."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def strategic_keys(self) -> dict[str, str]:
        """Merge keys including those every object's metadata has."""
        return {**_OBJECT_META_KEYS, **self.merge_keys}


_CONTAINER_LISTS = {"env": "name", "ports": "containerPort", "volumeMounts": "mountPath"}


def _pod_keys() -> dict[str, str]:
    keys = {
        "spec.containers": "name",
        "spec.initContainers": "name",
        "spec.ephemeralContainers": "name",
        "spec.volumes": "name",
        "spec.imagePullSecrets": "name",
        "status.conditions": "type",
        "status.containerStatuses": "name",
    }
    for containers in ("spec.containers[]", "spec.initContainers[]"):
        keys.update({f"{containers}.{name}": key for name, key in _CONTAINER_LISTS.items()})
    return keys


BUILTIN_RESOURCES: tuple[FakeResource, ...] = (
    FakeResource(
        group="",
        version="v1",
        kind="Node",
        plural="nodes",
        namespaced=False,
        status_subresource=True,
        merge_keys={"status.conditions": "type", "status.addresses": "type"},
    ),
    FakeResource(
        group="",
        version="v1",
        kind="Namespace",
        plural="namespaces",
        namespaced=False,
        status_subresource=True,
    ),
    FakeResource(
        group="",
        version="v1",
        kind="Pod",
        plural="pods",
        status_subresource=True,
        create_status="pending",
        merge_keys=_pod_keys(),
    ),
    FakeResource(group="", version="v1", kind="Event", plural="events"),
    FakeResource(group="events.k8s.io", version="v1", kind="Event", plural="events"),
    FakeResource(group="coordination.k8s.io", version="v1", kind="Lease", plural="leases"),
)


class ResourceTable:
    """The served types, found by URL parts, by ``plural[.group]`` or by apiVersion and kind."""

    def __init__(self, resources: tuple[FakeResource, ...] = BUILTIN_RESOURCES) -> None:
        self._by_path: dict[tuple[str, str, str], FakeResource] = {}
        for resource in resources:
            self.add(resource)

    def add(self, resource: FakeResource) -> FakeResource:
        """Serve ``resource``; ValueError if its URL is served already by a different type."""
        key = (resource.group, resource.version, resource.plural)
        existing = self._by_path.get(key)
        if existing is not None and existing != resource:
            raise ValueError(f"{resource.resource_id}/{resource.version} is already served")
        self._by_path[key] = resource
        return resource

    def __iter__(self) -> Iterator[FakeResource]:
        return iter(self._by_path.values())

    def at(self, group: str, version: str, plural: str) -> FakeResource | None:
        """The type served at ``/api(s)/group/version/plural``."""
        return self._by_path.get((group, version, plural))

    def named(self, name: str) -> FakeResource:
        """The type called ``plural`` (core) or ``plural.group``; KeyError if none."""
        plural, _, group = name.partition(".")
        for resource in self._by_path.values():
            if resource.plural == plural and resource.group == group:
                return resource
        raise KeyError(f"no resource type {name!r} is served")

    def of(self, api_version: str, kind: str) -> FakeResource:
        """The type of objects with this apiVersion and kind; KeyError if none."""
        group, _, version = api_version.rpartition("/")
        for resource in self._by_path.values():
            if (resource.group, resource.version, resource.kind) == (group, version, kind):
                return resource
        raise KeyError(f"no resource type serves {api_version} {kind}")

    def groups(self) -> dict[str, list[str]]:
        """Each named group and its versions, for discovery."""
        found: dict[str, list[str]] = {}
        for resource in self._by_path.values():
            if resource.group and resource.version not in found.setdefault(resource.group, []):
                found[resource.group].append(resource.version)
        return found
