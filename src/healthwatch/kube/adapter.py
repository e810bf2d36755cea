"""The two places our values meet the client library: connections and resource classes.

:func:`open_client` builds the library's async client from a
:class:`KubeConnection`; :func:`resource_class` gives, for a
:class:`ResourceKind`, the library's generic (dict-shaped) resource class, or
the class of its ``status`` subresource. The classes are made here and cached,
but never put in the library's process-wide registry, so two parts of a
program (or a program and a library it embeds) can name the same kind without
clashing, and objects always come back as plain dicts.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import httpx2
from lightkube import AsyncClient
from lightkube.config.kubeconfig import SingleConfig
from lightkube.config.models import Cluster, Context, User
from lightkube.core import resource as lightkube_resource
from lightkube.generic_resource import (
    GenericGlobalResource,
    GenericGlobalStatus,
    GenericNamespacedResource,
    GenericNamespacedStatus,
)

from healthwatch.kube.config import KubeConnection
from healthwatch.kube.resources import ResourceKind

__all__ = ["open_client", "resource_class"]

_VERBS = [
    "delete",
    "get",
    "global_list",
    "global_watch",
    "list",
    "patch",
    "post",
    "put",
    "watch",
]


def _single_config(connection: KubeConnection) -> SingleConfig:
    cluster = Cluster(
        server=connection.server,
        certificate_auth=str(connection.ca_file) if connection.ca_file else None,
        certificate_auth_data=connection.ca_data,
        insecure=connection.insecure,
    )
    user = User(
        token=connection.token,
        token_file=str(connection.token_file) if connection.token_file else None,
        username=connection.username,
        password=connection.password,
        client_cert=str(connection.client_cert_file) if connection.client_cert_file else None,
        client_cert_data=connection.client_cert_data,
        client_key=str(connection.client_key_file) if connection.client_key_file else None,
        client_key_data=connection.client_key_data,
    )
    return SingleConfig(
        context_name="healthwatch",
        context=Context(cluster="healthwatch", user="healthwatch", namespace=connection.namespace),
        cluster=cluster,
        user=user,
    )


def open_client(connection: KubeConnection, *, timeout: float, field_manager: str) -> AsyncClient:
    """The library's async client for ``connection``; every phase of a request under ``timeout``.

    Raises what the library raises for unusable TLS material (the caller translates it).
    """
    return AsyncClient(
        config=_single_config(connection),
        namespace=connection.namespace,
        timeout=httpx2.Timeout(timeout),
        field_manager=field_manager,
        trust_env=connection.trust_env,
        proxy=connection.proxy,
    )


@cache
def resource_class(kind: ResourceKind, subresource: str | None = None) -> Any:
    """The library's class for ``kind`` (``subresource=None``) or its ``status`` subresource."""
    info = lightkube_resource.ApiInfo(
        resource=lightkube_resource.ResourceDef(kind.group, kind.version, kind.kind),
        plural=kind.plural,
        verbs=list(_VERBS),
    )
    if subresource is None:
        base: type = GenericNamespacedResource if kind.namespaced else GenericGlobalResource
        return type(kind.kind, (base,), {"_api_info": info})
    if subresource != "status":
        raise ValueError(f"only the status subresource is supported, not {subresource!r}")
    status_base: type = GenericNamespacedStatus if kind.namespaced else GenericGlobalStatus
    status_info = lightkube_resource.ApiInfo(
        resource=info.resource,
        parent=info.resource,
        plural=kind.plural,
        verbs=["get", "patch", "put"],
        action="status",
    )
    return type(f"{kind.kind}Status", (status_base,), {"_api_info": status_info})
