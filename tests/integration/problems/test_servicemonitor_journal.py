"""The service monitor's journal counts against a fake journalctl: cursors, caps, old versions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from healthwatch.model.health import HealthStatus
from healthwatch.model.problems import ConditionStatus
from healthwatch.problems.servicemonitor.journal import JOURNAL_OUTPUT_CAP
from tests.unit.problems.servicemonitor.fakebin import (
    STARTED,
    FakeHost,
    entry,
    monitor,
    single,
)


@pytest.fixture
def host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeHost:
    return FakeHost(tmp_path, monkeypatch)


async def test_log_pattern_threshold_counts_since_the_unit_started(host: FakeHost) -> None:
    host.set(
        journal=[
            entry(STARTED - 5, "Failed to start ContainerManager (before this start)"),
            entry(STARTED + 1, "failed to start containermanager: cgroup"),
        ]
    )
    daemon = monitor(
        health_url="", log_patterns=[{"pattern": "Failed to start ContainerManager", "count": 2}]
    )
    status = await daemon.poll()
    assert status is not None and status.conditions[0].status is ConditionStatus.FALSE
    assert host.calls("journalctl") == [
        [
            "--unit",
            "kubelet.service",
            "--since",
            f"@{int(STARTED)}",
            "--no-pager",
            "--output=json",
            "--output-fields=MESSAGE",
        ]
    ]
    host.state["journal"].append(entry(STARTED + 2, "Failed to start ContainerManager again"))
    host.save()
    status = await daemon.poll()
    assert status is not None
    assert status.conditions[0].reason == "KubeletLogPatternThreshold"
    assert "2 log lines match" in status.conditions[0].message
    assert host.calls("journalctl")[1][-2:] == ["--after-cursor", "s=fake;i=1"]
    assert single(daemon.metric_families(None), "log_pattern_matches") == 2.0
    # The unit restarts: the count starts again from its new start.
    host.show(InactiveExitTimestamp=f"@{int(STARTED + 100)}", NRestarts=1)
    status = await daemon.poll()
    assert status is not None
    assert status.conditions[0].status is ConditionStatus.FALSE
    assert "--after-cursor" not in host.calls("journalctl")[2]
    assert single(daemon.metric_families(None), "log_pattern_matches") == 0.0


async def test_huge_journal_output_is_capped_and_counted_in_part(host: FakeHost) -> None:
    host.set(journal_bytes=JOURNAL_OUTPUT_CAP + 2 * 1024 * 1024)
    daemon = monitor(health_url="", log_patterns=[{"pattern": "x{10}", "count": 5}])
    status = await daemon.poll()
    assert status is not None and status.conditions[0].reason == "KubeletLogPatternThreshold"
    line = json.dumps(
        {"__CURSOR": "s=big;i=1", "__REALTIME_TIMESTAMP": "9999999999000000", "MESSAGE": "x" * 200}
    )
    complete = JOURNAL_OUTPUT_CAP // (len(line) + 1)  # the cap cuts the last line: not counted
    assert single(daemon.metric_families(None), "log_pattern_matches") == complete
    assert "journal backlog still being counted" in daemon.health()[1]
    await daemon.poll()  # the next poll carries on after the last complete entry
    assert host.calls("journalctl")[1][-2:] == ["--after-cursor", "s=big;i=1"]


async def test_journal_cursor_refused_counts_again(host: FakeHost) -> None:
    host.set(journal=[entry(STARTED + 1, "boom"), entry(STARTED + 2, "boom")])
    daemon = monitor(health_url="", log_patterns=[{"pattern": "boom", "count": 5}])
    await daemon.poll()
    host.set(forget_cursors=True)
    await daemon.poll()
    health, message = daemon.health()
    assert health is HealthStatus.DEGRADED and "Failed to seek to cursor" in message
    host.set(forget_cursors=False)
    await daemon.poll()
    assert "--after-cursor" not in host.calls("journalctl")[2]
    assert single(daemon.metric_families(None), "log_pattern_matches") == 2.0
    assert daemon.health()[0] is HealthStatus.HEALTHY


async def test_old_journalctl_without_output_fields(host: FakeHost) -> None:
    host.set(old_journalctl=True, journal=[entry(STARTED + 1, "boom")])
    daemon = monitor(health_url="", log_patterns=[{"pattern": "boom"}])
    status = await daemon.poll()
    assert status is not None and status.conditions[0].reason == "KubeletLogPatternThreshold"
    first, second = host.calls("journalctl")
    assert first[-1] == "--output-fields=MESSAGE" and second[-1] == "--output=json"
    await daemon.poll()
    assert "--output-fields=MESSAGE" not in host.calls("journalctl")[2]
