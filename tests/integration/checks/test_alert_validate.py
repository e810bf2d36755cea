"""``healthwatch validate`` reports alerting errors with file, line, field and value."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GOOD = """\
alerting:
  routes:
    - {name: ops, kind: alertmanager, url: "http://127.0.0.1:9093"}
    - {name: hook, kind: webhook, url: "http://127.0.0.1:8080/alerts",
       headers: {Authorization: "Bearer ${ALERT_TOKEN}"}}
  default_routes: [ops]
checks:
  - name: web
    kind: http
    url: http://127.0.0.1:8080/
    alerts: [ops, hook]
    maintenance:
      - {days: [sun], from: "02:00", to: "04:00", timezone: Europe/Berlin}
"""


def _validate(path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "healthwatch", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, **env},
    )


def test_a_good_alerting_config_validates(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(GOOD)
    done = _validate(path, ALERT_TOKEN="t0ken")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{path}: ok (1 check)"


def test_validate_names_the_unknown_route_and_the_missing_variable(tmp_path: Path) -> None:
    path = tmp_path / "agent.yaml"
    path.write_text(GOOD.replace("alerts: [ops, hook]", "alerts: [ops, pager]"))
    done = _validate(path, ALERT_TOKEN="t0ken")
    assert done.returncode != 0
    assert f"{path}:11: checks[0].alerts[1]: no alert route of this name" in done.stderr
    assert "(got 'pager')" in done.stderr

    path.write_text(GOOD)
    env = {k: v for k, v in os.environ.items() if k != "ALERT_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-m", "healthwatch", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert done.returncode != 0
    assert "alerting.routes[1].headers.Authorization: environment variable ALERT_TOKEN" in (
        done.stderr
    )
