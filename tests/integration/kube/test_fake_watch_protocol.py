"""The fake API server's watch protocol on the wire: replay, selectors, bookmarks, overflow."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from healthwatch.testing.kubefake import FakeKubeAPI

PODS = "/api/v1/namespaces/default/pods"


@pytest.fixture
async def http(fake: FakeKubeAPI) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(
        base_url=fake.url, timeout=aiohttp.ClientTimeout(total=10)
    ) as session:
        yield session


async def create(http: aiohttp.ClientSession, name: str, labels: dict[str, str]) -> dict[str, Any]:
    body = {"metadata": {"name": name, "labels": labels}}
    async with http.post(PODS, json=body) as response:
        assert response.status == 201
        created: dict[str, Any] = await response.json()
        return created


async def read_events(response: aiohttp.ClientResponse, count: int) -> list[dict[str, Any]]:
    events = []
    for _ in range(count):
        line = await asyncio.wait_for(response.content.readline(), timeout=5)
        events.append(json.loads(line))
    return events


async def test_replay_from_a_version_with_selectors(http: aiohttp.ClientSession) -> None:
    first = await create(http, "a", {"app": "x"})
    await create(http, "b", {"app": "y"})
    await create(http, "c", {"app": "x"})
    version = first["metadata"]["resourceVersion"]
    query = f"?watch=true&resourceVersion={version}&labelSelector=app%3Dx&timeoutSeconds=1"
    async with http.get(PODS + query) as response:
        assert response.headers["Content-Type"] == "application/json"
        lines = (await response.read()).splitlines()  # ends by itself after timeoutSeconds
    events = [json.loads(line) for line in lines]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [("ADDED", "c")]
    assert events[0]["object"]["kind"] == "Pod"


async def test_without_a_version_the_current_objects_come_first(
    http: aiohttp.ClientSession, fake: FakeKubeAPI
) -> None:
    await create(http, "a", {})
    async with http.get(PODS + "?watch=1&allowWatchBookmarks=true") as response:
        (added,) = await read_events(response, 1)
        assert (added["type"], added["object"]["metadata"]["name"]) == ("ADDED", "a")
        await create(http, "b", {})
        async with http.delete(f"{PODS}/a") as deleted:
            assert deleted.status == 200
        assert fake.send_bookmarks() == 1
        events = await read_events(response, 3)
        assert [e["type"] for e in events] == ["ADDED", "DELETED", "BOOKMARK"]
        assert events[2]["object"]["metadata"] == {"resourceVersion": str(fake.resource_version)}
        assert fake.close_watches() == 1
        assert await response.content.read() == b""


async def test_a_watcher_that_falls_behind_is_ended() -> None:
    async with (
        FakeKubeAPI(watch_queue_limit=2) as fake,
        aiohttp.ClientSession(base_url=fake.url) as http,
    ):
        async with http.get(PODS + "?watch=true&resourceVersion=1") as response:
            for _ in range(50):
                if fake.watch_count:
                    break
                await asyncio.sleep(0.01)
            for index in range(5):  # more than the queue holds, before the stream reads any
                fake.put_object(
                    {
                        "apiVersion": "v1",
                        "kind": "Pod",
                        "metadata": {"name": f"p{index}", "namespace": "default"},
                    }
                )
            lines = (await asyncio.wait_for(response.read(), timeout=5)).splitlines()
        names = [json.loads(line)["object"]["metadata"]["name"] for line in lines]
        assert names == ["p0", "p1"]  # what fitted, in order; the client resumes after p1
        assert fake.errors == []


async def test_namespace_scoped_watch(http: aiohttp.ClientSession, fake: FakeKubeAPI) -> None:
    fake.put_object({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "other"}})
    async with (
        http.get("/api/v1/pods?watch=true") as everywhere,
        http.get(PODS + "?watch=true") as scoped,
    ):
        for _ in range(50):
            if fake.watch_count == 2:
                break
            await asyncio.sleep(0.01)
        fake.put_object(
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "o", "namespace": "other"}}
        )
        await create(http, "d", {})
        names = [e["object"]["metadata"]["name"] for e in await read_events(everywhere, 2)]
        assert names == ["o", "d"]
        (only,) = await read_events(scoped, 1)
        assert only["object"]["metadata"]["name"] == "d"
