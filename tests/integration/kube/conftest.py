"""A fake API server on loopback and our client talking to it over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from healthwatch.kube import KubeClient, RetryPolicy, from_url
from healthwatch.testing.kubefake import FakeKubeAPI

FAST = RetryPolicy(
    timeout=2.0, attempts=3, backoff_initial=0.01, backoff_max=0.05, watch_timeout=30
)
"""Retries that keep tests quick: three tries, delays of hundredths of a second."""


@pytest.fixture
async def fake() -> AsyncIterator[FakeKubeAPI]:
    async with FakeKubeAPI() as server:
        yield server
        assert server.errors == []


@pytest.fixture
async def client(fake: FakeKubeAPI) -> AsyncIterator[KubeClient]:
    async with KubeClient(from_url(fake.url), policy=FAST) as kube:
        yield kube
