"""Patching through the real client: node conditions merged by type, conflicts, three formats."""

from __future__ import annotations

import pytest

from healthwatch.kube import (
    LEASE,
    NODE,
    POD,
    KubeClient,
    KubeConflict,
    KubeError,
    KubeInvalid,
    PatchType,
)
from healthwatch.testing.kubefake import FakeKubeAPI

KUBELET_CONDITIONS = [
    {"type": "Ready", "status": "True", "reason": "KubeletReady"},
    {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory"},
]


async def test_status_conditions_merge_by_type(client: KubeClient, fake: FakeKubeAPI) -> None:
    fake.put_object(
        {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "n1"},
            "spec": {},
            "status": {"conditions": KUBELET_CONDITIONS, "capacity": {"cpu": "8"}},
        }
    )
    ours = {"type": "KernelDeadlock", "status": "False", "reason": "KernelHasNoDeadlock"}
    patched = await client.patch_status(NODE, "n1", {"status": {"conditions": [ours]}})
    assert patched["status"]["conditions"] == [*KUBELET_CONDITIONS, ours]
    assert patched["status"]["capacity"] == {"cpu": "8"}

    changed = {**ours, "status": "True", "reason": "DockerHung"}
    await client.patch_status(NODE, "n1", {"status": {"conditions": [changed]}})
    stored = fake.get_object("nodes", "n1")
    assert stored is not None
    assert stored["status"]["conditions"] == [*KUBELET_CONDITIONS, changed]
    (request,) = fake.requests("PATCH")[-1:]
    assert request.path == "/api/v1/nodes/n1/status"
    assert request.content_type == "application/strategic-merge-patch+json"


async def test_status_and_object_are_written_apart(client: KubeClient, fake: FakeKubeAPI) -> None:
    await client.create(NODE, {"metadata": {"name": "n1"}, "status": {"phase": "Running"}})
    patched = await client.patch(
        NODE, "n1", {"spec": {"unschedulable": True}, "status": {"phase": "Ignored"}}
    )
    assert patched["spec"] == {"unschedulable": True}
    assert patched["status"] == {"phase": "Running"}  # the object's endpoint ignores status
    status = await client.patch_status(
        NODE, "n1", {"spec": {"unschedulable": False}, "status": {"phase": "Set"}}
    )
    assert status["spec"] == {"unschedulable": True}  # ... and /status ignores the rest
    assert status["status"] == {"phase": "Set"}
    assert (await client.get(NODE, "n1", subresource="status"))["status"] == {"phase": "Set"}


async def test_taints_by_merge_and_json_patch(client: KubeClient) -> None:
    await client.create(
        NODE,
        {"metadata": {"name": "n1"}, "spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]}},
    )
    taint = {"key": "healthwatch.io/kernel-deadlock", "effect": "NoSchedule"}
    merged = await client.patch(
        NODE, "n1", {"spec": {"taints": [taint]}}, patch_type=PatchType.MERGE
    )
    assert merged["spec"]["taints"] == [taint]  # a merge patch replaces lists
    appended = await client.patch(
        NODE,
        "n1",
        [
            {"op": "test", "path": "/spec/taints/0/key", "value": taint["key"]},
            {"op": "add", "path": "/spec/taints/-", "value": {"key": "b", "effect": "NoExecute"}},
        ],
        patch_type=PatchType.JSON,
    )
    assert [t["key"] for t in appended["spec"]["taints"]] == [taint["key"], "b"]
    with pytest.raises(KubeInvalid) as caught:
        await client.patch(
            NODE,
            "n1",
            [{"op": "test", "path": "/spec/taints/0/key", "value": "other"}],
            patch_type=PatchType.JSON,
        )
    assert caught.value.code == 422


async def test_pod_containers_merge_by_name(client: KubeClient) -> None:
    spec = {"containers": [{"name": "app", "image": "a:1"}, {"name": "side", "image": "s:1"}]}
    await client.create(POD, {"metadata": {"name": "p"}, "spec": spec})
    patched = await client.patch(
        POD, "p", {"spec": {"containers": [{"name": "app", "image": "a:2"}]}}
    )
    assert patched["spec"]["containers"] == [
        {"name": "app", "image": "a:2"},
        {"name": "side", "image": "s:1"},
    ]


async def test_a_stale_version_in_a_patch_conflicts(client: KubeClient) -> None:
    lease = await client.create(LEASE, {"metadata": {"name": "l"}, "spec": {"holderIdentity": "a"}})
    version = lease["metadata"]["resourceVersion"]
    await client.patch(
        LEASE,
        "l",
        {"metadata": {"resourceVersion": version}, "spec": {"holderIdentity": "b"}},
        patch_type=PatchType.MERGE,
    )
    with pytest.raises(KubeConflict) as caught:
        await client.patch(
            LEASE,
            "l",
            {"metadata": {"resourceVersion": version}, "spec": {"holderIdentity": "c"}},
            patch_type=PatchType.MERGE,
        )
    assert (caught.value.code, caught.value.reason) == (409, "Conflict")
    assert (await client.get(LEASE, "l"))["spec"]["holderIdentity"] == "b"


async def test_patch_of_a_missing_object(client: KubeClient) -> None:
    with pytest.raises(KubeError) as caught:
        await client.patch_status(NODE, "absent", {"status": {}})
    assert caught.value.code == 404
