"""The GPU daemon on scripted GPUs: Xids, ECC, lost GPUs, recovery; as conditions and events."""

from __future__ import annotations

from healthwatch.model.health import HealthStatus
from healthwatch.model.problems import ConditionStatus, Severity
from healthwatch.problems.base import ProblemDaemon
from healthwatch.problems.gpu.adapter import GpuAdapter
from healthwatch.problems.gpu.config import GpuConfig
from healthwatch.testing import FakeGpuAdapter

from .conftest import MakeDaemon, Sink

BUS0, BUS1 = FakeGpuAdapter.device(0).bus_id, FakeGpuAdapter.device(1).bus_id


async def test_it_is_a_problem_daemon_and_starts_with_every_condition_false(
    make_daemon: MakeDaemon, sink: Sink
) -> None:
    daemon = make_daemon()
    assert isinstance(daemon, ProblemDaemon)
    assert isinstance(FakeGpuAdapter(), GpuAdapter)
    await daemon.start()
    await daemon.poll(sink)
    assert [c.type for c in daemon.conditions()] == [
        "GPUUnhealthy",
        "GPUMemoryError",
        "GPUResetRequired",
    ]
    assert all(c.status is ConditionStatus.FALSE for c in daemon.conditions())
    assert sink.statuses == []  # nothing changed: nothing reported
    assert daemon.health() == (HealthStatus.HEALTHY, "watching 2 GPUs")


async def test_xid_79_makes_the_gpu_unhealthy_until_it_is_back(
    make_daemon: MakeDaemon, fake: FakeGpuAdapter, sink: Sink
) -> None:
    daemon = make_daemon()
    await daemon.start()
    fake.inject_xid(BUS1, 79)
    await daemon.check_xids(sink, wait=1.0)
    condition = sink.condition("GPUUnhealthy")
    assert condition.status is ConditionStatus.TRUE
    assert condition.reason == "GPUXid79"
    assert condition.message.startswith(f"{BUS1}: Xid 79 (GPU has fallen off the bus)")
    assert BUS0 not in condition.message
    fatal = [e for e in sink.events if e.reason == "GPUXidFatal"]
    assert len(fatal) == 1
    assert dict(fatal[0].labels) == {"bus_id": BUS1, "gpu": "1", "xid": "79"}
    change = [e for e in sink.events if e.reason == "GPUXid79"]
    assert change[0].severity is Severity.WARN and dict(change[0].labels) == {"bus_id": BUS1}

    await daemon.poll(sink)  # the GPU still answers: a clean sample is not enough for 79
    assert sink.is_true("GPUUnhealthy")
    fake.lose(BUS1)
    await daemon.poll(sink)
    assert sink.condition("GPUUnhealthy").reason == "GPUXid79"  # still the worst
    assert "GPU is lost" in sink.condition("GPUUnhealthy").message
    fake.restore(BUS1)
    await daemon.poll(sink)
    cleared = sink.condition("GPUUnhealthy")
    assert cleared.status is ConditionStatus.FALSE
    assert cleared.reason == "GPUIsHealthy"
    assert sink.events[-1].severity is Severity.INFO


async def test_uncorrectable_ecc_sets_a_memory_condition_and_a_clean_sample_clears_it(
    make_daemon: MakeDaemon, fake: FakeGpuAdapter, sink: Sink
) -> None:
    daemon = make_daemon()
    await daemon.start()
    fake.set_sample(BUS0, ecc_volatile_uncorrected=2, ecc_aggregate_uncorrected=5)
    await daemon.poll(sink)
    memory = sink.condition("GPUMemoryError")
    assert memory.status is ConditionStatus.TRUE
    assert memory.reason == "GPUUncorrectableECC"
    assert memory.message == (
        f"{BUS0}: 2 uncorrectable ECC errors since the last reset; reset the GPU"
    )
    assert not sink.is_true("GPUUnhealthy")
    transition = memory.transition

    fake.set_sample(BUS0, ecc_volatile_uncorrected=3)  # more errors: the message says so
    await daemon.poll(sink)
    assert sink.condition("GPUMemoryError").message.startswith(f"{BUS0}: 3 uncorrectable")
    assert sink.condition("GPUMemoryError").transition == transition

    fake.set_sample(BUS0, ecc_volatile_uncorrected=0)  # the GPU was reset
    await daemon.poll(sink)
    assert sink.condition("GPUMemoryError").status is ConditionStatus.FALSE


