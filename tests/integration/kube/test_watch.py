"""Watches through the real client: events, resuming after a dropped stream, re-list on 410."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from healthwatch.kube import (
    NODE,
    POD,
    KubeClient,
    KubeUnavailable,
    RetryPolicy,
    Watch,
    WatchEvent,
    WatchEventType,
    from_url,
)
from healthwatch.testing.kubefake import FakeKubeAPI, Fault

ADDED, MODIFIED, DELETED = WatchEventType.ADDED, WatchEventType.MODIFIED, WatchEventType.DELETED


async def next_event(watch: Watch) -> WatchEvent:
    return await asyncio.wait_for(anext(watch), timeout=5)


def seen(event: WatchEvent) -> tuple[WatchEventType, str]:
    return event.type, event.object["metadata"]["name"]


class Reader:
    """Reads a watch in a background task, so the stream stays open between assertions."""

    def __init__(self, watch: Watch) -> None:
        self.watch = watch
        self.events: asyncio.Queue[WatchEvent] = asyncio.Queue()
        self.task = asyncio.create_task(self._read(), name="test-watch-reader")

    async def _read(self) -> None:
        async for event in self.watch:
            self.events.put_nowait(event)

    async def next(self) -> WatchEvent:
        return await asyncio.wait_for(self.events.get(), timeout=5)

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.watch.aclose()


async def wait_for_watchers(fake: FakeKubeAPI, count: int = 1) -> None:
    for _ in range(500):
        if fake.watch_count >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no watch connected")


async def test_added_modified_deleted(client: KubeClient) -> None:
    await client.create(NODE, {"metadata": {"name": "n1"}})
    async with client.watch(NODE) as watch:
        first = await next_event(watch)
        assert seen(first) == (ADDED, "n1") and not first.relisted
        assert first.object["kind"] == "Node"
        await client.create(NODE, {"metadata": {"name": "n2"}})
        await client.patch(NODE, "n1", {"metadata": {"labels": {"a": "b"}}})
        await client.delete(NODE, "n2")
        events = [await next_event(watch) for _ in range(3)]
        assert [seen(e) for e in events] == [(ADDED, "n2"), (MODIFIED, "n1"), (DELETED, "n2")]
        assert events[1].object["metadata"]["labels"] == {"a": "b"}
        assert watch.resource_version == events[2].object["metadata"]["resourceVersion"]


async def test_resumes_after_a_dropped_connection(client: KubeClient, fake: FakeKubeAPI) -> None:
    reader = Reader(client.watch(NODE))
    try:
        await client.create(NODE, {"metadata": {"name": "n1"}})
        assert seen(await reader.next()) == (ADDED, "n1")
        await wait_for_watchers(fake)
        assert fake.drop_watches() == 1
        await client.create(NODE, {"metadata": {"name": "n2"}})  # maybe while no stream is open
        await client.delete(NODE, "n1")
        assert [seen(await reader.next()) for _ in range(2)] == [(ADDED, "n2"), (DELETED, "n1")]
        assert reader.watch.reconnects >= 1 and reader.watch.relists == 0
        await wait_for_watchers(fake)
        fake.close_watches()  # a clean end (the server-side timeout) resumes too
        await client.create(NODE, {"metadata": {"name": "n3"}})
        assert seen(await reader.next()) == (ADDED, "n3")
        assert reader.events.empty()  # nothing twice
    finally:
        await reader.stop()
    watches = [r for r in fake.requests("GET", "/nodes") if r.is_watch]
    resumed = [int(r.query["resourceVersion"]) for r in watches]
    assert len(resumed) >= 3 and resumed == sorted(resumed)


async def test_an_expired_version_relists(client: KubeClient, fake: FakeKubeAPI) -> None:
    stays = await client.create(NODE, {"metadata": {"name": "stays"}})
    await client.create(NODE, {"metadata": {"name": "goes"}})
    reader = Reader(client.watch(NODE, resource_version=stays["metadata"]["resourceVersion"]))
    try:
        assert seen(await reader.next()) == (ADDED, "goes")
        await wait_for_watchers(fake)
        fake.inject(Fault(watch=True, delay=0.3))  # hold the reconnection back a little
        fake.drop_watches()
        await client.delete(NODE, "goes")
        await client.patch(NODE, "stays", {"metadata": {"labels": {"x": "y"}}})
        await client.create(NODE, {"metadata": {"name": "new"}})
        fake.compact()  # the changes above cannot be replayed: 410, then a re-list
        events = [await reader.next() for _ in range(3)]
        assert {seen(e) for e in events} == {(ADDED, "stays"), (ADDED, "new"), (DELETED, "goes")}
        assert all(e.relisted for e in events)
        assert reader.watch.relists == 1
        await client.create(NODE, {"metadata": {"name": "after"}})
        after = await reader.next()
        assert seen(after) == (ADDED, "after") and not after.relisted
    finally:
        await reader.stop()


async def test_relist_reports_only_differences(client: KubeClient, fake: FakeKubeAPI) -> None:
    await client.create(NODE, {"metadata": {"name": "same"}})
    await client.create(NODE, {"metadata": {"name": "changed"}})
    reader = Reader(client.watch(NODE))
    try:
        assert {seen(await reader.next()) for _ in range(2)} == {
            (ADDED, "same"),
            (ADDED, "changed"),
        }
        await wait_for_watchers(fake)
        fake.inject(Fault(watch=True, delay=0.2, status=410, as_watch_event=True))
        fake.drop_watches()
        await client.patch(NODE, "changed", {"metadata": {"labels": {"v": "2"}}})
        event = await reader.next()
        assert seen(event) == (MODIFIED, "changed") and event.relisted
        assert reader.watch.relists == 1
        await client.delete(NODE, "same")
        assert seen(await reader.next()) == (DELETED, "same")
        assert reader.events.empty()
    finally:
        await reader.stop()


async def test_http_410_on_watch_also_relists(client: KubeClient, fake: FakeKubeAPI) -> None:
    reader = Reader(client.watch(NODE))
    try:
        await wait_for_watchers(fake)
        fake.inject(Fault(watch=True, status=410, delay=0.2))
        fake.drop_watches()
        await client.create(NODE, {"metadata": {"name": "n2"}})
        event = await reader.next()
        assert seen(event) == (ADDED, "n2") and event.relisted
    finally:
        await reader.stop()


async def test_filters_and_namespaces(client: KubeClient) -> None:
    async with client.watch(POD, labels={"app": "check"}) as watch:
        await client.create(POD, {"metadata": {"name": "other", "labels": {"app": "web"}}})
        await client.create(POD, {"metadata": {"name": "mine", "labels": {"app": "check"}}})
        event = await next_event(watch)
        assert seen(event) == (ADDED, "mine")
        assert event.object["metadata"]["namespace"] == "default"


async def test_put_objects_reach_watchers(client: KubeClient, fake: FakeKubeAPI) -> None:
    reader = Reader(client.watch(NODE))
    try:
        await wait_for_watchers(fake)
        await client.create(POD, {"metadata": {"name": "p"}})  # moves the global version only
        fake.put_object({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n2"}})
        assert seen(await reader.next()) == (ADDED, "n2")
        assert reader.watch.resource_version == str(fake.resource_version)
        assert fake.send_bookmarks() == 0  # this client does not ask for bookmarks
    finally:
        await reader.stop()


async def test_a_watch_gives_up_when_the_server_stays_down(fake: FakeKubeAPI) -> None:
    policy = RetryPolicy(timeout=1.0, attempts=3, backoff_initial=0.01, backoff_max=0.02)
    async with (
        KubeClient(from_url(fake.url), policy=policy) as client,
        client.watch(NODE, resource_version="1") as watch,
    ):
        fake.inject(Fault(watch=True, status=503, times=10))
        with pytest.raises(KubeUnavailable, match=r"gave up after 3 tries") as caught:
            await next_event(watch)
        assert caught.value.code == 503


async def test_a_silent_stream_is_treated_as_dead(fake: FakeKubeAPI) -> None:
    policy = RetryPolicy(timeout=0.2, attempts=2, backoff_initial=0.01, watch_timeout=1)
    async with (
        KubeClient(from_url(fake.url), policy=policy) as client,
        client.watch(NODE, resource_version="1") as watch,
    ):
        fake.inject(Fault(watch=True, delay=5, times=5))  # connects, then never answers
        with pytest.raises(KubeUnavailable, match="silent"):
            await asyncio.wait_for(anext(watch), timeout=10)
