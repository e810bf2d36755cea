"""The running agent answers every request, valid or not, as its OpenAPI description says.

Schemathesis generates requests from ``/api/openapi.json`` — well-formed and
malformed bodies, headers, path and query values — and sends them to a real
agent (with a failing http check, a passing one and an external check waiting
for reports, so every page has content). Each answer is checked: no 5xx, a
status code and content type the description lists, a body matching its
schema, and malformed input rejected with a 4xx.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from healthwatch.web.openapi import openapi_document
from tests.integration.conftest import AgentProcess, kill_agent, launch_agent

schema = schemathesis.openapi.from_dict(openapi_document())


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    base: Path = tmp_path_factory.mktemp("openapi")
    config = base / "agent.yaml"
    config.write_text(
        "checks:\n"
        "  - name: refused\n"
        "    kind: tcp\n"
        f"    host: 127.0.0.1\n    port: {_closed_port()}\n"
        "    interval: 1s\n    timeout: 1s\n"
        "  - name: waits-for-reports\n"
        "    namespace: kh\n"
        "    kind: external\n"
        "    interval: 60s\n"
        "    timeout: 60s\n"
    )
    process = launch_agent(base / "state", "--config", str(config))
    yield process
    kill_agent(process)


@schema.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_every_answer_matches_the_description(
    case: schemathesis.Case[Any], agent: AgentProcess
) -> None:
    base_url = agent.urls["web"]
    assert base_url is not None
    excluded = []
    if case.method == "POST":
        # A well-formed report for a run the agent never opened is refused with 400
        # by the reporting protocol, and generated data cannot name a live run.
        excluded.append(positive_data_acceptance)
    case.call_and_validate(base_url=base_url, timeout=10, excluded_checks=excluded)
