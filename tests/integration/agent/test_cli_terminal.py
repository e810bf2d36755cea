"""What people see on a terminal: tables and colour for ``status`` and ``check``; NO_COLOR.

Each command runs as a real subprocess whose output is a pseudo-terminal of 120 columns.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import pytest

from tests.integration.conftest import AgentProcess

pytestmark = pytest.mark.slow

StartAgent = Callable[..., AgentProcess]
COLOUR = re.compile(r"\x1b\[[0-9;]*(3[0-7]|9[0-7])m")
"""A foreground colour sequence (green, red, yellow ...), not bold, dim or italic."""
GREEN, RED = "\x1b[32m", "\x1b[31m"


def in_terminal(*args: str, no_color: bool = False, timeout: float = 30.0) -> tuple[int, str]:
    """Run ``healthwatch ARGS`` with stdout and stderr on a pseudo-terminal; (status, output)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 120, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(TERM="xterm-256color", COLUMNS="120", LINES="50")
    if no_color:
        env["NO_COLOR"] = "1"
    process = subprocess.Popen(
        [sys.executable, "-m", "healthwatch", *args],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=env,
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the command closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        return process.wait(timeout=10), b"".join(chunks).decode(errors="replace")
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


class _Ok(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/ok" else 500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def site() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = Thread(target=server.serve_forever, name="test-site")
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(10)


def test_status_draws_coloured_tables(start_agent: StartAgent) -> None:
    agent = start_agent()
    code, out = in_terminal("status", "--url", str(agent.urls["web"]))
    assert code == 0, out
    assert "why is this on" in out and "embedded default" in out
    assert "components" in out and "checks: 1," in out
    assert "┏━" in out and "┃" in out and "└─" in out  # drawn tables, not plain lines
    assert f"{GREEN}healthy" in out  # green
    assert "healthwatch/agent-livez" in out
    assert "dashboard: " in out and str(agent.urls["web"]) in out


def test_no_color_keeps_the_tables_and_drops_the_colour(start_agent: StartAgent) -> None:
    agent = start_agent()
    code, out = in_terminal("status", "--url", str(agent.urls["web"]), no_color=True)
    assert code == 0, out
    assert "┏━" in out and "healthy" in out
    assert not COLOUR.search(out)


def test_check_marks_pass_and_fail_in_colour(site: str) -> None:
    code, out = in_terminal("check", f"{site}/ok")
    assert code == 0, out
    assert "PASS" in out and f"{GREEN}ok" in out
    code, out = in_terminal("check", f"{site}/broken", "--condition", "status == 200")
    assert code == 1, out
    assert "FAIL" in out and f"{RED}FAILED" in out and "status=500" in out
