"""Synthetic checks inside the agent: /json, the checks API, metrics, history, restarts."""

from __future__ import annotations

import json
import re
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import AgentProcess

pytestmark = pytest.mark.slow

StartAgent = Callable[..., AgentProcess]


class _Target(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/ok":
            body, code = b'{"status": "UP"}', 200
        else:
            body, code = b'{"status": "DOWN"}', 503
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        del format, args


@pytest.fixture
def target() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Target)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def eventually(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("not reached in time")
        time.sleep(0.1)


def config(tmp_path: Path, target: str) -> Path:
    path = tmp_path / "agent.yaml"
    path.write_text(
        "log_monitors: []\n"
        "checks:\n"
        f"  - {{name: api, kind: http, url: '{target}/ok', interval: 1s, timeout: 1s,\n"
        "      conditions: ['status == 200', 'json.status == \"UP\"', 'latency < 2s']}\n"
        f"  - {{name: broken, namespace: shop, kind: http, url: '{target}/down',\n"
        "      interval: 1s, timeout: 1s, failure_threshold: 2}\n"
    )
    return path


def test_checks_reach_the_status_page_api_and_metrics(
    start_agent: StartAgent, tmp_path: Path, target: str
) -> None:
    agent = start_agent("--config", str(config(tmp_path, target)))
    web = str(agent.urls["web"])
    eventually(lambda: len(get_json(f"{web}/json")["CheckDetails"]) == 2)
    page = get_json(f"{web}/json")
    assert page["OK"] is False
    api, broken = page["CheckDetails"]["default/api"], page["CheckDetails"]["shop/broken"]
    assert api["OK"] is True and api["Namespace"] == "default" and api["RunDuration"].endswith("s")
    assert broken["OK"] is False
    assert broken["Errors"] == ["status < 400 (observed status=503)"]
    only_default = get_json(f"{web}/json?namespace=default")
    assert list(only_default["CheckDetails"]) == ["default/api"] and only_default["OK"] is True
    checks = {c["id"]: c for c in get_json(f"{web}/api/v1/checks")["checks"]}
    assert checks["default/api"]["latest"]["observations"][1] == {
        "condition": 'json.status == "UP"',
        "ok": True,
        "observed": 'json.status="UP"',
    }
    eventually(lambda: get_json(f"{web}/api/v1/checks")["checks"][1]["alerting"] is True)
    history = get_json(f"{web}/api/v1/checks/shop/broken/history?limit=5")
    assert history["results"] and all(r["ok"] is False for r in history["results"])
    metrics = urllib.request.urlopen(str(agent.urls["metrics"]), timeout=5).read().decode()
    assert re.search(
        r'kuberhealthy_check\{check="default/api",namespace="default",'
        r'node="[^"]*",status="1"\} 1\.0',
        metrics,
    )
    assert "kuberhealthy_cluster_state 0.0" in metrics
    report = get_json(f"{agent.urls['health']}/health")
    assert report["components"]["checks:scheduler"]["status"] == "healthy"
    assert report["components"]["checks:history"]["status"] == "healthy"


def test_a_failing_streak_resumes_after_a_restart_without_a_second_alert(
    start_agent: StartAgent, tmp_path: Path, target: str
) -> None:
    path = config(tmp_path, target)
    state = tmp_path / "state"
    first = start_agent("--config", str(path), state_dir=state)
    web = str(first.urls["web"])

    def broken() -> dict[str, Any]:
        return next(
            c for c in get_json(f"{web}/api/v1/checks")["checks"] if c["id"] == "shop/broken"
        )

    eventually(lambda: broken()["alerting"] is True)
    _, _, err = first.stop()
    assert err.count("check shop/broken alert firing") == 1
    second = start_agent("--config", str(path), state_dir=state)
    web = str(second.urls["web"])
    eventually(lambda: broken()["runs"] >= 2)
    assert broken()["alerting"] is True
    assert broken()["consecutive_failures"] >= 3  # the streak went on from where it was
    _, _, err = second.stop()
    assert "alert firing" not in err


def test_bad_check_config_names_file_line_and_column(tmp_path: Path) -> None:
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    path = tmp_path / "agent.yaml"
    path.write_text(
        "checks:\n"
        "  - name: api\n"
        "    kind: http\n"
        "    url: http://127.0.0.1:1/\n"
        "    conditions: ['status = = 200']\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "healthwatch", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert f"{path}:5: checks[0].conditions[0]" in result.stderr
    assert "column" in result.stderr and "^" in result.stderr


KH_CLIENT = """
import json, os, sys, urllib.request
ok = sys.argv[1] == "ok"
body = {"OK": ok, "Errors": [] if ok else ["deployment did not roll out", "3 pods pending"]}
request = urllib.request.Request(
    os.environ["KH_REPORTING_URL"], data=json.dumps(body).encode(), method="POST",
    headers={"Content-Type": "application/json", "kh-run-uuid": os.environ["KH_RUN_UUID"]},
)
urllib.request.urlopen(request, timeout=5).read()
"""


def test_kuberhealthy_style_checks_report_through_the_agent(
    start_agent: StartAgent, tmp_path: Path
) -> None:
    import sys  # noqa: PLC0415

    client = tmp_path / "kh_client.py"
    client.write_text(KH_CLIENT)
    path = tmp_path / "agent.yaml"
    path.write_text(
        "log_monitors: []\n"
        "checks:\n"
        f"  - {{name: rollout, namespace: kh, kind: external, interval: 2s, timeout: 2s,\n"
        f"      argv: ['{sys.executable}', '{client}', 'ok']}}\n"
        f"  - {{name: pods, namespace: kh, kind: external, interval: 2s, timeout: 2s,\n"
        f"      argv: ['{sys.executable}', '{client}', 'fail']}}\n"
    )
    agent = start_agent("--config", str(path))
    web = str(agent.urls["web"])
    eventually(lambda: len(get_json(f"{web}/json")["CheckDetails"]) == 2)
    details = get_json(f"{web}/json")["CheckDetails"]
    assert details["kh/rollout"]["OK"] is True and details["kh/rollout"]["Errors"] == []
    assert details["kh/pods"]["OK"] is False
    assert details["kh/pods"]["Errors"] == ["deployment did not roll out", "3 pods pending"]
    late = urllib.request.Request(
        f"{web}/check/00000000-0000-0000-0000-000000000000",
        data=b'{"OK": true}',
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(late, timeout=5)
    assert refused.value.code == 400  # unknown runs are refused
    refused.value.close()
