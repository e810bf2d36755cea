"""``healthwatch check`` against a real loopback server: pass, fail, timeout, configs, JSON."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


class _Handler(BaseHTTPRequestHandler):
    release: threading.Event

    def do_GET(self) -> None:
        if self.path == "/slow":
            self.release.wait(10)
        status, body = {
            "/ok": (200, b'{"ready": true, "version": "1.2"}'),
            "/slow": (200, b"late"),
        }.get(self.path, (503, b'{"ready": false}'))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads the command's output, not the server's."""


@pytest.fixture
def site() -> Iterator[str]:
    """A loopback server: /ok 200 JSON, /slow answers after 10 s (or teardown), else 503."""
    release = threading.Event()
    handler = type("Handler", (_Handler,), {"release": release})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, name="test-site")
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    release.set()
    server.shutdown()
    server.server_close()
    thread.join(10)


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "healthwatch", "check", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _took(line: str) -> str:
    """The line with times that vary from run to run replaced by T."""
    return re.sub(
        r"latency=[\d.]+(ms|s)$", "latency=T", re.sub(r" in [\d.]+ (ms|s),", " in T,", line)
    )


def test_a_url_that_answers_passes(site: str) -> None:
    result = check(f"{site}/ok")
    assert (result.returncode, result.stderr) == (0, "")
    assert "\x1b" not in result.stdout  # not a terminal: no colour, no drawing
    assert [_took(line) for line in result.stdout.splitlines()] == [
        f"PASS {site}/ok in T, 1 attempt",
        "  ok      status < 400  observed status=200",
    ]


def test_a_failing_url_shows_the_observed_values(site: str) -> None:
    result = check(
        f"{site}/down",
        "--condition",
        "status == 200",
        "--condition",
        "json.ready == true",
        "--condition",
        "latency < 10s",
        "--retries",
        "2",
    )
    assert result.returncode == 1
    assert [_took(line) for line in result.stdout.splitlines()] == [
        f"FAIL {site}/down in T, 3 attempts",
        "  FAILED  status == 200       observed status=503",
        "  FAILED  json.ready == true  observed json.ready=false",
        "  ok      latency < 10s       observed latency=T",
    ]


def test_a_slow_url_times_out(site: str) -> None:
    started = time.monotonic()
    result = check(f"{site}/slow", "--timeout", "300ms")
    assert time.monotonic() - started < 8
    assert result.returncode == 1
    assert [_took(line) for line in result.stdout.splitlines()] == [
        f"FAIL {site}/slow in T, 1 attempt",
        "  FAILED  status < 400  observed status=<missing>",
        "  error: timed out after 0.3s waiting for a response",
    ]


def test_json_for_scripts(site: str) -> None:
    result = check(f"{site}/ok", "--condition", 'json.version == "1.2"', "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["check"] == "cli/url" and data["kind"] == "http" and data["target"] == f"{site}/ok"
    assert (data["ok"], data["errors"], data["attempts"]) == (True, [], 1)
    assert data["observations"] == [
        {"condition": 'json.version == "1.2"', "ok": True, "observed": 'json.version="1.2"'}
    ]
    assert 0 < data["duration_seconds"] < 5 and data["started_at"].endswith("Z")
    refused = json.loads(check("http://127.0.0.1:1/", "--json").stdout)
    assert refused["ok"] is False
    assert refused["errors"][0] == "connection refused by 127.0.0.1:1"


def test_a_check_from_the_agent_config(site: str, tmp_path: Path) -> None:
    reporter = textwrap.dedent(
        """\
        import json, os, urllib.request
        body = json.dumps({"OK": False, "Errors": ["disk full"]}).encode()
        headers = {"Content-Type": "application/json", "kh-run-uuid": os.environ["KH_RUN_UUID"]}
        request = urllib.request.Request(os.environ["KH_REPORTING_URL"], body, headers)
        urllib.request.urlopen(request, timeout=5).read()
        """
    )
    config = tmp_path / "agent.yaml"
    config.write_text(
        json.dumps(
            {
                "checks": [
                    {"name": "web", "kind": "http", "url": f"{site}/ok"},
                    {"name": "web", "namespace": "prod", "kind": "http", "url": f"{site}/down"},
                    {"name": "disk", "kind": "external", "argv": [sys.executable, "-c", reporter]},
                    {"name": "remote", "kind": "external"},
                    {"name": "true", "kind": "exec", "argv": ["/bin/sh", "-c", "exit 3"]},
                ]
            }
        )
    )
    ok = check("--config", str(config), "--name", "default/web")
    assert (
        ok.returncode == 0 and _took(ok.stdout.splitlines()[0]) == f"PASS {site}/ok in T, 1 attempt"
    )
    down = check("--config", str(config), "--name", "prod/web", "--json")
    assert down.returncode == 1 and json.loads(down.stdout)["check"] == "prod/web"
    external = check("--config", str(config), "--name", "disk")
    assert external.returncode == 1, external.stderr
    assert [_took(line) for line in external.stdout.splitlines()] == [
        "FAIL default/disk (external) in T, 1 attempt",
        "  FAILED  ok == true  observed ok=false",
        "  error: disk full",
    ]
    exec_check = check("--config", str(config), "--name", "true", "--timeout", "5s")
    assert exec_check.returncode == 1
    assert "  FAILED  exit_code == 0  observed exit_code=3" in exec_check.stdout
    ambiguous = check("--config", str(config), "--name", "web")
    assert (ambiguous.returncode, ambiguous.stderr) == (
        2,
        f"error: {config}: 2 checks are named 'web' (default/web, prod/web); say which\n",
    )
    missing = check("--config", str(config), "--name", "nope")
    assert missing.stderr == (
        f"error: {config}: no check named 'nope' (the checks: default/web, prod/web, "
        "default/disk, default/remote, default/true)\n"
    )
    remote = check("--config", str(config), "--name", "remote")
    assert (remote.returncode, remote.stderr) == (
        2,
        f"error: {config}: default/remote is an external check without argv: it runs elsewhere "
        "and reports to the running agent, whose result `healthwatch status` shows\n",
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "error: give a URL, or --config FILE with --name NAME"),
        (("http://a/", "--config", "x.yaml", "--name", "n"), "error: give a URL, or --config"),
        (("ftp://a/",), "error: URL: must be an absolute http:// or https:// URL (got 'ftp://a/')"),
        (("http://a/", "--timeout", "0"), "error: --timeout: must be more than 0 and at most 1h"),
        (("http://a/", "--retries", "9"), "error: --retries: must be between 0 and 5 (got 9)"),
        (
            ("http://a/", "--condition", "status = 200"),
            "error: --condition: condition \"status = 200\": unexpected '=' at column 8",
        ),
        (
            ("--config", "missing.yaml", "--name", "n"),
            "error: missing.yaml: cannot read: No such file or directory",
        ),
        (
            ("--config", "x.yaml", "--name", "n", "--condition", "status == 200"),
            "error: --condition and --retries are for a URL",
        ),
    ],
)
def test_usage_and_config_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    result = check(*args)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(message), result.stderr
