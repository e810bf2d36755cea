"""Kuberhealthy-style checks as real processes reporting over real HTTP to the report routes."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from healthwatch.aio.clock import SystemClock
from healthwatch.checks.reports import RunRegistry
from healthwatch.checks.runners.external import TIMED_OUT, ExternalTarget, run_external
from healthwatch.web.reports import MAX_REPORT, add_report_routes

# A check as Kuberhealthy images write them: read the KH_* variables, POST once, exit.
# The mode picks a behaviour; every status it gets back is appended to the log file.
CLIENT = r"""
import json, os, sys, time, urllib.error, urllib.request, uuid

mode, log = sys.argv[1], sys.argv[2]
url = os.environ["KH_REPORTING_URL"]
run = os.environ["KH_RUN_UUID"]
deadline = int(os.environ["KH_CHECK_RUN_DEADLINE"])
base = url.rsplit("/check/", 1)[0]

def post(body, target=url, header=run):
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["kh-run-uuid"] = header
    req = urllib.request.Request(target, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            status = resp.status
    except urllib.error.HTTPError as e:
        status = e.code
    with open(log, "a") as f:
        f.write(f"{status}\n")
    return status

if mode == "env":
    with open(log, "a") as f:
        f.write(json.dumps({k: v for k, v in os.environ.items()}) + "\n")
    post({"OK": True})
elif mode == "ok":
    post({"OK": True, "Errors": []})
elif mode == "fail":
    post({"OK": False, "Errors": ["dns lookup failed", "pod not ready"]})
elif mode == "never":
    time.sleep(60)
elif mode == "twice":
    post({"OK": True})
    post({"OK": True})
elif mode == "wrong-uuid":
    post({"OK": True}, target=base + "/check", header=str(uuid.uuid4()))
    print("could not report", file=sys.stderr)
    sys.exit(3)
elif mode == "late":
    post({"OK": True})
elif mode == "no-header":
    post({"ok": True, "errors": []}, header=None)
elif mode == "v2":
    post({"OK": True}, target=base + "/externalCheckStatus")
elif mode == "linger":
    post({"OK": True})
    time.sleep(60)
"""


@dataclass
class Server:
    base: str
    runs: RunRegistry


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    runs = RunRegistry(clock=SystemClock())
    app = web.Application()
    add_report_routes(app, runs)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield Server(f"http://{host}:{port}", runs)
    finally:
        await runner.cleanup()


@pytest.fixture
def client_script(tmp_path: Path) -> Path:
    script = tmp_path / "kh_client.py"
    script.write_text(CLIENT)
    return script


async def _run(
    server: Server,
    script: Path,
    mode: str,
    *,
    within: float = 10.0,
    env: dict[str, str] | None = None,
) -> tuple[dict[str, object], str, bool, list[str]]:
    log = script.parent / f"{mode}.log"
    probe = await run_external(
        ExternalTarget([sys.executable, str(script), mode, str(log)], env=env, namespace="checks"),
        timeout=within,
        check_id="checks/example",
        runs=server.runs,
        reporting_base_url=server.base,
    )
    lines = log.read_text().splitlines() if log.exists() else []
    return dict(probe.context), probe.error, probe.reached, lines


async def test_success(server: Server, client_script: Path) -> None:
    context, error, reached, statuses = await _run(server, client_script, "ok")
    assert (reached, error, statuses) == (True, "", ["200"])
    assert context["reported"] is True and context["ok"] is True and context["errors"] == []
    assert context["exit_code"] == 0
    latency = context["latency"]
    assert isinstance(latency, float) and 0 <= latency < 10


async def test_environment_carries_the_run(server: Server, client_script: Path) -> None:
    before = time.time()
    mine = {"GREETING": "hi", "KH_RUN_UUID": "not-mine"}  # KH_* always win
    context, _, reached, lines = await _run(server, client_script, "env", within=30, env=mine)
    env = json.loads(lines[0])
    run_uuid = context["run_uuid"]
    assert reached and lines[1] == "200"
    assert env["KH_RUN_UUID"] == run_uuid
    assert env["KH_REPORTING_URL"] == f"{server.base}/check/{run_uuid}"
    assert env["KH_POD_NAMESPACE"] == "checks"
    assert int(before) + 29 <= int(env["KH_CHECK_RUN_DEADLINE"]) <= int(time.time()) + 30
    assert env["GREETING"] == "hi"
    kh = {"KH_RUN_UUID", "KH_REPORTING_URL", "KH_CHECK_RUN_DEADLINE", "KH_POD_NAMESPACE"}
    assert set(env) - {"LC_CTYPE"} == {"PATH", "LANG", "GREETING", *kh}  # nothing inherited


async def test_failure_with_errors(server: Server, client_script: Path) -> None:
    context, error, reached, statuses = await _run(server, client_script, "fail")
    assert (reached, error, statuses) == (True, "", ["200"])
    assert context["ok"] is False
    assert context["errors"] == ["dns lookup failed", "pod not ready"]


async def test_never_reports(server: Server, client_script: Path) -> None:
    started = time.monotonic()
    context, error, reached, statuses = await _run(server, client_script, "never", within=1.0)
    assert (reached, error, statuses) == (False, TIMED_OUT, [])
    assert context["reported"] is False and context["ok"] is None and context["latency"] is None
    assert time.monotonic() - started < 5  # killed at the deadline, not left sleeping


async def test_reports_twice(server: Server, client_script: Path) -> None:
    context, _, reached, statuses = await _run(server, client_script, "twice")
    assert reached and context["ok"] is True
    assert statuses == ["200", "410"]


async def test_wrong_uuid_then_exit(server: Server, client_script: Path) -> None:
    context, error, reached, statuses = await _run(server, client_script, "wrong-uuid")
    assert statuses == ["400"]
    assert not reached and context["reported"] is False and context["exit_code"] == 3
    assert error == "check program exited with code 3 without reporting: could not report"


async def test_report_after_the_deadline_is_gone(server: Server, client_script: Path) -> None:
    # Nothing to start: the check runs elsewhere and reports too late.
    probe = await run_external(
        ExternalTarget(),
        timeout=0.2,
        check_id="checks/late",
        runs=server.runs,
        reporting_base_url=server.base,
    )
    assert (probe.reached, probe.error) == (False, TIMED_OUT)
    run_uuid = str(probe.context["run_uuid"])
    log = client_script.parent / "late.log"
    env = {
        "KH_REPORTING_URL": f"{server.base}/check/{run_uuid}",
        "KH_RUN_UUID": run_uuid,
        "KH_CHECK_RUN_DEADLINE": str(int(time.time())),
        "PATH": os.environ.get("PATH", ""),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(client_script), "late", str(log), env=env
    )
    assert await proc.wait() == 0
    assert log.read_text().splitlines() == ["410"]


async def test_client_without_header_is_identified_by_url(
    server: Server, client_script: Path
) -> None:
    context, _, reached, statuses = await _run(server, client_script, "no-header")
    assert (reached, context["ok"], statuses) == (True, True, ["200"])


async def test_v2_path_with_header(server: Server, client_script: Path) -> None:
    context, _, reached, statuses = await _run(server, client_script, "v2")
    assert (reached, context["ok"], statuses) == (True, True, ["200"])


async def test_program_lingering_after_its_report_is_killed(
    server: Server, client_script: Path
) -> None:
    started = time.monotonic()
    context, error, reached, statuses = await _run(server, client_script, "linger")
    assert (reached, error, statuses, context["ok"]) == (True, "", ["200"], True)
    assert time.monotonic() - started < 8


async def test_missing_program(server: Server, tmp_path: Path) -> None:
    probe = await run_external(
        ExternalTarget([str(tmp_path / "absent")]),
        timeout=5,
        check_id="checks/absent",
        runs=server.runs,
        reporting_base_url=server.base,
    )
    assert not probe.reached and probe.error.startswith("executable not found")
    run_uuid = str(probe.context["run_uuid"])
    assert server.runs.submit(run_uuid, b'{"OK": true}', header_uuid=None)[0] == 410


# --- the routes, spoken to directly ------------------------------------------------------


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _open(server: Server) -> str:
    return server.runs.open_run("checks/direct", deadline=time.time() + 30)


async def test_wrong_method(server: Server, http: aiohttp.ClientSession) -> None:
    for path in ("/check", f"/check/{uuid.uuid4()}", "/externalCheckStatus"):
        async with http.get(server.base + path) as resp:
            assert resp.status == 405 and resp.headers["Allow"] == "POST"


async def test_wrong_content_type(server: Server, http: aiohttp.ClientSession) -> None:
    run = await _open(server)
    async with http.post(
        f"{server.base}/check/{run}", data=b'{"OK": true}', headers={"Content-Type": "text/plain"}
    ) as resp:
        assert resp.status == 415
    async with http.post(
        f"{server.base}/check/{run}",
        data=b'{"OK": true}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    ) as resp:
        assert resp.status == 200


async def test_oversized_body(server: Server, http: aiohttp.ClientSession) -> None:
    run = await _open(server)
    big = json.dumps({"OK": True, "pad": "x" * MAX_REPORT}).encode()

    async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: the cap applies while reading
        for i in range(0, len(big), 4096):
            yield big[i : i + 4096]

    headers = {"Content-Type": "application/json", "kh-run-uuid": run}
    async with http.post(server.base + "/check", data=big, headers=headers) as resp:
        assert resp.status == 413
    async with http.post(server.base + "/check", data=chunked(), headers=headers) as resp:
        assert resp.status == 413
        assert "pad" not in await resp.text()
    assert server.runs.is_open(run)


async def test_external_check_status_and_missing_uuid(
    server: Server, http: aiohttp.ClientSession
) -> None:
    run = await _open(server)
    body = b'{"OK": false, "Errors": ["bad"]}'
    async with http.post(
        server.base + "/externalCheckStatus",
        data=body,
        headers={"Content-Type": "application/json"},
    ) as resp:
        assert resp.status == 400
    async with http.post(
        server.base + "/externalCheckStatus",
        data=body,
        headers={"Content-Type": "application/json", "kh-run-uuid": run},
    ) as resp:
        assert resp.status == 200
        assert await resp.json() == {"status": 200, "message": "report accepted"}
    report = await server.runs.wait(run)
    assert report is not None and report.errors == ("bad",)
