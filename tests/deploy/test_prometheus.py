"""Alerts parse, fire when they should, and ask only for exported metrics; scraping is wired.

The PrometheusRule's groups are written to a rules file for ``promtool`` (Debian
package ``prometheus``): ``check rules`` parses every expression, and ``test rules``
feeds made-up series through the alerts on a simulated clock to show each fires after
its ``for`` and with its annotations filled in.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.manifests import find, rendered
from tests.deploy.promql import exported, metric_names

PROMTOOL = shutil.which("promtool")
_OUTPUT_CAP = 1 << 20


def _groups() -> list[dict[str, Any]]:
    rule = find(rendered("prometheus"), "PrometheusRule", "healthwatch")
    groups: list[dict[str, Any]] = rule["spec"]["groups"]
    return groups


def _rules() -> dict[str, dict[str, Any]]:
    return {r["alert"]: r for g in _groups() for r in g["rules"]}


def _promtool(*args: str, cwd: Path) -> str:
    if PROMTOOL is None:
        pytest.skip("promtool is not installed (Debian package prometheus)")
    done = subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, timeout=60, check=False)
    output = (done.stdout + done.stderr)[:_OUTPUT_CAP].decode(errors="replace")
    assert done.returncode == 0, output
    return output


def test_the_issue_s_alerts_are_all_there() -> None:
    rules = _rules()
    assert rules["HealthwatchNodeCondition"]["expr"] == "problem_gauge == 1"
    assert rules["HealthwatchNodeCondition"]["for"] == "5m"
    assert rules["HealthwatchCheckFailing"]["expr"] == "kuberhealthy_check == 0"
    assert rules["HealthwatchCheckFailing"]["for"] == "10m"
    assert rules["HealthwatchAgentDown"]["expr"] == 'up{job="healthwatch-agent"} == 0'
    assert "degraded" in rules["HealthwatchAgentDegraded"]["expr"]
    for rule in rules.values():
        assert rule["labels"]["severity"] in {"info", "warning", "critical"}
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_alerts_ask_only_for_exported_metrics() -> None:
    for name, rule in _rules().items():
        names = metric_names(rule["expr"])
        assert names, name
        assert all(exported(n) for n in names), (name, names)


def test_job_labels_name_the_scraped_services() -> None:
    jobs = {m for r in _rules().values() for m in re.findall(r'job="([^"]+)"', r["expr"])}
    services = {
        o["metadata"]["name"]
        for o in rendered("overlays/with-controller")
        if o["kind"] == "Service"
    }
    assert jobs == services  # the ServiceMonitor's job label is the Service's name


def test_service_monitor_selects_every_metrics_port() -> None:
    monitor = find(rendered("prometheus"), "ServiceMonitor", "healthwatch")
    selector = monitor["spec"]["selector"]["matchLabels"].items()
    services = [o for o in rendered("overlays/with-controller") if o["kind"] == "Service"]
    assert services
    for service in services:
        assert selector <= service["metadata"]["labels"].items()
        ports = {p["name"] for p in service["spec"]["ports"]}
        assert {e["port"] for e in monitor["spec"]["endpoints"]} <= ports
        assert (
            service["metadata"]["namespace"] in monitor["spec"]["namespaceSelector"]["matchNames"]
        )


def test_promtool_accepts_the_rules(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": _groups()}))
    output = _promtool("check", "rules", "rules.yaml", cwd=tmp_path)
    assert f"SUCCESS: {len(_rules())} rules found" in output


def _annotations(alert: str, labels: dict[str, str]) -> dict[str, str]:
    """The rule's annotations with ``{{ $labels.NAME }}`` filled in, as Prometheus does."""
    filled = {}
    for key, template in _rules()[alert]["annotations"].items():
        text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m[1]], template)
        assert "{{" not in text, text  # nothing beyond label references
        filled[key] = text
    return filled


def _expect(alert: str, at: str, *firing: dict[str, str]) -> dict[str, Any]:
    severity = _rules()[alert]["labels"]["severity"]
    alerts = [
        {
            "exp_labels": {**labels, "severity": severity},
            "exp_annotations": _annotations(alert, labels),
        }
        for labels in firing
    ]
    return {"eval_time": at, "alertname": alert, "exp_alerts": alerts}


def _series(name: str, labels: dict[str, str], values: str) -> dict[str, str]:
    matchers = ",".join(f'{key}="{value}"' for key, value in labels.items())
    return {"series": f"{name}{{{matchers}}}", "values": values}


def test_alerts_fire_after_their_for_duration(tmp_path: Path) -> None:
    condition = {"node": "n1", "type": "KernelDeadlock", "reason": "DockerHung"}
    check = {"check": "shop/web", "namespace": "shop", "node": "n1", "status": "0", "pod": "p1"}
    down = {"job": "healthwatch-agent", "pod": "healthwatch-agent-abcde"}
    tests = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    _series("problem_gauge", condition, "0 1x20"),
                    _series("problem_gauge", {**condition, "type": "ReadonlyFilesystem"}, "0x20"),
                    _series("kuberhealthy_check", check, "0x20"),
                    _series("up", down, "1 0x20"),
                    _series(
                        "healthwatch_health_status", {"node": "n1", "status": "degraded"}, "1x20"
                    ),
                    _series(
                        "healthwatch_health_status", {"node": "n1", "status": "unhealthy"}, "0x20"
                    ),
                ],
                "alert_rule_test": [
                    _expect("HealthwatchNodeCondition", "5m"),
                    _expect("HealthwatchNodeCondition", "7m", condition),
                    _expect("HealthwatchCheckFailing", "9m"),
                    _expect("HealthwatchCheckFailing", "11m", check),
                    _expect("HealthwatchAgentDown", "5m"),
                    _expect("HealthwatchAgentDown", "7m", down),
                    _expect("HealthwatchAgentsAbsent", "20m"),
                    _expect("HealthwatchAgentDegraded", "14m"),
                    _expect(
                        "HealthwatchAgentDegraded", "16m", {"node": "n1", "status": "degraded"}
                    ),
                    _expect("HealthwatchAgentUnhealthy", "20m"),
                    _expect("HealthwatchControllerDown", "20m"),
                ],
            },
            {
                "interval": "1m",
                "input_series": [{"series": 'up{job="kubelet"}', "values": "1x20"}],
                "alert_rule_test": [
                    _expect("HealthwatchAgentsAbsent", "14m"),
                    _expect("HealthwatchAgentsAbsent", "16m", {"job": "healthwatch-agent"}),
                ],
            },
        ],
    }
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": _groups()}))
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests))
    assert "SUCCESS" in _promtool("test", "rules", "tests.yaml", cwd=tmp_path)


def test_promtool_test_would_notice_a_wrong_expectation(tmp_path: Path) -> None:
    tests = {
        "rule_files": ["rules.yaml"],
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'problem_gauge{node="n",type="T",reason="R"}', "values": "1x10"}
                ],
                "alert_rule_test": [
                    _expect(
                        "HealthwatchNodeCondition", "2m", {"node": "n", "type": "T", "reason": "R"}
                    )
                ],
            }
        ],
    }
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": _groups()}))
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests))
    with pytest.raises(AssertionError, match="FAILED"):
        _promtool("test", "rules", "tests.yaml", cwd=tmp_path)
