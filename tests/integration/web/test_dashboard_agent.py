"""The dashboard of the real agent: every link of the overview leads somewhere real.

The agent runs as a subprocess with a failing check and a log monitor on a file;
a matching line raises a condition. The overview must show both, with the agent's
own choices ("why is this on"), and every link on it (checks, problems,
components, static files) must answer 200, as must the pages they lead to.
"""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from html import unescape
from pathlib import Path
from typing import Any

import pytest

from tests.integration.agent.test_agent_problems import eventually
from tests.integration.conftest import AgentProcess

pytestmark = pytest.mark.slow

CONFIG = """
gpu: false
log_monitors:
  - name: app-log
    source: file
    path: {log}
    conditions:
      - {{type: DiskBroken, reason: DiskIsFine, message: disk is fine}}
    rules:
      - {{type: temporary, reason: Boom, pattern: 'BOOM \\d+.*'}}
      - {{type: permanent, condition: DiskBroken, reason: DiskFailed, pattern: 'disk failed.*'}}
checks:
  - name: refused
    kind: tcp
    host: 127.0.0.1
    port: 9
    interval: 1s
    timeout: 1s
"""


def fetch(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.status, answer.headers.get_content_type(), answer.read().decode()


def write_config(tmp_path: Path) -> tuple[Path, Path]:
    log = tmp_path / "app.log"
    log.write_text("")
    config = tmp_path / "agent.yaml"
    config.write_text(CONFIG.format(log=log))
    return config, log


def test_every_link_of_the_overview_answers(
    start_agent: Callable[..., AgentProcess], tmp_path: Path
) -> None:
    config, log = write_config(tmp_path)
    agent = start_agent("--config", str(config))
    web = str(agent.urls["web"])

    def failing() -> bool:
        state: dict[str, Any] = json.loads(fetch(f"{web}/api/v1/dashboard")[2])
        return bool(state["checks"]["default/refused"]["state"] == "failing")

    eventually(failing)
    with log.open("a") as handle:
        handle.write("BOOM 1\ndisk failed at noon\n")

    def raised() -> bool:
        return "st-raised" in fetch(f"{web}/")[2]

    eventually(raised)
    status, kind, page = fetch(f"{web}/")
    assert (status, kind) == (200, "text/html")
    assert "tcp.connected == true (saw" in page
    assert '<a href="/problems/app-log/DiskFailed">DiskFailed</a>' in page
    assert "stats" in page and "on by default" in page  # the agent's own choice, and why
    assert 'data-component="exporter:recent"' in page
    links = sorted({unescape(h) for h in re.findall(r'(?:href|src)="(/[^"]*)"', page)})
    assert "/checks/default/refused" in links and "/problems/app-log/Boom" in links
    assert any(link.startswith("/static/dashboard.js") for link in links)
    for link in links:
        status, _, body = fetch(web + link)
        assert status == 200, link
        if link.startswith("/problems/app-log/DiskFailed"):
            assert "disk failed at noon" in body and "disk failed.*" in body
        if link.startswith("/checks/"):
            assert "tcp.connected == true</code> observed" in body
