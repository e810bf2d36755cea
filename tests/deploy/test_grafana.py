"""The Grafana dashboard parses, lays out cleanly, and queries only metrics we export.

Every query is also handed to ``promtool check rules`` as a recording rule (Grafana's
variables replaced by values) so a PromQL syntax error fails here, not in a browser.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.manifests import DEPLOY, find, rendered
from tests.deploy.promql import exported, metric_names

DASHBOARD = DEPLOY / "grafana" / "healthwatch.json"
PROMTOOL = shutil.which("promtool")
VARIABLES = {"$__rate_interval": "5m", "$__range": "6h", "$__interval": "1m", "$node": ".*"}


def _dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def _panels() -> list[dict[str, Any]]:
    return [p for p in _dashboard()["panels"] if p["type"] != "row"]


def _queries() -> Iterator[tuple[str, str]]:
    for panel in _panels():
        for target in panel["targets"]:
            yield panel["title"], target["expr"]


def test_dashboard_is_a_grafana_dashboard_with_a_datasource_variable() -> None:
    dashboard = _dashboard()
    assert dashboard["uid"] == "healthwatch"
    assert dashboard["schemaVersion"] >= 36
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert "healthwatch_build_info" in variables["node"]["definition"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in _panels():
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert panel["title"] and panel["description"]
        assert panel["targets"]
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])


def test_panels_do_not_overlap_and_fit_the_grid() -> None:
    taken: set[tuple[int, int]] = set()
    for panel in _dashboard()["panels"]:
        box = panel["gridPos"]
        assert box["x"] >= 0 and box["x"] + box["w"] <= 24, panel["title"]
        cells = {
            (x, y)
            for x in range(box["x"], box["x"] + box["w"])
            for y in range(box["y"], box["y"] + box["h"])
        }
        assert not cells & taken, panel["title"]
        taken |= cells


def test_dashboard_covers_conditions_problems_checks_and_agent_health() -> None:
    used = {name for _, expr in _queries() for name in metric_names(expr)}
    wanted = {"problem_gauge", "problem_counter", "kuberhealthy_check"}
    wanted |= {"healthwatch_health_status", "healthwatch_probe_passed"}
    assert wanted <= used
    assert any(n.startswith("healthwatch_check_") for n in used)


def test_dashboard_queries_only_exported_metrics() -> None:
    for title, expr in _queries():
        names = metric_names(expr)
        assert names, (title, expr)
        missing = sorted(n for n in names if not exported(n))
        assert missing == [], (title, missing)


def test_the_check_would_notice_an_unknown_metric() -> None:
    assert not exported("healthwatch_made_up_total")
    assert metric_names('sum by (x) (rate(healthwatch_made_up_total{a="b"}[5m]))') == {
        "healthwatch_made_up_total"
    }


def test_every_query_parses(tmp_path: Path) -> None:
    if PROMTOOL is None:
        pytest.skip("promtool is not installed (Debian package prometheus)")
    rules = []
    for index, (_, query) in enumerate(_queries()):
        expr = query
        for variable, value in sorted(VARIABLES.items(), key=lambda kv: -len(kv[0])):
            expr = expr.replace(variable, value)
        assert "$" not in expr, expr
        rules.append({"record": f"dashboard:query_{index}", "expr": expr})
    (tmp_path / "queries.yaml").write_text(
        yaml.safe_dump({"groups": [{"name": "q", "rules": rules}]})
    )
    done = subprocess.run(
        [PROMTOOL, "check", "rules", "queries.yaml"],
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        check=False,
    )
    output = (done.stdout + done.stderr)[: 1 << 20].decode(errors="replace")
    assert done.returncode == 0, output


def test_the_dashboard_config_map_carries_the_file_for_the_sidecar() -> None:
    config_map = find(rendered("grafana"), "ConfigMap", "healthwatch-grafana-dashboard")
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert json.loads(config_map["data"]["healthwatch.json"]) == _dashboard()
