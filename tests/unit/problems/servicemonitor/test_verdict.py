"""Verdicts and their precedence, flapping on the injected clock, the condition and its events."""

from __future__ import annotations

from dataclasses import replace

from healthwatch.aio.clock import ManualClock
from healthwatch.model.problems import ConditionStatus, Severity
from healthwatch.problems.servicemonitor.config import build_service_monitor
from healthwatch.problems.servicemonitor.journal import JournalReading
from healthwatch.problems.servicemonitor.probes import Probe
from healthwatch.problems.servicemonitor.systemd import UnitState
from healthwatch.problems.servicemonitor.verdict import (
    ConditionBook,
    FlapTracker,
    Observation,
    Reason,
    judge,
)

CONFIG = build_service_monitor(
    {"component": "kubelet", "log_patterns": [{"pattern": "a", "count": 2}, {"pattern": "b"}]},
    source="a.yaml",
)
UP = UnitState(
    load_state="loaded",
    active_state="active",
    sub_state="running",
    main_pid=9,
    started_at=1000.0,
    restarts=0,
)
DOWN = replace(UP, active_state="failed", sub_state="failed", main_pid=0)
BAD = Probe(ok=False, detail="HTTP 500")
GOOD = Probe(ok=True, detail="HTTP 200")


def reading(*counts: int) -> JournalReading:
    return JournalReading(counts=counts, entries=1, partial=False, error="")


def test_precedence_and_messages() -> None:
    unknown = judge(CONFIG, Observation(state=None, error="timed out"))
    assert (unknown.status, unknown.reason) == (ConditionStatus.UNKNOWN, Reason.CHECK_FAILED)
    assert "timed out" in unknown.message
    everything = judge(
        CONFIG,
        Observation(state=DOWN, restarts=5, health=BAD, runtime=BAD, journal=reading(2, 1)),
    )
    assert everything.reason is Reason.NOT_ACTIVE and not everything.repairable
    assert everything.message.split("; ") == [
        "kubelet.service is failed (failed)",
        "kubelet.service restarted 5 times within 600s",
        "health check failed: HTTP 500",
        "runtime unreachable: HTTP 500",
        "2 log lines match 'a' (threshold 2)",
        "1 log lines match 'b' (threshold 1)",
    ]
    flapping = judge(CONFIG, Observation(state=UP, restarts=3, health=BAD))
    assert flapping.reason is Reason.FLAPPING and not flapping.repairable
    healthz = judge(CONFIG, Observation(state=UP, restarts=2, health=BAD, journal=reading(1, 0)))
    assert healthz.reason is Reason.HEALTHZ_FAILED and healthz.repairable
    pattern = judge(CONFIG, Observation(state=UP, health=GOOD, journal=reading(1, 1)))
    assert (pattern.reason, pattern.message) == (
        Reason.LOG_PATTERN,
        "1 log lines match 'b' (threshold 1)",
    )
    healthy = judge(CONFIG, Observation(state=UP, health=GOOD, journal=reading(1, 0)))
    assert (healthy.status, healthy.reason) == (ConditionStatus.FALSE, Reason.HEALTHY)
    no_flaps = replace(CONFIG, flap_restarts=0)
    assert judge(no_flaps, Observation(state=UP, restarts=99)).reason is Reason.HEALTHY


def test_flap_tracker_counts_restarts_in_the_window() -> None:
    clock = ManualClock()
    flaps = FlapTracker(60, clock=clock)
    assert flaps.observe(UP) == 0
    assert flaps.observe(replace(UP, restarts=2, started_at=1100.0)) == 2
    clock.advance(30)
    # no NRestarts (old systemd): a moved start time is one restart
    assert flaps.observe(replace(UP, restarts=None, started_at=1200.0)) == 1
    assert flaps.observe(replace(UP, restarts=None, started_at=1200.0)) == 0
    assert flaps.recent() == 3
    clock.advance(31)
    assert flaps.recent() == 1
    flaps.expect_restart()
    assert flaps.observe(replace(UP, restarts=0, started_at=1300.0)) == 1
    assert flaps.recent() == 1  # our own repair's restart is not a flap
    assert flaps.total == 4
    # a unit started for the first time, or going down, is no restart
    fresh = FlapTracker(60, clock=clock)
    fresh.observe(replace(DOWN, started_at=None))
    assert fresh.observe(UP) == 0


def test_condition_book_events() -> None:
    book = ConditionBook("KubeletUnhealthy", unit="kubelet.service", prefix="Kubelet")
    healthy = judge(CONFIG, Observation(state=UP))
    assert book.apply(healthy, 10.0) == (True, None)  # the first healthy verdict: no event
    assert book.apply(healthy, 20.0) == (False, None)
    changed, event = book.apply(judge(CONFIG, Observation(state=DOWN)), 30.0)
    assert changed and event is not None
    assert (event.severity, event.reason, event.timestamp) == (
        Severity.WARN,
        "KubeletNotActive",
        30.0,
    )
    assert book.condition is not None and book.condition.transition == 30.0
    changed, event = book.apply(healthy, 40.0)
    assert event is not None and (event.severity, event.reason) == (
        Severity.INFO,
        "KubeletIsHealthy",
    )
    restart = book.restarted(UP, 2, 50.0)
    assert restart.reason == "KubeletRestarted" and "2 time(s)" in restart.message
