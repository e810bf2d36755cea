"""A real headless Chromium (Debian's ``chromium``) driven by Playwright, and an agent to show it.

Browser tests are skipped, saying why, only when ``/usr/bin/chromium`` is absent
(``scripts/test`` installs it). Every page opened records its console messages
and the URL of every request it made, so tests can assert that nothing went
wrong and nothing left the machine. Screenshots go to ``$HEALTHWATCH_TEST_ARTIFACTS``
when set, else to ``screenshots/`` under pytest's base temporary directory.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Request, sync_playwright

from tests.integration.conftest import AgentProcess, kill_agent, launch_agent

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Recorder:
    """What the pages of a test said on their consoles and asked for."""

    console: list[tuple[str, str]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> Page:
        def on_console(message: ConsoleMessage) -> None:
            self.console.append((message.type, message.text))

        def on_request(request: Request) -> None:
            self.requests.append(request.url)

        page.on("console", on_console)
        page.on("pageerror", lambda error: self.console.append(("error", str(error))))
        page.on("request", on_request)
        return page

    def errors(self) -> list[str]:
        return [text for kind, text in self.console if kind in ("error", "warning")]


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver, for one module only: its sync API keeps an event loop running
    in this thread, which the asyncio tests of other modules must not meet."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is not installed (scripts/test installs Debian's chromium)"
        print(f"skipping browser tests: {reason}")
        pytest.skip(reason)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
    yield launched
    launched.close()


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("HEALTHWATCH_TEST_ARTIFACTS")
    folder = Path(chosen) if chosen else tmp_path_factory.getbasetemp() / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@dataclass
class Node:
    """A running agent with a log file to write problems into and a flag its check reads."""

    agent: AgentProcess
    log: Path
    flag: Path

    @property
    def web(self) -> str:
        return str(self.agent.urls["web"])

    def write(self, text: str) -> None:
        with self.log.open("a", encoding="utf-8") as handle:
            handle.write(text)


CONFIG = """
gpu: false
stats_monitor: false
log_monitors:
  - name: app-log
    source: file
    path: {log}
    conditions:
      - {{type: DiskBroken, reason: DiskIsFine, message: disk is fine}}
    rules:
      - {{type: temporary, reason: Boom, pattern: 'BOOM \\d+.*'}}
      - {{type: permanent, condition: DiskBroken, reason: DiskFailed, pattern: 'disk failed.*'}}
      - {{type: recovery, condition: DiskBroken, reason: DiskRepaired, pattern: 'disk ok again'}}
checks:
  - name: flag-file
    kind: exec
    argv: [/usr/bin/test, -f, {flag}]
    interval: 1s
    timeout: 1s
  - name: always
    namespace: platform
    kind: exec
    argv: [/bin/true]
    interval: 1s
    timeout: 1s
"""


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    base = tmp_path_factory.mktemp("dashboard")
    log, flag = base / "app.log", base / "flag"
    log.write_text("")
    config = base / "agent.yaml"
    config.write_text(CONFIG.format(log=log, flag=flag))
    agent = launch_agent(base / "state", "--config", str(config))
    yield Node(agent, log, flag)
    kill_agent(agent)
