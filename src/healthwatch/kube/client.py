"""The one door to the Kubernetes API: typed calls with deadlines, retries and our own errors.

:class:`KubeClient` is a small async facade over the client library. Every
call runs under the :class:`RetryPolicy` (a deadline per try; retries with
backoff and jitter on 429, 5xx, timeouts and connection errors, honouring
``Retry-After``), objects go in and come out as plain dicts, and any failure
is a :class:`KubeError`: no exception type of the library or of its HTTP
client escapes. Watches are in ``watch``; this module holds the verbs.

Use it as an async context manager (or call :meth:`KubeClient.aclose`) so its
connections are released.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

from lightkube.types import PatchType as LightkubePatchType

from healthwatch.kube.adapter import open_client, resource_class
from healthwatch.kube.config import KubeConnection
from healthwatch.kube.errors import KubeError
from healthwatch.kube.resources import (
    ALL_NAMESPACES,
    KubeObject,
    ObjectList,
    PatchType,
    ResourceKind,
)
from healthwatch.kube.retry import RetryPolicy, Sleep, call_with_retries
from healthwatch.kube.translate import translate
from healthwatch.kube.watch import Watch

__all__ = ["KubeClient"]

T = TypeVar("T")


def _plain(obj: Any) -> KubeObject:
    """A library object (a dict subclass) as a plain dict."""
    return dict(obj) if obj is not None else {}


class KubeClient:
    """Calls to one API server; every method raises only :class:`KubeError` on failure.

    ``namespace`` arguments default to the connection's namespace for
    namespaced kinds and are ignored for cluster-scoped ones.
    """

    def __init__(
        self,
        connection: KubeConnection,
        *,
        policy: RetryPolicy | None = None,
        field_manager: str = "healthwatch",
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.connection = connection
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        try:
            self._client: Any = open_client(
                connection, timeout=self.policy.timeout, field_manager=field_manager
            )
        except Exception as error:
            raise translate(error, f"connect to {connection.server}") from error
        self._closed = False

    @property
    def namespace(self) -> str:
        """The namespace used when a call names none."""
        return self.connection.namespace

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connections; the client cannot be used afterwards."""
        if not self._closed:
            self._closed = True
            await self._client.close()

    def _namespace(self, kind: ResourceKind, namespace: str | None) -> str | None:
        if not kind.namespaced:
            return None
        return namespace or self.connection.namespace

    async def _call(self, operation: str, attempt: Callable[[], Awaitable[T]]) -> T:
        async def translated() -> T:
            try:
                return await attempt()
            except (KubeError, TimeoutError):  # ours already, or the deadline (retried)
                raise
            except Exception as error:
                raise translate(error, operation) from error

        if self._closed:
            raise KubeError("the client is closed", reason="Closed", operation=operation)
        return await call_with_retries(
            translated, operation=operation, policy=self.policy, sleep=self._sleep, rng=self._rng
        )

    @staticmethod
    def _where(kind: ResourceKind, name: str, namespace: str | None, sub: str | None) -> str:
        path = f"{kind}/{name}" + (f"/{sub}" if sub else "")
        return f"{path} in {namespace}" if namespace else path

    async def get(
        self,
        kind: ResourceKind,
        name: str,
        *,
        namespace: str | None = None,
        subresource: str | None = None,
    ) -> KubeObject:
        """One object (or its ``status`` subresource); :class:`KubeNotFound` if absent."""
        ns = self._namespace(kind, namespace)
        res = resource_class(kind, subresource)
        where = self._where(kind, name, ns, subresource)
        return _plain(
            await self._call(f"get {where}", lambda: self._client.get(res, name, namespace=ns))
        )

    async def list(
        self,
        kind: ResourceKind,
        *,
        namespace: str | None = None,
        labels: Mapping[str, str] | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> ObjectList:
        """Every object of ``kind`` matching equality selectors on labels and fields.

        ``namespace=ALL_NAMESPACES`` lists a namespaced kind across namespaces.
        """
        ns = namespace if namespace == ALL_NAMESPACES else self._namespace(kind, namespace)
        res = resource_class(kind)

        async def attempt() -> ObjectList:
            listing = self._client.list(
                res,
                namespace=ns,
                labels=dict(labels) if labels else None,
                fields=dict(fields) if fields else None,
            )
            items = [_plain(item) async for item in listing]
            for item in items:
                item.setdefault("apiVersion", kind.api_version)
                item.setdefault("kind", kind.kind)
            version = listing._resourceVersion or ""
            return ObjectList(items=items, resource_version=version)

        where = f"{kind} in {ns}" if ns and ns != ALL_NAMESPACES else str(kind)
        return await self._call(f"list {where}", attempt)

    async def create(
        self, kind: ResourceKind, obj: Mapping[str, Any], *, namespace: str | None = None
    ) -> KubeObject:
        """Create ``obj``; :class:`KubeAlreadyExists` if the name is taken."""
        body = self._body(kind, obj)
        ns = self._namespace(kind, namespace or body.get("metadata", {}).get("namespace"))
        if ns is not None:
            body["metadata"] = {**body.get("metadata", {}), "namespace": ns}
        instance = resource_class(kind)(body)
        name = body.get("metadata", {}).get("name") or body.get("metadata", {}).get(
            "generateName", ""
        )
        where = self._where(kind, str(name), ns, None)
        return _plain(
            await self._call(f"create {where}", lambda: self._client.create(instance, namespace=ns))
        )

    async def replace(
        self,
        kind: ResourceKind,
        obj: Mapping[str, Any],
        *,
        namespace: str | None = None,
        subresource: str | None = None,
    ) -> KubeObject:
        """Replace ``obj`` (PUT); :class:`KubeConflict` when its ``resourceVersion`` is stale.

        With ``subresource="status"`` only the status is written.
        """
        body = self._body(kind, obj)
        metadata = body.get("metadata", {})
        name = str(metadata.get("name") or "")
        if not name:
            raise KubeError("the object has no metadata.name", reason="BadRequest")
        ns = self._namespace(kind, namespace or metadata.get("namespace"))
        if ns is not None:
            body["metadata"] = {**metadata, "namespace": ns}
        instance = resource_class(kind, subresource)(body)
        where = self._where(kind, name, ns, subresource)
        return _plain(
            await self._call(
                f"replace {where}", lambda: self._client.replace(instance, name, namespace=ns)
            )
        )

    async def patch(
        self,
        kind: ResourceKind,
        name: str,
        patch: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        namespace: str | None = None,
        patch_type: PatchType = PatchType.STRATEGIC,
        subresource: str | None = None,
    ) -> KubeObject:
        """Patch one object (or its ``status`` subresource); returns the object after the patch.

        A ``metadata.resourceVersion`` in a merge patch makes it conditional
        (:class:`KubeConflict` when stale); a JSON patch may ``test`` values.
        """
        ns = self._namespace(kind, namespace)
        res = resource_class(kind, subresource)
        body: Any = dict(patch) if isinstance(patch, Mapping) else [dict(op) for op in patch]
        lightkube_type = LightkubePatchType(patch_type.value)
        where = self._where(kind, name, ns, subresource)
        return _plain(
            await self._call(
                f"patch {where}",
                lambda: self._client.patch(
                    res, name, body, namespace=ns, patch_type=lightkube_type
                ),
            )
        )

    async def patch_status(
        self,
        kind: ResourceKind,
        name: str,
        patch: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        namespace: str | None = None,
        patch_type: PatchType = PatchType.STRATEGIC,
    ) -> KubeObject:
        """Patch the ``status`` subresource (node conditions, a custom resource's status)."""
        return await self.patch(
            kind, name, patch, namespace=namespace, patch_type=patch_type, subresource="status"
        )

    async def delete(self, kind: ResourceKind, name: str, *, namespace: str | None = None) -> None:
        """Delete one object; :class:`KubeNotFound` if it is already gone."""
        ns = self._namespace(kind, namespace)
        res = resource_class(kind)
        where = self._where(kind, name, ns, None)
        await self._call(f"delete {where}", lambda: self._client.delete(res, name, namespace=ns))

    def watch(
        self,
        kind: ResourceKind,
        *,
        namespace: str | None = None,
        resource_version: str | None = None,
        labels: Mapping[str, str] | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> Watch:
        """Changes to objects of ``kind``, as an async iterator of :class:`WatchEvent`.

        Without ``resource_version`` the current objects come first as ADDED
        (list, then watch from the list's version). Dropped streams resume from
        the latest version seen; an expired version (410) re-lists and yields
        the differences. Close it (``async with`` or ``aclose()``) when done.
        """
        ns = namespace if namespace == ALL_NAMESPACES else self._namespace(kind, namespace)
        return Watch(
            self,
            kind,
            namespace=ns,
            resource_version=resource_version,
            labels=dict(labels) if labels else None,
            fields=dict(fields) if fields else None,
        )

    @staticmethod
    def _body(kind: ResourceKind, obj: Mapping[str, Any]) -> dict[str, Any]:
        body = dict(obj)
        body.setdefault("apiVersion", kind.api_version)
        body.setdefault("kind", kind.kind)
        metadata = body.get("metadata")
        body["metadata"] = dict(metadata) if isinstance(metadata, Mapping) else {}
        return body
