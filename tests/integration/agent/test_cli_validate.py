"""``healthwatch validate`` as a person runs it: every kind of file, every error, exact words."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

KH_GOOD = """\
apiVersion: comcast.github.io/v1
kind: KuberhealthyCheck
metadata: {name: deployment, namespace: kuberhealthy}
spec:
  runInterval: 10m
  timeout: 15m
  podSpec:
    containers:
      - {name: deployment, image: "kuberhealthy/deployment-check:v1.9.0"}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployment-sa}
---
apiVersion: kuberhealthy.github.io/v2
kind: HealthCheck
metadata: {name: dns}
spec:
  podSpec:
    spec:
      containers: [{name: main, image: "kuberhealthy/dns-resolution-check:v1.5.0"}]
"""

KH_BAD = """\
apiVersion: kuberhealthy.github.io/v2
kind: HealthCheck
metadata: {name: dns}
spec:
  runInterval: 5x
  podSpec:
    containers: [{name: main, image: busybox}]
"""


def validate(*files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "healthwatch", "validate", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_an_agent_file_gets_one_error_per_broken_section(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "agent.yaml",
        """\
agent:
  listen: 127.0.0.1:9800
  bogus: 1
checks:
  - {name: web, kind: http, url: "ftp://example.test/"}
log_monitors:
  - {name: k, source: kmsg, packs: [no-such-pack]}
alerting:
  routes: 5
wat: 1
""",
    )
    result = validate(path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"{path}:2: agent: Object contains unknown field `bogus`",
        f"{path}:10: wat: unknown section; the sections are: agent, health, heartbeat, "
        "log_monitors, checks, alerting, history, plugin_monitors, stats_monitor, "
        "service_monitors, gpu",
        f"{path}:7: log_monitors[0].packs[0]: unknown rule pack 'no-such-pack'; "
        "shipped packs: container-runtime, kernel, metax, nvidia-xid",
        f"{path}:9: alerting.routes: Expected `array`, got `int` (got 5)",
        f"{path}:5: checks[0].url: must be an absolute http:// or https:// URL "
        "(got 'ftp://example.test/')",
    ]


def test_a_bad_listen_address_does_not_hide_the_checks(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "agent.yaml",
        "agent:\n  listen: nowhere\nchecks:\n  - {name: a, kind: tcp, host: db}\n",
    )
    result = validate(path)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{path}:2: agent.listen: expected HOST:PORT or 'off', got 'nowhere'",
        f"{path}:4: checks[0].port: a tcp check needs a port",
    ]


def test_good_files_say_what_they_hold(tmp_path: Path) -> None:
    agent = _write(
        tmp_path / "agent.yaml",
        "checks:\n  - {name: web, kind: http, url: 'http://127.0.0.1:1/'}\n"
        "  - {name: db, kind: tcp, host: 127.0.0.1, port: 5432}\n"
        "log_monitors:\n  - {name: k, source: kmsg, packs: [kernel]}\n",
    )
    empty = _write(tmp_path / "empty.yaml", "")
    kh = _write(tmp_path / "khchecks.yaml", KH_GOOD)
    npd = _write(
        tmp_path / "docker-monitor.json",
        json.dumps(
            {
                "plugin": "journald",
                "pluginConfig": {"source": "dockerd"},
                "source": "docker-monitor",
                "rules": [],
            }
        ),
    )
    result = validate(agent, empty, kh, npd)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [
        f"{agent}: ok (2 checks, 1 problem daemon)",
        f"{empty}: ok",
        f"{kh}: ok (2 Kuberhealthy checks: KuberhealthyCheck kuberhealthy/deployment, "
        "HealthCheck default/dns; skipped ServiceAccount)",
        f"{npd}: ok (system log monitor)",
    ]


def test_kuberhealthy_errors_and_missing_files_fail_the_run(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.yaml", KH_GOOD)
    bad = _write(tmp_path / "bad.yaml", KH_BAD)
    rbac = _write(tmp_path / "rbac.yaml", "apiVersion: v1\nkind: ServiceAccount\nmetadata: {}\n")
    as_json = _write(
        tmp_path / "check.json",
        json.dumps({"apiVersion": "comcast.github.io/v1", "kind": "KuberhealthyCheck"}),
    )
    result = validate(good, bad, rbac, as_json, tmp_path / "none.yaml")
    assert result.returncode == 2
    assert result.stdout.splitlines()[0].startswith(f"{good}: ok (2 Kuberhealthy checks")
    assert result.stderr.splitlines() == [
        f"{bad}:5: HealthCheck default/dns: spec.runInterval: "
        "not a Go duration like '30s', '5m' or '1h30m' (got '5x')",
        f"{bad}:6: HealthCheck default/dns: spec.podSpec.spec: "
        "is required: a pod spec (a mapping with containers)",
        f"{bad}:7: HealthCheck default/dns: spec.podSpec.containers: unknown field "
        "(in kuberhealthy.github.io/v2 the pod's fields go under podSpec.spec)",
        f"{rbac}: no KuberhealthyCheck or HealthCheck in this file; skipped ServiceAccount",
        f"{as_json}:1: KuberhealthyCheck: metadata: is required: a mapping with the object's name",
        f"{as_json}:1: KuberhealthyCheck: metadata.name: must be lower-case letters, digits, "
        "'-' and '.', starting and ending with a letter or digit, at most 63 characters "
        "(it becomes a label value of the check pods)",
        f"{as_json}:1: KuberhealthyCheck default/?: spec: is required: a mapping",
        f"{as_json}:1: KuberhealthyCheck default/?: spec.runInterval: "
        "is required: a Go duration like '30s', '5m' or '1h30m'",
        f"{as_json}:1: KuberhealthyCheck default/?: spec.timeout: "
        "is required: a Go duration like '30s', '5m' or '1h30m'",
        f"{as_json}:1: KuberhealthyCheck default/?: spec.podSpec: "
        "is required: a pod spec (a mapping with containers)",
        f"{tmp_path / 'none.yaml'}: no such file",
    ]


def test_hostile_agent_files(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00")
    listing = _write(tmp_path / "list.yaml", "- agent\n- checks\n")
    result = validate(binary, listing)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"{binary}: not UTF-8 text (invalid start byte at byte 0)",
        f"{listing}: the top level must be a mapping of sections",
    ]
    directory = validate(tmp_path)
    assert directory.returncode == 2 and "is a directory" in directory.stderr
