"""What create, replace, patch and delete do to an object, as the API server's registry does it.

- create: names are checked (DNS subdomain; DNS label for namespaces),
  ``generateName`` is honoured, the namespace must exist, a taken name is 409
  ``AlreadyExists``; ``uid``, ``creationTimestamp``, ``generation`` and
  ``resourceVersion`` are assigned; a status is kept, dropped or set to
  ``Pending`` by the type's rule.
- replace and patch: a ``metadata.resourceVersion`` in the new object (or
  left there by a patch) must be the current one, else 409 ``Conflict``;
  identity fields cannot change; with a ``status`` subresource, writes to the
  object keep the old status and writes to ``/status`` change only the status;
  ``generation`` grows when anything outside metadata and status changes; a
  write that changes nothing keeps the old resourceVersion and tells no one.
- delete: immediate, unless the object has finalizers: then it gets a
  ``deletionTimestamp`` and goes when the last finalizer is removed. Deleting
  a namespace deletes what is in it.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

from healthwatch.aio.clock import Clock
from healthwatch.testing.kubefake.failures import FakeApiError
from healthwatch.testing.kubefake.kinds import FakeResource
from healthwatch.testing.kubefake.patches import json_patch, merge_patch, strategic_merge
from healthwatch.testing.kubefake.store import ObjectStore

__all__ = ["Registry"]

_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_IDENTITY = ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "generation")
STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"


def _timestamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _content(obj: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in obj.items() if key not in ("metadata", "status")}


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal apart from resourceVersion."""
    a_meta = {k: v for k, v in a.get("metadata", {}).items() if k != "resourceVersion"}
    b_meta = {k: v for k, v in b.get("metadata", {}).items() if k != "resourceVersion"}
    return a_meta == b_meta and {**a, "metadata": None} == {**b, "metadata": None}