async def test_a_reset_seen_in_the_ecc_counters_clears_fatal_xids_but_not_79(
    make_daemon: MakeDaemon, fake: FakeGpuAdapter, sink: Sink
) -> None:
    daemon = make_daemon()
    await daemon.start()
    fake.set_sample(BUS0, ecc_volatile_corrected=7)
    await daemon.poll(sink)
    fake.inject_xid(BUS0, 48)
    fake.inject_xid(BUS1, 79)
    await daemon.check_xids(sink, wait=1.0)
    unhealthy = sink.condition("GPUUnhealthy")
    assert unhealthy.reason == "GPUXid79"  # the worst of the two names the condition
    assert BUS0 in unhealthy.message and BUS1 in unhealthy.message
    fake.set_sample(BUS0, ecc_volatile_corrected=0)
    await daemon.poll(sink)
    unhealthy = sink.condition("GPUUnhealthy")
    assert unhealthy.status is ConditionStatus.TRUE
    assert BUS0 not in unhealthy.message and BUS1 in unhealthy.message


async def test_application_xids_are_events_only(
    make_daemon: MakeDaemon, fake: FakeGpuAdapter, sink: Sink
) -> None:
    daemon = make_daemon()
    await daemon.start()
    for code in (13, 31, 43, 45, 68, 109):
        fake.inject_xid(BUS0, code)
    await daemon.check_xids(sink, wait=1.0)
    assert [e.reason for e in sink.events] == ["GPUXidApplication"] * 6
    assert [e.labels["xid"] for e in sink.events] == ["13", "31", "43", "45", "68", "109"]
    assert all(c.status is ConditionStatus.FALSE for c in sink.statuses[-1].conditions)


async def test_ignored_xids_are_only_counted(
    make_daemon: MakeDaemon, fake: FakeGpuAdapter, sink: Sink
) -> None:
    daemon = make_daemon(GpuConfig(ignore_xids=frozenset({79, 13}), timeout=2.0))
    await daemon.start()
    fake.inject_xid(BUS0, 79)
    fake.inject_xid(BUS0, 13)
    await daemon.check_xids(sink, wait=1.0)
    assert sink.statuses == []
    assert daemon.book.gpus[BUS0].xid_counts == {79: 1, 13: 1}


async def test_fatal_xids_can_be_replaced(
    make_daemon: MakeDaemon, fake: FakeGpuAdapter, sink: Sink
) -> None:
    daemon = make_daemon(GpuConfig(fatal_xids=frozenset({13}), timeout=2.0))
    await daemon.start()
    fake.inject_xid(BUS0, 48)  # catalog-fatal, not in this config's set: a warning
    fake.inject_xid(BUS0, 13)
    await daemon.check_xids(sink, wait=1.0)
    assert [e.reason for e in sink.events[:2]] == ["GPUXidWarning", "GPUXidFatal"]
    assert sink.condition("GPUUnhealthy").reason == "GPUXid13"


async def test_a_lost_gpu_is_unhealthy_until_it_answers_again(
    make_daemon: MakeDaemon, fake: FakeGpuAdapter, sink: Sink
) -> None:
    daemon = make_daemon()
    await daemon.start()
    fake.lose(BUS0)
    await daemon.poll(sink)
    unhealthy = sink.condition("GPUUnhealthy")
    assert (unhealthy.status, unhealthy.reason) == (ConditionStatus.TRUE, "GPULost")
    assert unhealthy.message == f"{BUS0}: GPU is lost"
    per_gpu = daemon.gpu_problems()
    assert [p.reason for p in per_gpu[BUS0]] == ["GPULost"] and per_gpu[BUS1] == []
    assert daemon.health()[0] is HealthStatus.HEALTHY  # the GPU is broken, not the daemon
    fake.restore(BUS0)
    await daemon.poll(sink)
    assert not sink.is_true("GPUUnhealthy")


