"""Leases with optimistic concurrency, and custom resources with a status subresource."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from healthwatch.kube import (
    ALL_NAMESPACES,
    KUBERHEALTHY_CHECK,
    KUBERHEALTHY_HEALTHCHECK,
    LEASE,
    NAMESPACE,
    KubeAlreadyExists,
    KubeClient,
    KubeConflict,
    KubeError,
    PatchType,
    ResourceKind,
)
from healthwatch.testing.kubefake import FakeKubeAPI

HEALTHCHECK = ResourceKind(
    group="healthwatch.io", version="v1alpha1", kind="HealthCheck", plural="healthchecks"
)


async def test_lease_update_with_a_stale_version_conflicts(client: KubeClient) -> None:
    spec = {"holderIdentity": "agent-a", "leaseDurationSeconds": 15}
    created = await client.create(LEASE, {"metadata": {"name": "checks-controller"}, "spec": spec})
    with pytest.raises(KubeAlreadyExists):
        await client.create(LEASE, {"metadata": {"name": "checks-controller"}, "spec": spec})

    renewed = {**created, "spec": {**spec, "renewTime": "2026-01-01T00:00:10.000000Z"}}
    current = await client.replace(LEASE, renewed)
    assert current["metadata"]["resourceVersion"] != created["metadata"]["resourceVersion"]

    stolen = {**created, "spec": {**spec, "holderIdentity": "agent-b"}}  # read before the renewal
    with pytest.raises(KubeConflict) as caught:
        await client.replace(LEASE, stolen)
    assert caught.value.code == 409
    assert "has been modified" in caught.value.message
    assert (await client.get(LEASE, "checks-controller"))["spec"]["holderIdentity"] == "agent-a"


async def test_only_one_of_two_racing_writers_wins(client: KubeClient) -> None:
    lease = await client.create(LEASE, {"metadata": {"name": "race"}, "spec": {}})

    async def take(holder: str) -> str:
        try:
            await client.replace(LEASE, {**lease, "spec": {"holderIdentity": holder}})
        except KubeConflict:
            return "lost"
        return "won"

    outcomes = await asyncio.gather(take("a"), take("b"))
    assert sorted(outcomes) == ["lost", "won"]


async def test_custom_resource_with_status(client: KubeClient, fake: FakeKubeAPI) -> None:
    fake.register_custom_resource(
        group="healthwatch.io", version="v1alpha1", kind="HealthCheck", plural="healthchecks"
    )
    spec: dict[str, Any] = {"kind": "http", "url": "http://web/healthz", "interval": "30s"}
    created = await client.create(
        HEALTHCHECK, {"metadata": {"name": "web"}, "spec": spec, "status": {"ok": True}}
    )
    assert created["apiVersion"] == "healthwatch.io/v1alpha1"
    assert "status" not in created  # a custom resource's status is not set on create
    assert created["metadata"]["generation"] == 1

    status = {"ok": False, "errors": ["timeout"], "observedGeneration": 1}
    patched = await client.patch_status(
        HEALTHCHECK, "web", {"status": status}, patch_type=PatchType.MERGE
    )
    assert patched["status"] == status
    assert patched["metadata"]["generation"] == 1  # status writes do not bump the generation

    respec = await client.patch(
        HEALTHCHECK, "web", {"spec": {"interval": "1m"}}, patch_type=PatchType.MERGE
    )
    assert respec["metadata"]["generation"] == 2
    assert respec["status"] == status

    with pytest.raises(KubeError) as caught:  # as on a real server: no strategic merge for CRs
        await client.patch(HEALTHCHECK, "web", {"spec": {"interval": "2m"}})
    assert caught.value.code == 415

    await client.create(NAMESPACE, {"metadata": {"name": "team"}})
    await client.create(HEALTHCHECK, {"metadata": {"name": "db"}, "spec": spec}, namespace="team")
    listing = await client.list(HEALTHCHECK, namespace=ALL_NAMESPACES)
    assert [(c["metadata"]["namespace"], c["metadata"]["name"]) for c in listing.items] == [
        ("default", "web"),
        ("team", "db"),
    ]
    assert all(c["kind"] == "HealthCheck" for c in listing.items)

    replaced = await client.replace(
        HEALTHCHECK, {**respec, "status": {"ok": True}}, subresource="status"
    )
    assert replaced["status"] == {"ok": True}


async def test_kuberhealthy_kinds(client: KubeClient, fake: FakeKubeAPI) -> None:
    fake.register_custom_resource(
        group="comcast.github.io",
        version="v1",
        kind="KuberhealthyCheck",
        plural="khchecks",
        status_subresource=False,
    )
    fake.register_custom_resource(
        group="kuberhealthy.github.io", version="v2", kind="HealthCheck", plural="healthchecks"
    )
    await client.create(
        KUBERHEALTHY_CHECK,
        {"metadata": {"name": "deployment"}, "spec": {"runInterval": "10m", "timeout": "15m"}},
    )
    await client.create(
        KUBERHEALTHY_HEALTHCHECK,
        {"metadata": {"name": "dns"}, "spec": {"runInterval": "2m", "podSpec": {"containers": []}}},
    )
    assert [c["metadata"]["name"] for c in (await client.list(KUBERHEALTHY_CHECK)).items] == [
        "deployment"
    ]
    assert fake.get_object("healthchecks.kuberhealthy.github.io", "dns", "default") is not None
    with pytest.raises(KubeError) as caught:  # no status subresource on v2 khchecks
        await client.patch_status(
            KUBERHEALTHY_CHECK, "deployment", {"status": {}}, patch_type=PatchType.MERGE
        )
    assert caught.value.code == 404


async def test_unregistered_custom_resource_is_not_found(client: KubeClient) -> None:
    with pytest.raises(KubeError) as caught:
        await client.list(HEALTHCHECK)
    assert caught.value.code == 404
