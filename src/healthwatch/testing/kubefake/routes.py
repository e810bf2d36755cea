"""Reading an API server URL and answering the REST verbs on it.

``/api/v1/...`` and ``/apis/GROUP/VERSION/...`` paths name a resource type,
optionally a namespace (``namespaces/NS/``), an object and the ``status``
subresource; :func:`parse_target` reads them and :func:`handle` answers GET
(one object or a list), POST (create), PUT (replace), PATCH and DELETE. Watch
requests (``?watch=true``) go to ``watchstream``. Lists honour
``labelSelector`` and ``fieldSelector``; ``limit`` and ``continue`` are
ignored (every list is one page). ``dryRun=All`` computes without storing.
:func:`discovery_document` answers ``/version``, ``/api``, ``/apis`` and the
per-version resource lists, for clients that look before they call.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from healthwatch.testing.kubefake.failures import FakeApiError
from healthwatch.testing.kubefake.kinds import FakeResource, ResourceTable
from healthwatch.testing.kubefake.selectors import field_selector, label_selector
from healthwatch.testing.kubefake.store import ObjectStore
from healthwatch.testing.kubefake.writes import Registry

__all__ = ["Target", "discovery_document", "handle", "json_response", "parse_target"]


@dataclass(frozen=True, slots=True)
class Target:
    """What a resource URL names."""

    resource: FakeResource
    namespace: str | None
    """The namespace in the URL; None for cluster-scoped types and all-namespace lists."""
    name: str | None
    subresource: str | None


def json_response(body: Any, *, status: int = 200) -> web.Response:
    """``body`` as JSON with the exact content type the API server uses."""
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )


def _not_found(path: str) -> FakeApiError:
    return FakeApiError(404, f"the server could not find the requested resource ({path[:200]})")


def parse_target(path: str, resources: ResourceTable) -> Target | None:
    """The resource a path names; None for a path that names none (discovery, say)."""
    segments = [unquote(part) for part in path.strip("/").split("/")]
    if len(segments) >= 3 and segments[0] == "api":
        group, version, rest = "", segments[1], segments[2:]
    elif len(segments) >= 4 and segments[0] == "apis":
        group, version, rest = segments[1], segments[2], segments[3:]
    else:
        return None
    namespaced = resources.at(group, version, rest[2]) if len(rest) >= 3 else None
    if rest[0] == "namespaces" and namespaced is not None and namespaced.namespaced:
        resource, namespace, tail = namespaced, rest[1], rest[3:]
    else:
        found = resources.at(group, version, rest[0])
        if found is None:
            raise _not_found(path)
        resource, namespace, tail = found, None, rest[1:]
    if len(tail) > 2 or any(not part for part in tail):
        raise _not_found(path)
    name = tail[0] if tail else None
    subresource = tail[1] if len(tail) == 2 else None
    if subresource is not None and (subresource != "status" or not resource.status_subresource):
        raise _not_found(path)
    if name is not None and resource.namespaced and namespace is None:
        raise _not_found(path)
    return Target(resource, namespace, name, subresource)


def _list(store: ObjectStore, target: Target, query: dict[str, str]) -> dict[str, Any]:
    res = target.resource
    labels = label_selector(query.get("labelSelector"))
    fields = field_selector(query.get("fieldSelector"))
    items = []
    for obj in store.items(res.resource_id, target.namespace):
        if labels(obj) and fields(obj):
            item = copy.deepcopy(obj)
            if not res.custom:  # built-in lists leave out each item's apiVersion and kind
                item.pop("apiVersion", None)
                item.pop("kind", None)
            items.append(item)
    return {
        "apiVersion": res.api_version,
        "kind": f"{res.kind}List",
        "metadata": {"resourceVersion": str(store.version)},
        "items": items,
    }


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as error:
        raise FakeApiError(400, f"the request body is not valid JSON: {error}") from None


def handle(
    method: str,
    target: Target,
    *,
    query: dict[str, str],
    body: bytes,
    content_type: str,
    registry: Registry,
) -> web.Response:
    """Answer one non-watch request on a resource URL; raises :class:`FakeApiError`."""
    res, namespace, name = target.resource, target.namespace, target.name
    dry_run = query.get("dryRun") == "All"
    if method == "GET" and name is None:
        return json_response(_list(registry.store, target, query))
    if method == "GET" and name is not None:
        return json_response(copy.deepcopy(registry.current(res, namespace, name)))
    if method == "POST" and name is None:
        if res.namespaced and namespace is None:
            raise _not_found(f"{res.resource_id} without a namespace")
        obj = registry.create(res, namespace, _decode(body), dry_run=dry_run)
        return json_response(obj, status=201)
    if name is None:
        raise FakeApiError(405, f"{method} is not supported on a collection of {res.resource_id}")
    if method == "PUT":
        obj = registry.replace(
            res,
            namespace,
            name,
            _decode(body),
            subresource=target.subresource,
            dry_run=dry_run,
        )
        return json_response(obj)
    if method == "PATCH":
        obj = registry.patch(
            res,
            namespace,
            name,
            content_type,
            body,
            subresource=target.subresource,
            dry_run=dry_run,
        )
        return json_response(obj)
    if method == "DELETE" and target.subresource is None:
        return json_response(registry.delete(res, namespace, name, dry_run=dry_run))
    raise FakeApiError(405, f"{method} is not supported here")


VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.0-healthwatch-fake",
    "platform": "linux/amd64",
}
_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]


def _entries(resource: FakeResource) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = [
        {
            "name": resource.plural,
            "singularName": resource.kind.lower(),
            "namespaced": resource.namespaced,
            "kind": resource.kind,
            "verbs": _VERBS,
        }
    ]
    if resource.status_subresource:
        entries.append(
            {
                "name": f"{resource.plural}/status",
                "singularName": "",
                "namespaced": resource.namespaced,
                "kind": resource.kind,
                "verbs": ["get", "patch", "update"],
            }
        )
    return entries


def discovery_document(path: str, resources: ResourceTable) -> dict[str, Any] | None:
    """The discovery answer for ``path``; None when the path is not a discovery path."""
    parts = [part for part in path.strip("/").split("/") if part]
    if parts == ["version"]:
        return dict(VERSION)
    if parts == ["api"]:
        return {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}
    if parts == ["apis"]:
        groups = [
            {
                "name": group,
                "versions": [{"groupVersion": f"{group}/{v}", "version": v} for v in versions],
                "preferredVersion": {
                    "groupVersion": f"{group}/{versions[0]}",
                    "version": versions[0],
                },
            }
            for group, versions in sorted(resources.groups().items())
        ]
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}
    if len(parts) == 2 and parts[0] == "api":
        group, version = "", parts[1]
    elif len(parts) == 3 and parts[0] == "apis":
        group, version = parts[1], parts[2]
    else:
        return None
    served = [r for r in resources if (r.group, r.version) == (group, version)]
    if not served:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [entry for resource in served for entry in _entries(resource)],
    }