async def test_a_vanished_gpu_is_missing(
    make_daemon: MakeDaemon, fake: FakeGpuAdapter, sink: Sink
) -> None:
    daemon = make_daemon()
    await daemon.start()
    fake.vanish(BUS1)
    await daemon.poll(sink)
    unhealthy = sink.condition("GPUUnhealthy")
    assert unhealthy.reason == "GPUMissing"
    assert unhealthy.message == f"{BUS1}: no longer listed by the driver"
    assert fake.calls["sample"] == 1  # only the GPU that is there was sampled
    fake.restore(BUS1)
    await daemon.poll(sink)
    assert not sink.is_true("GPUUnhealthy")


async def test_pending_repairs_ask_for_a_reset_and_a_failed_remap_is_fatal(
    make_daemon: MakeDaemon, fake: FakeGpuAdapter, sink: Sink
) -> None:
    daemon = make_daemon()
    await daemon.start()
    fake.set_sample(BUS0, remapped_rows_pending=True)
    fake.set_sample(BUS1, retired_pages_pending=True, remapped_rows_failure=True)
    await daemon.poll(sink)
    reset = sink.condition("GPUResetRequired")
    assert reset.reason == "GPUPendingRowRemap"
    assert reset.message == (
        f"{BUS0}: rows wait to be remapped; reset the GPU when idle; "
        f"{BUS1}: pages wait to be retired; reset the GPU when idle"
    )
    assert sink.condition("GPUUnhealthy").reason == "GPURowRemapFailure"
    fake.inject_xid(BUS0, 63)
    await daemon.check_xids(sink, wait=1.0)
    assert [e.reason for e in sink.statuses[-1].events] == [
        "GPUXidResetRequired",
        "GPUPendingRowRemap",  # the condition's message changed: it names Xid 63 too
    ]
    assert (
        "Xid 63 (row remapping or page retirement recorded)"
        in sink.condition("GPUResetRequired").message
    )


async def test_throttling_and_heat_are_events_at_their_onset(
    make_daemon: MakeDaemon, fake: FakeGpuAdapter, sink: Sink
) -> None:
    daemon = make_daemon(GpuConfig(temperature_threshold=85.0, timeout=2.0))
    await daemon.start()
    fake.set_sample(
        BUS0, throttle_reasons=frozenset({"hw_thermal_slowdown"}), temperature_celsius=90.0
    )
    fake.set_sample(BUS1, throttle_reasons=frozenset({"sw_power_cap", "hw_power_brake_slowdown"}))
    await daemon.poll(sink)
    assert sorted((e.reason, e.labels["bus_id"]) for e in sink.events) == [
        ("GPUPowerThrottle", BUS1),
        ("GPUTemperatureHigh", BUS0),
        ("GPUThermalThrottle", BUS0),
    ]
    await daemon.poll(sink)  # still throttled, still hot: no new events
    assert len(sink.events) == 3
    fake.set_sample(BUS0, throttle_reasons=frozenset(), temperature_celsius=82.0)
    await daemon.poll(sink)
    fake.set_sample(BUS0, temperature_celsius=86.0)  # not cooled below 80: no second event
    await daemon.poll(sink)
    assert len(sink.events) == 3
    assert all(c.status is ConditionStatus.FALSE for c in daemon.conditions())


async def test_declarations_cover_every_reason_reported(
    make_daemon: MakeDaemon, fake: FakeGpuAdapter, sink: Sink
) -> None:
    daemon = make_daemon()
    await daemon.start()
    for code in (79, 48, 63, 13, 154, 999):
        fake.inject_xid(BUS0, code)
    fake.lose(BUS1)
    await daemon.check_xids(sink, wait=1.0)
    await daemon.poll(sink)
    declared = {d.reason for d in daemon.declarations()}
    healthy = {"GPUIsHealthy", "GPUMemoryIsHealthy", "GPUResetNotRequired"}
    assert {e.reason for e in sink.events} - declared == set()
    assert {c.reason for c in daemon.conditions()} - declared <= healthy
    assert all(d.source == "gpu-monitor" for d in daemon.declarations())
