"""The reason the standalone server exists: it answers while the application's loop is stuck."""

from __future__ import annotations

import json
import threading
import time

import pytest

from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import HealthRoutes
from healthwatch.health.watchdog import watch_event_loop
from tests.integration.health.netkit import Serve, fetch, loop_in_thread, timed_fetch, wait_for

BLOCK = 5.0
"""How long the loop is blocked (the requirement names 5 s)."""
STALL_AFTER = 1.0
BEAT = 0.25
"""The watchdog's beat interval: the latest beat may be this old when the block starts."""
FAST = 0.05
"""Every /livez must be answered within this, connection set-up included."""


@pytest.mark.slow
def test_livez_answers_fast_while_the_loop_is_blocked_and_tells_the_stall(
    ready: HealthRegistry, serve: Serve
) -> None:
    server = serve(HealthRoutes(ready))
    with loop_in_thread() as loop:
        watchdog = watch_event_loop(ready, loop, stall_after=STALL_AFTER)
        try:
            assert wait_for(
                lambda: fetch(server.address, "/livez/event-loop").status == 200, timeout=2
            )
            assert fetch(server.address, "/livez?verbose").lines[0] == "[+]event-loop ok"

            blocking = threading.Event()

            def block() -> None:
                blocking.set()
                time.sleep(BLOCK)  # what a careless synchronous call does to a loop

            loop.call_soon_threadsafe(block)
            assert blocking.wait(2)
            started = time.monotonic()
            seen: list[tuple[float, int, float]] = []  # (seconds into the block, status, latency)
            while (now := time.monotonic() - started) < BLOCK - 0.5:
                reply, took = timed_fetch(server.address, "/livez")
                seen.append((now, reply.status, took))
                time.sleep(0.02)
            stalled = fetch(server.address, "/livez?verbose")
            health = fetch(server.address, "/health")
            ready_meanwhile = fetch(server.address, "/readyz")
            assert wait_for(lambda: fetch(server.address, "/livez").status == 200, timeout=BLOCK)
            recovered = time.monotonic() - started
        finally:
            watchdog.detach()

    latencies = sorted(took for _, _, took in seen)
    p95 = latencies[int(len(latencies) * 0.95)]
    # Every request is timed, connection set-up included; on a shared CI machine one can
    # lose the CPU for a moment, so the bound is on the 95th percentile, with a looser cap
    # on the slowest.
    assert p95 < FAST, f"95th percentile /livez took {p95 * 1000:.1f} ms"
    assert latencies[-1] < 5 * FAST, f"slowest /livez took {latencies[-1] * 1000:.1f} ms"
    early = {status for at, status, _ in seen if at < STALL_AFTER - BEAT - 0.05}
    late = {status for at, status, _ in seen if at > STALL_AFTER + 0.05}
    assert early == {200}, seen
    assert late == {503}, seen
    assert stalled.status == 503
    assert stalled.lines[0].startswith("[-]event-loop failed: event loop stalled")
    assert stalled.lines[-1] == "livez check failed"
    assert ready_meanwhile.status == 200  # the loop is liveness' business only
    assert (health.status, json.loads(health.body)["status"]) == (503, "unhealthy")
    assert recovered >= BLOCK - 0.5  # failed for the whole block, recovered once it ended


def test_a_watched_loop_that_runs_keeps_liveness_up(registry: HealthRegistry, serve: Serve) -> None:
    server = serve(HealthRoutes(registry))
    with loop_in_thread() as loop:
        watchdog = watch_event_loop(registry, loop, stall_after=STALL_AFTER)
        try:
            assert wait_for(
                lambda: fetch(server.address, "/livez/event-loop").status == 200, timeout=2
            )
            reply, took = timed_fetch(server.address, "/livez")
            assert (reply.status, took < FAST) == (200, True)
        finally:
            watchdog.detach()
    assert fetch(server.address, "/livez").status == 200  # detached: unknown passes liveness
