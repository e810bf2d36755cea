"""The checks API shows what a person needs: retries that saved a run, maintenance, alerts."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.agent.test_agent_problems import eventually
from tests.integration.conftest import AgentProcess

pytestmark = pytest.mark.slow


def _checks(agent: AgentProcess) -> dict[str, dict[str, Any]]:
    with urllib.request.urlopen(f"{agent.urls['web']}/api/v1/checks", timeout=5) as answer:
        data = json.loads(answer.read())
    return {check["id"]: check for check in data["checks"]}


def test_a_retry_that_saved_the_run_and_a_maintenance_window_are_visible(
    start_agent: Callable[..., AgentProcess], tmp_path: Path
) -> None:
    flaky = tmp_path / "flaky.sh"
    counter = tmp_path / "attempts"
    # Fails on every odd attempt, passes on every even one: each run passes after a retry.
    flaky.write_text(
        "#!/bin/sh\n"
        f'n=$(cat "{counter}" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "{counter}"\n'
        'if [ $((n % 2)) -eq 1 ]; then echo "first try fails"; exit 1; fi\n'
        "echo fine\n"
    )
    flaky.chmod(0o755)
    now = datetime.now(UTC)
    start, end = (now - timedelta(hours=1)).isoformat(), (now + timedelta(hours=1)).isoformat()
    config = tmp_path / "agent.yaml"
    config.write_text(
        "log_monitors: []\nstats_monitor: false\ngpu: false\n"
        "checks:\n"
        "  - name: flaky\n"
        "    kind: exec\n"
        f"    argv: [{flaky}]\n"
        "    interval: 1s\n    timeout: 1s\n    retries: 1\n"
        "  - name: down-for-upgrade\n"
        "    kind: exec\n"
        "    argv: [/bin/false]\n"
        "    interval: 1s\n    timeout: 1s\n"
        f'    maintenance: [{{start: "{start}", end: "{end}"}}]\n'
    )
    agent = start_agent("--config", str(config))

    def both_ran() -> bool:
        checks = _checks(agent)
        return all(c["latest"] is not None for c in checks.values())

    eventually(both_ran)
    checks = _checks(agent)
    flaky_check = checks["default/flaky"]
    assert flaky_check["latest"]["ok"] is True
    assert flaky_check["latest"]["attempts"] == 2
    assert flaky_check["latest"]["passed_after_retry"] is True
    down = checks["default/down-for-upgrade"]
    assert down["latest"]["ok"] is False
    assert down["alert_status"] == "in maintenance"
    assert down["maintenance"] is not None
    assert down["alerting"] is False