class Registry:
    """Applies writes to an :class:`ObjectStore` with the API server's rules."""

    def __init__(self, store: ObjectStore, *, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def _check_name(self, res: FakeResource, name: Any) -> str:
        pattern, limit = (_LABEL, 63) if res.plural == "namespaces" else (_SUBDOMAIN, 253)
        if not isinstance(name, str) or not name:
            raise FakeApiError(422, f"{res.kind} is invalid: metadata.name: Required value")
        if len(name) > limit or not pattern.fullmatch(name):
            raise FakeApiError(
                422,
                f'{res.kind} "{name[:300]}" is invalid: metadata.name: Invalid value: '
                f"must be a lowercase RFC 1123 {'label' if limit == 63 else 'subdomain'}",
            )
        return name

    def _body(self, res: FakeResource, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise FakeApiError(400, f"the body must be a JSON object of kind {res.kind}")
        for field, expected in (("apiVersion", res.api_version), ("kind", res.kind)):
            if body.get(field) not in (None, expected):
                raise FakeApiError(
                    400, f"{field} {body.get(field)!r:.100} does not match {expected!r} of the URL"
                )
        metadata = body.get("metadata", {})
        if not isinstance(metadata, dict):
            raise FakeApiError(400, "metadata must be an object")
        return {**copy.deepcopy(body), "apiVersion": res.api_version, "kind": res.kind}

    def create(
        self, res: FakeResource, namespace: str | None, body: Any, *, dry_run: bool = False
    ) -> dict[str, Any]:
        """Create an object from ``body``; the stored result."""
        obj = self._body(res, body)
        metadata = obj.setdefault("metadata", {})
        if not metadata.get("name") and isinstance(metadata.get("generateName"), str):
            metadata["name"] = metadata["generateName"] + uuid.uuid4().hex[:5]
        name = self._check_name(res, metadata.get("name"))
        if res.namespaced:
            if metadata.get("namespace") not in (None, "", namespace):
                raise FakeApiError(
                    400,
                    "the namespace of the provided object does not match the namespace sent on "
                    "the request",
                )
            metadata["namespace"] = namespace
            if self.store.get("namespaces", None, str(namespace)) is None:
                raise FakeApiError(404, f'namespaces "{namespace}" not found')
        else:
            metadata.pop("namespace", None)
        if self.store.get(res.resource_id, namespace, name) is not None:
            raise FakeApiError(
                409,
                f'{res.resource_id} "{name}" already exists',
                reason="AlreadyExists",
                details={"name": name, "kind": res.plural, "group": res.group},
            )
        for field in ("resourceVersion", "deletionTimestamp", "managedFields"):
            metadata.pop(field, None)
        metadata["uid"] = str(uuid.uuid4())
        metadata["creationTimestamp"] = _timestamp(self.clock.time())
        metadata["generation"] = 1
        if res.create_status == "drop":
            obj.pop("status", None)
        elif res.create_status == "pending":
            obj["status"] = {"phase": "Pending"}
        if res.plural == "namespaces":
            obj["status"] = {"phase": "Active"}
        if dry_run:
            return obj
        return self.store.commit(res.resource_id, "ADDED", obj)

    def current(self, res: FakeResource, namespace: str | None, name: str) -> dict[str, Any]:
        """The stored object, or 404."""
        obj = self.store.get(res.resource_id, namespace, name)
        if obj is None:
            raise FakeApiError(
                404,
                f'{res.resource_id} "{name[:300]}" not found',
                details={"name": name, "kind": res.plural, "group": res.group},
            )
        return obj

    def replace(
        self,
        res: FakeResource,
        namespace: str | None,
        name: str,
        body: Any,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Replace the object (or its status) with ``body``."""
        current = self.current(res, namespace, name)
        obj = self._body(res, body)
        given = obj.get("metadata", {}).get("name")
        if given != name:
            raise FakeApiError(
                400, f"the name of the object ({given!r:.100}) does not match the name on the URL"
            )
        return self._update(res, current, obj, subresource=subresource, dry_run=dry_run)

    def patch(
        self,
        res: FakeResource,
        namespace: str | None,
        name: str,
        content_type: str,
        raw: bytes,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> dict[str, Any]:
        """Apply a patch body of ``content_type`` to the object (or its status)."""
        current = self.current(res, namespace, name)
        media = content_type.split(";", maxsplit=1)[0].strip().lower()
        if media not in (STRATEGIC, MERGE, JSON_PATCH) or (media == STRATEGIC and res.custom):
            accepted = f"{JSON_PATCH}, {MERGE}" + ("" if res.custom else f", {STRATEGIC}")
            raise FakeApiError(
                415,
                f"the body of the request was in an unknown format - accepted media types "
                f"include: {accepted}",
            )
        try:
            patch = json.loads(raw)
        except (ValueError, RecursionError) as error:
            raise FakeApiError(400, f"the patch is not valid JSON: {error}") from None
        if media == JSON_PATCH:
            result = json_patch(current, patch)
        elif not isinstance(patch, dict):
            raise FakeApiError(400, "a merge patch must be a JSON object")
        elif media == MERGE:
            result = merge_patch(current, patch)
        else:
            result = strategic_merge(current, patch, keys=res.strategic_keys(), sets=res.merge_sets)
        if not isinstance(result, dict) or not isinstance(result.get("metadata"), dict):
            raise FakeApiError(422, f"the patched {res.kind} is not an object with metadata")
        if result["metadata"].get("name") != name:
            raise FakeApiError(400, "a patch cannot change metadata.name")
        obj = self._body(res, result)
        return self._update(res, current, obj, subresource=subresource, dry_run=dry_run)

    def _update(
        self,
        res: FakeResource,
        current: dict[str, Any],
        new: dict[str, Any],
        *,
        subresource: str | None,
        dry_run: bool,
    ) -> dict[str, Any]:
        asked = new.get("metadata", {}).get("resourceVersion")
        now = current["metadata"].get("resourceVersion")
        if asked not in (None, "", now):
            name = current["metadata"]["name"]
            raise FakeApiError(
                409,
                f'Operation cannot be fulfilled on {res.resource_id} "{name}"'
                ": the object has been modified; please apply your changes to the latest version "
                "and try again",
                details={"name": name, "kind": res.plural},
            )
        if subresource == "status":
            result = copy.deepcopy(current)
            result.pop("status", None)
            if "status" in new:
                result["status"] = new["status"]
        else:
            result = new
            metadata = result.setdefault("metadata", {})
            for field in _IDENTITY:
                metadata.pop(field, None)
                if field in current["metadata"]:
                    metadata[field] = current["metadata"][field]
            if res.status_subresource:
                result.pop("status", None)
                if "status" in current:
                    result["status"] = copy.deepcopy(current["status"])
            if _content(result) != _content(current):
                metadata["generation"] = int(current["metadata"].get("generation", 1)) + 1
        result["metadata"]["resourceVersion"] = now
        if _same(result, current):
            return copy.deepcopy(current)
        if dry_run:
            return result
        if result["metadata"].get("deletionTimestamp") and not result["metadata"].get("finalizers"):
            return self.store.commit(res.resource_id, "DELETED", result)
        return self.store.commit(res.resource_id, "MODIFIED", result)

    def delete(
        self, res: FakeResource, namespace: str | None, name: str, *, dry_run: bool = False
    ) -> dict[str, Any]:
        """Delete the object (or mark it, when it has finalizers); the object as last stored."""
        current = self.current(res, namespace, name)
        if dry_run:
            return copy.deepcopy(current)
        if current["metadata"].get("finalizers"):
            if current["metadata"].get("deletionTimestamp"):
                return copy.deepcopy(current)
            marked = copy.deepcopy(current)
            marked["metadata"]["deletionTimestamp"] = _timestamp(self.clock.time())
            return self.store.commit(res.resource_id, "MODIFIED", marked)
        if res.plural == "namespaces" and not res.group:
            for resource_id, obj in list(self.store.namespaced_items(name)):
                self.store.commit(resource_id, "DELETED", obj)
        return self.store.commit(res.resource_id, "DELETED", current)
