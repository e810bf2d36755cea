"""Retries, timeouts and error translation through the real client, driven by injected faults."""

from __future__ import annotations

import time

import pytest

from healthwatch.kube import (
    NODE,
    KubeClient,
    KubeConflict,
    KubeError,
    KubeForbidden,
    KubeGone,
    KubeUnavailable,
    RetryPolicy,
    from_url,
)
from healthwatch.testing.kubefake import FakeKubeAPI, Fault
from tests.integration.kube.kubekit import FAST


def assert_ours(error: BaseException) -> None:
    """Neither the error nor anything it claims to be comes from the client library."""
    for cls in type(error).__mro__:
        assert not cls.__module__.startswith(("lightkube", "httpx", "httpcore")), cls
    assert type(error).__module__.startswith("healthwatch.kube")


async def test_429_with_retry_after_then_success(client: KubeClient, fake: FakeKubeAPI) -> None:
    await client.create(NODE, {"metadata": {"name": "n1"}})
    fake.inject(method="GET", path="/nodes/n1", status=429, retry_after=0.3)
    started = time.monotonic()
    node = await client.get(NODE, "n1")
    assert node["metadata"]["name"] == "n1"
    assert time.monotonic() - started >= 0.3  # waited as asked, not the 10 ms backoff
    assert len(fake.requests("GET", "/nodes/n1")) == 2


async def test_two_500s_then_success(client: KubeClient, fake: FakeKubeAPI) -> None:
    fault = fake.inject(method="POST", status=500, times=2)
    created = await client.create(NODE, {"metadata": {"name": "n1"}})
    assert created["metadata"]["name"] == "n1"
    assert fault.hits == 2
    assert len(fake.requests("POST")) == 3


async def test_timeouts_become_unavailable_after_the_retries(fake: FakeKubeAPI) -> None:
    policy = RetryPolicy(timeout=0.2, attempts=3, backoff_initial=0.01, backoff_max=0.02)
    async with KubeClient(from_url(fake.url), policy=policy) as client:
        fake.inject(method="GET", delay=5, times=3)
        started = time.monotonic()
        with pytest.raises(KubeUnavailable, match=r"gave up after 3 tries") as caught:
            await client.list(NODE)
        assert time.monotonic() - started < 2
        assert caught.value.reason == "Timeout"
        assert_ours(caught.value)
        assert len(fake.requests("GET")) == 3
        assert (await client.list(NODE)).items == []  # and the client still works


@pytest.mark.parametrize(
    ("fault", "kind", "code"),
    [
        (Fault(status=500, times=5), KubeUnavailable, 500),
        (
            Fault(status=503, times=5, content_type="text/html", message="<h1>bad gateway</h1>"),
            KubeUnavailable,
            503,
        ),
        (Fault(status=429, retry_after=0, times=5), KubeUnavailable, 429),
        (Fault(reset=True, times=5), KubeUnavailable, 0),
        (Fault(status=409, reason="Conflict"), KubeConflict, 409),
        (Fault(status=410), KubeGone, 410),
        (
            Fault(status=403, reason="Forbidden", message='nodes "n1" is forbidden'),
            KubeForbidden,
            403,
        ),
        (Fault(status=418, content_type="text/plain", message="teapot"), KubeError, 418),
    ],
)
async def test_no_client_library_exception_escapes(
    client: KubeClient, fake: FakeKubeAPI, fault: Fault, kind: type[KubeError], code: int
) -> None:
    fake.inject(fault)
    with pytest.raises(KubeError) as caught:
        await client.get(NODE, "n1")
    assert type(caught.value) is kind
    assert caught.value.code == code
    assert_ours(caught.value)
    expected_tries = FAST.attempts if kind is KubeUnavailable else 1
    assert len(fake.requests()) == expected_tries


async def test_non_json_error_body_is_kept_as_the_message(
    client: KubeClient, fake: FakeKubeAPI
) -> None:
    fake.inject(status=502, content_type="text/html", message="<h1>proxy down</h1>", times=3)
    with pytest.raises(KubeUnavailable, match="proxy down") as caught:
        await client.get(NODE, "n1")
    assert caught.value.code == 502


async def test_a_server_that_is_gone(fake: FakeKubeAPI) -> None:
    url = fake.url
    await fake.stop()
    async with KubeClient(from_url(url), policy=FAST) as client:
        with pytest.raises(KubeUnavailable, match="connection failed") as caught:
            await client.list(NODE)
        assert caught.value.reason == "ConnectionError"
        assert_ours(caught.value)
        watch = client.watch(NODE)
        with pytest.raises(KubeUnavailable):
            await anext(watch)
        await watch.aclose()


async def test_wrong_token_is_forbidden() -> None:
    async with FakeKubeAPI(token="right") as fake:
        async with KubeClient(from_url(fake.url, token="wrong"), policy=FAST) as client:
            with pytest.raises(KubeForbidden) as caught:
                await client.list(NODE)
            assert (caught.value.code, caught.value.reason) == (401, "Unauthorized")
        async with KubeClient(from_url(fake.url, token="right"), policy=FAST) as client:
            assert (await client.list(NODE)).items == []
        assert fake.requests()[-1].authorization == "Bearer right"


async def test_a_closed_client_refuses_calls(fake: FakeKubeAPI) -> None:
    client = KubeClient(from_url(fake.url), policy=FAST)
    await client.aclose()
    await client.aclose()
    with pytest.raises(KubeError, match="closed"):
        await client.list(NODE)
