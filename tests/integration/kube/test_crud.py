"""Get, list, create, replace and delete through the real client against the fake API server."""

from __future__ import annotations

import pytest

from healthwatch.kube import (
    ALL_NAMESPACES,
    EVENT,
    EVENTS_V1_EVENT,
    NAMESPACE,
    NODE,
    POD,
    KubeAlreadyExists,
    KubeClient,
    KubeInvalid,
    KubeNotFound,
)
from healthwatch.testing.kubefake import FakeKubeAPI


async def test_node_lifecycle(client: KubeClient, fake: FakeKubeAPI) -> None:
    created = await client.create(
        NODE, {"metadata": {"name": "n1", "labels": {"pool": "gpu"}}, "spec": {}}
    )
    assert created["apiVersion"] == "v1" and created["kind"] == "Node"
    metadata = created["metadata"]
    assert metadata["uid"] and metadata["creationTimestamp"].endswith("Z")
    assert int(metadata["resourceVersion"]) == fake.resource_version

    fetched = await client.get(NODE, "n1")
    assert fetched == created

    fetched["metadata"]["labels"]["pool"] = "cpu"
    replaced = await client.replace(NODE, fetched)
    assert replaced["metadata"]["labels"] == {"pool": "cpu"}
    assert int(replaced["metadata"]["resourceVersion"]) > int(metadata["resourceVersion"])
    assert replaced["metadata"]["uid"] == metadata["uid"]

    await client.create(NODE, {"metadata": {"name": "n2"}})
    listing = await client.list(NODE)
    assert [n["metadata"]["name"] for n in listing.items] == ["n1", "n2"]
    assert all(n["kind"] == "Node" for n in listing.items)
    assert listing.resource_version == str(fake.resource_version)
    assert [
        n["metadata"]["name"] for n in (await client.list(NODE, labels={"pool": "cpu"})).items
    ] == ["n1"]
    by_name = await client.list(NODE, fields={"metadata.name": "n2"})
    assert [n["metadata"]["name"] for n in by_name.items] == ["n2"]

    await client.delete(NODE, "n1")
    with pytest.raises(KubeNotFound) as caught:
        await client.get(NODE, "n1")
    assert caught.value.code == 404 and caught.value.reason == "NotFound"
    with pytest.raises(KubeNotFound):
        await client.delete(NODE, "n1")
    assert fake.get_object("nodes", "n1") is None
    assert fake.get_object("nodes", "n2") is not None


async def test_create_of_a_taken_name(client: KubeClient) -> None:
    await client.create(NODE, {"metadata": {"name": "n1"}})
    with pytest.raises(KubeAlreadyExists) as caught:
        await client.create(NODE, {"metadata": {"name": "n1"}})
    assert (caught.value.code, caught.value.reason) == (409, "AlreadyExists")


async def test_namespaced_objects(client: KubeClient, fake: FakeKubeAPI) -> None:
    pod = await client.create(
        POD,
        {
            "metadata": {"generateName": "check-"},
            "spec": {"containers": []},
            "status": {"phase": "Running"},
        },
    )
    assert pod["metadata"]["name"].startswith("check-")
    assert pod["metadata"]["namespace"] == "default"
    assert pod["status"] == {"phase": "Pending"}  # a new pod is pending, whatever was sent
    await client.create(NAMESPACE, {"metadata": {"name": "checks"}})
    await client.create(POD, {"metadata": {"name": "p"}}, namespace="checks")
    assert len((await client.list(POD)).items) == 1
    everywhere = await client.list(POD, namespace=ALL_NAMESPACES)
    assert sorted(p["metadata"]["namespace"] for p in everywhere.items) == ["checks", "default"]
    with pytest.raises(KubeNotFound, match='namespaces "nowhere" not found'):
        await client.create(POD, {"metadata": {"name": "p"}}, namespace="nowhere")
    await client.delete(NAMESPACE, "checks")  # takes its contents along
    assert fake.objects("pods", "checks") == []


async def test_events_in_both_groups(client: KubeClient, fake: FakeKubeAPI) -> None:
    core = await client.create(
        EVENT,
        {
            "metadata": {"name": "n1.kernel-deadlock"},
            "involvedObject": {"kind": "Node", "name": "n1"},
            "reason": "KernelOops",
            "type": "Warning",
            "count": 1,
        },
    )
    assert core["apiVersion"] == "v1"
    new = await client.create(
        EVENTS_V1_EVENT,
        {
            "metadata": {"name": "n1.oops"},
            "regarding": {"kind": "Node", "name": "n1"},
            "reason": "KernelOops",
            "note": "BUG: unable to handle kernel NULL pointer dereference",
            "reportingController": "healthwatch.io/agent",
            "reportingInstance": "n1",
            "action": "Detected",
            "type": "Warning",
            "eventTime": "2026-01-01T00:00:00.000000Z",
        },
    )
    assert new["apiVersion"] == "events.k8s.io/v1"
    warnings = await client.list(EVENT, fields={"involvedObject.name": "n1", "type": "Warning"})
    assert [e["reason"] for e in warnings.items] == ["KernelOops"]
    assert [e["metadata"]["name"] for e in fake.objects("events.events.k8s.io")] == ["n1.oops"]


async def test_invalid_objects_are_refused(client: KubeClient) -> None:
    with pytest.raises(KubeInvalid) as caught:
        await client.create(NODE, {"metadata": {"name": "Not_A_Name"}})
    assert caught.value.code == 422
    with pytest.raises(KubeInvalid):
        await client.create(NODE, {"metadata": {}})


async def test_an_unchanged_replace_keeps_the_version(
    client: KubeClient, fake: FakeKubeAPI
) -> None:
    node = await client.create(NODE, {"metadata": {"name": "n1"}, "spec": {"unschedulable": True}})
    before = fake.resource_version
    again = await client.replace(NODE, node)
    assert again["metadata"]["resourceVersion"] == node["metadata"]["resourceVersion"]
    assert fake.resource_version == before


async def test_finalizers_delay_deletion(client: KubeClient, fake: FakeKubeAPI) -> None:
    await client.create(POD, {"metadata": {"name": "p", "finalizers": ["healthwatch.io/reap"]}})
    await client.delete(POD, "p")
    marked = await client.get(POD, "p")
    assert marked["metadata"]["deletionTimestamp"]
    marked["metadata"]["finalizers"] = []
    await client.replace(POD, marked)
    assert fake.get_object("pods", "p", "default") is None


async def test_the_request_log(client: KubeClient, fake: FakeKubeAPI) -> None:
    await client.create(NODE, {"metadata": {"name": "n1"}})
    (post,) = fake.requests("POST", "/nodes")
    assert post.path == "/api/v1/nodes"
    assert post.content_type == "application/json"
    assert post.json()["metadata"] == {"name": "n1"}
    assert post.query.get("fieldManager") == "healthwatch"
