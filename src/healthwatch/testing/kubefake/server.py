"""A Kubernetes API server for tests: the REST protocol over real HTTP on loopback.

:class:`FakeKubeAPI` serves nodes (and their ``status``), namespaces, pods,
events (core/v1 and events.k8s.io/v1), leases and any custom resource a test
registers, with resourceVersions, conflicts, strategic-merge/merge/JSON
patches, watches and 410 after a compaction, so a real client talks to it as
to a cluster. Tests script faults (:class:`Fault`), read the request log and
reach into the object store. ``docs/kubernetes-fake.md`` says exactly what is
and is not emulated.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import ssl
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from healthwatch.aio.clock import Clock, SystemClock
from healthwatch.testing.kubefake.access import StoreAccess, kubeconfig_text
from healthwatch.testing.kubefake.failures import FakeApiError, status_response
from healthwatch.testing.kubefake.faults import (
    Fault,
    FaultActions,
    FaultQueue,
    RecordedRequest,
    RequestLog,
)
from healthwatch.testing.kubefake.kinds import FakeResource, ResourceTable
from healthwatch.testing.kubefake.routes import (
    discovery_document,
    handle,
    json_response,
    parse_target,
)
from healthwatch.testing.kubefake.store import ObjectStore
from healthwatch.testing.kubefake.watchstream import serve_watch
from healthwatch.testing.kubefake.writes import Registry

__all__ = ["FakeKubeAPI"]

MAX_BODY = 3 * 1024 * 1024
"""The real API server's request size limit."""
DEFAULT_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


class FakeKubeAPI(StoreAccess):
    """An API server on ``host:port`` (port 0: the OS picks); use as an async context manager."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        clock: Clock | None = None,
        custom_resources: Iterable[FakeResource] = (),
        namespaces: Iterable[str] = DEFAULT_NAMESPACES,
        history_limit: int = 10_000,
        watch_queue_limit: int = 1_000,
        request_log_limit: int = 10_000,
    ) -> None:
        self.host = host
        self.port = port
        self.token = token
        """When set, requests must carry ``Authorization: Bearer <token>`` (else 401)."""
        self.ssl_context = ssl_context
        self.resources = ResourceTable()
        for resource in custom_resources:
            self.resources.add(resource)
        self.store = ObjectStore(history_limit=history_limit, queue_limit=watch_queue_limit)
        self.registry = Registry(self.store, clock=clock or SystemClock())
        self.faults = FaultQueue()
        self.log = RequestLog(request_log_limit)
        self.errors: list[BaseException] = []
        """Unexpected exceptions inside the fake (answered with 500): a test may assert none."""
        self._stopping = asyncio.Event()
        self._actions = FaultActions(self._stopping)
        self._runner: web.AppRunner | None = None
        self._address: tuple[str, int] | None = None
        namespace_type = self.resources.named("namespaces")
        for name in namespaces:
            self.registry.create(namespace_type, None, {"metadata": {"name": name}})

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """Base URL (``http://127.0.0.1:PORT``, or ``https://`` with TLS)."""
        if self._address is None:
            raise RuntimeError("the fake API server is not started")
        host, port = self._address
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"

    async def start(self) -> None:
        """Listen and serve."""
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            handler_cancellation=True,
            shutdown_timeout=1.0,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, ssl_context=self.ssl_context)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        self._address = (str(host), int(port))

    async def stop(self) -> None:
        """End every watch, stop serving, release the port."""
        self._stopping.set()
        self.store.end_watches("close")
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ serving

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        try:
            try:
                body = await request.read()
            except web.HTTPRequestEntityTooLarge:
                raise FakeApiError(413, f"the request is larger than {MAX_BODY} bytes") from None
            query = dict(request.query)
            content_type = request.headers.get("Content-Type", "")
            authorization = request.headers.get("Authorization")
            recorded = RecordedRequest(
                method=request.method,
                path=request.path,
                query=query,
                content_type=content_type,
                body=body,
                authorization=authorization,
            )
            self.log.add(recorded)
            if self.token is not None and authorization != f"Bearer {self.token}":
                raise FakeApiError(401, "Unauthorized")
            fault = self.faults.take(request.method, request.path, is_watch=recorded.is_watch)
            if fault is not None:
                answer = await self._actions.act(request, fault, is_watch=recorded.is_watch)
                if answer is not None:
                    return answer
            document = discovery_document(request.path, self.resources)
            if document is not None and request.method == "GET":
                return json_response(document)
            target = parse_target(request.path, self.resources)
            if target is None:
                raise FakeApiError(404, f"the server could not find {request.path[:200]!r}")
            if recorded.is_watch and request.method == "GET" and target.name is None:
                return await serve_watch(request, target, self.store, query)
            return handle(
                request.method,
                target,
                query=query,
                body=body,
                content_type=content_type,
                registry=self.registry,
            )
        except FakeApiError as failure:
            return status_response(failure)
        except (asyncio.CancelledError, ConnectionError):
            raise
        except Exception as error:  # a bug in the fake: answer 500, keep it for the test
            self.errors.append(error)
            return status_response(FakeApiError(500, f"fake API server error: {error!r}"))

    # ------------------------------------------------------------------ test controls

    def register_custom_resource(
        self,
        *,
        group: str,
        version: str,
        kind: str,
        plural: str,
        namespaced: bool = True,
        status_subresource: bool = True,
    ) -> FakeResource:
        """Serve a custom resource type (as if its CRD were installed)."""
        return self.resources.add(
            FakeResource(
                group=group,
                version=version,
                kind=kind,
                plural=plural,
                namespaced=namespaced,
                status_subresource=status_subresource,
                create_status="drop" if status_subresource else "keep",
                custom=True,
            )
        )

    def inject(self, fault: Fault | None = None, **options: Any) -> Fault:
        """Queue a fault (``inject(status=429, retry_after=1, times=2)``); returns it."""
        return self.faults.add(fault if fault is not None else Fault(**options))

    def requests(self, method: str | None = None, path: str | None = None) -> list[RecordedRequest]:
        """Recorded requests, optionally only those with ``method`` and ``path`` in their path."""
        return [
            r
            for r in self.log.all()
            if (method is None or r.method == method.upper()) and (path is None or path in r.path)
        ]

    def write_kubeconfig(
        self,
        path: str | os.PathLike[str],
        *,
        namespace: str = "default",
        ca_file: str | os.PathLike[str] | None = None,
        context: str = "fake",
    ) -> Path:
        """Write a kubeconfig pointing at this server (with its token, if any); returns the path."""
        file = Path(path)
        file.write_text(
            kubeconfig_text(
                self.url, namespace=namespace, token=self.token, ca_file=ca_file, context=context
            ),
            encoding="utf-8",
        )
        with contextlib.suppress(OSError):
            file.chmod(0o600)
        return file
