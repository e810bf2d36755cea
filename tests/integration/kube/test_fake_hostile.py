"""Hostile and malformed requests to the fake API server: each gets a Status, none a crash."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from healthwatch.testing.kubefake import FakeKubeAPI

NODE_URL = "/api/v1/nodes"
STRATEGIC = "application/strategic-merge-patch+json"
JSON_PATCH = "application/json-patch+json"


@pytest.fixture
async def http(fake: FakeKubeAPI) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        base_url=fake.url, timeout=aiohttp.ClientTimeout(total=10)
    ) as session:
        yield session


async def call(
    http: aiohttp.ClientSession,
    method: str,
    path: str,
    body: bytes | io.BytesIO | None = None,
    content_type: str = "application/json",
) -> tuple[int, dict[str, Any]]:
    async with http.request(
        method, path, data=body, headers={"Content-Type": content_type}
    ) as response:
        assert response.headers["Content-Type"] == "application/json"
        return response.status, json.loads(await response.read())


def assert_status(answer: tuple[int, dict[str, Any]], code: int, reason: str) -> None:
    status, body = answer
    assert status == code, body
    assert body["kind"] == "Status" and body["status"] == "Failure"
    assert (body["code"], body["reason"]) == (code, reason)
    assert body["message"]


@pytest.fixture
async def node(http: aiohttp.ClientSession) -> dict[str, Any]:
    status, body = await call(
        http, "POST", NODE_URL, json.dumps({"metadata": {"name": "n1"}}).encode()
    )
    assert status == 201
    return body


@pytest.mark.parametrize(
    ("body", "code", "reason"),
    [
        (b"{not json", 400, "BadRequest"),
        (b"[1, 2]", 400, "BadRequest"),
        (b'{"metadata": []}', 400, "BadRequest"),
        (b'{"apiVersion": "v2", "metadata": {"name": "x"}}', 400, "BadRequest"),
        (b'{"kind": "Pod", "metadata": {"name": "x"}}', 400, "BadRequest"),
        (b'{"metadata": {"name": "UPPER"}}', 422, "Invalid"),
        (b'{"metadata": {"name": "a/b"}}', 422, "Invalid"),
        (b'{"metadata": {"name": 7}}', 422, "Invalid"),
        (b'{"metadata": {"name": "' + b"a" * 300 + b'"}}', 422, "Invalid"),
        (b"[" * 100_000, 400, "BadRequest"),
    ],
)
async def test_bad_creates(
    http: aiohttp.ClientSession, body: bytes, code: int, reason: str
) -> None:
    assert_status(await call(http, "POST", NODE_URL, body), code, reason)


@pytest.mark.parametrize(
    ("body", "content_type", "code", "reason"),
    [
        (b"{broken", STRATEGIC, 400, "BadRequest"),
        (b"[]", STRATEGIC, 400, "BadRequest"),
        (b'{"status": {"conditions": [{"status": "True"}]}}', STRATEGIC, 400, "BadRequest"),
        (b'{"metadata": {"name": "other"}}', STRATEGIC, 400, "BadRequest"),
        (b'{"op": "add"}', JSON_PATCH, 400, "BadRequest"),
        (b'[{"op": "add", "path": "/x"}]', JSON_PATCH, 400, "BadRequest"),
        (b'[{"op": "remove", "path": "/nope"}]', JSON_PATCH, 422, "Invalid"),
        (b'[{"op": "test", "path": "/metadata/name", "value": "n2"}]', JSON_PATCH, 422, "Invalid"),
        (b'[{"op": "replace", "path": "", "value": 1}]', JSON_PATCH, 422, "Invalid"),
        (b'[{"op": "remove", "path": "/metadata"}]', JSON_PATCH, 422, "Invalid"),
        (b"{}", "application/apply-patch+yaml", 415, "UnsupportedMediaType"),
        (b"{}", "text/plain", 415, "UnsupportedMediaType"),
        (
            b'{"metadata": {"resourceVersion": "1"}}',
            "application/merge-patch+json",
            409,
            "Conflict",
        ),
    ],
)
async def test_bad_patches(
    http: aiohttp.ClientSession,
    *,
    fake: FakeKubeAPI,
    node: dict[str, Any],
    body: bytes,
    content_type: str,
    code: int,
    reason: str,
) -> None:
    before = fake.get_object("nodes", "n1")
    assert_status(await call(http, "PATCH", f"{NODE_URL}/n1", body, content_type), code, reason)
    assert fake.get_object("nodes", "n1") == before


@pytest.mark.parametrize(
    ("method", "path", "code", "reason"),
    [
        ("GET", "/api/v1/widgets", 404, "NotFound"),
        ("GET", "/api/v2/nodes", 404, "NotFound"),
        ("GET", "/apis/example.com/v1/things", 404, "NotFound"),
        ("GET", "/api/v1/nodes/n1/scale", 404, "NotFound"),
        ("GET", "/api/v1/nodes/n1/status/extra", 404, "NotFound"),
        ("GET", "/api/v1/pods/p", 404, "NotFound"),
        ("GET", "/api/v1/events/e/status", 404, "NotFound"),
        ("GET", "/healthz/../../etc/passwd", 404, "NotFound"),
        ("GET", "/api/v1/nodes?labelSelector=a%20in%20((b))", 400, "BadRequest"),
        ("GET", "/api/v1/nodes?fieldSelector=metadata.name", 400, "BadRequest"),
        ("GET", "/api/v1/nodes?watch=true&resourceVersion=abc", 400, "BadRequest"),
        ("GET", "/api/v1/nodes?watch=true&timeoutSeconds=-1", 400, "BadRequest"),
        ("PUT", "/api/v1/nodes", 405, "MethodNotAllowed"),
        ("DELETE", "/api/v1/nodes", 405, "MethodNotAllowed"),
        ("POST", "/api/v1/nodes/n1", 405, "MethodNotAllowed"),
        ("OPTIONS", "/api/v1/nodes/n1", 405, "MethodNotAllowed"),
        ("POST", "/api/v1/pods", 404, "NotFound"),
    ],
)
async def test_bad_paths_and_parameters(
    http: aiohttp.ClientSession,
    *,
    node: dict[str, Any],
    method: str,
    path: str,
    code: int,
    reason: str,
) -> None:
    assert_status(await call(http, method, path, b"{}"), code, reason)


async def test_replace_checks_name_and_version(
    http: aiohttp.ClientSession, node: dict[str, Any]
) -> None:
    renamed = {**node, "metadata": {**node["metadata"], "name": "n2"}}
    assert_status(
        await call(http, "PUT", f"{NODE_URL}/n1", json.dumps(renamed).encode()), 400, "BadRequest"
    )
    stale = {**node, "metadata": {**node["metadata"], "resourceVersion": "1"}}
    assert_status(
        await call(http, "PUT", f"{NODE_URL}/n1", json.dumps(stale).encode()), 409, "Conflict"
    )
    assert_status(
        await call(http, "PUT", f"{NODE_URL}/absent", json.dumps(node).encode()), 404, "NotFound"
    )


async def test_oversized_body(http: aiohttp.ClientSession) -> None:
    body = b'{"metadata": {"name": "big"}, "data": "' + b"x" * (4 * 1024 * 1024) + b'"}'
    answer = await call(http, "POST", NODE_URL, io.BytesIO(body))
    assert_status(answer, 413, "RequestEntityTooLarge")


async def test_a_too_old_watch_gets_an_error_event(
    http: aiohttp.ClientSession, fake: FakeKubeAPI
) -> None:
    fake.compact()
    await call(http, "POST", NODE_URL, b'{"metadata": {"name": "n1"}}')
    async with http.get(f"{NODE_URL}?watch=true&resourceVersion=1") as response:
        assert response.status == 200
        lines = (await response.read()).splitlines()
    (event,) = [json.loads(line) for line in lines]
    assert event["type"] == "ERROR"
    assert (event["object"]["code"], event["object"]["reason"]) == (410, "Expired")


async def test_discovery(http: aiohttp.ClientSession, fake: FakeKubeAPI) -> None:
    fake.register_custom_resource(
        group="healthwatch.io", version="v1alpha1", kind="HealthCheck", plural="healthchecks"
    )
    status, version = await call(http, "GET", "/version")
    assert status == 200 and version["major"] == "1"
    assert (await call(http, "GET", "/api"))[1]["versions"] == ["v1"]
    groups = {g["name"] for g in (await call(http, "GET", "/apis"))[1]["groups"]}
    assert groups == {"coordination.k8s.io", "events.k8s.io", "healthwatch.io"}
    core = (await call(http, "GET", "/api/v1"))[1]
    names = {r["name"] for r in core["resources"]}
    assert {"nodes", "nodes/status", "pods", "pods/status", "events", "namespaces"} <= names
    custom = (await call(http, "GET", "/apis/healthwatch.io/v1alpha1"))[1]
    assert {r["name"] for r in custom["resources"]} == {"healthchecks", "healthchecks/status"}


async def test_dry_run_stores_nothing(http: aiohttp.ClientSession, fake: FakeKubeAPI) -> None:
    status, body = await call(
        http, "POST", f"{NODE_URL}?dryRun=All", b'{"metadata": {"name": "dry"}}'
    )
    assert status == 201 and body["metadata"]["name"] == "dry"
    assert fake.get_object("nodes", "dry") is None
