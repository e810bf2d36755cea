"""A real Alertmanager (Debian's prometheus-alertmanager) receives and resolves a check's alert."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from healthwatch.aio.clock import SystemClock
from healthwatch.checks.alerts.alertmanager import ALERTNAME
from healthwatch.checks.alerts.dispatcher import AlertDispatcher
from healthwatch.checks.alertspec import build_alerting
from healthwatch.checks.service import CheckService
from healthwatch.checks.spec import build_checks

pytestmark = pytest.mark.slow

BINARY = "/usr/bin/prometheus-alertmanager"
CONFIG = """\
route:
  receiver: blackhole
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: blackhole
"""
LOG_CAP = 64 * 1024
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))
"""Straight to loopback, whatever proxy the environment names."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tail(path: Path) -> str:
    with path.open("rb") as log:
        log.seek(max(0, path.stat().st_size - LOG_CAP))
        return log.read(LOG_CAP).decode("utf-8", "replace")


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    binary = shutil.which(BINARY) or (BINARY if os.access(BINARY, os.X_OK) else None)
    if binary is None:
        pytest.skip(f"{BINARY} is not installed (Debian package prometheus-alertmanager)")
    config = tmp_path / "alertmanager.yml"
    config.write_text(CONFIG)
    (tmp_path / "am-data").mkdir()
    port = _free_port()
    log = tmp_path / "alertmanager.log"
    argv = [
        binary,
        f"--config.file={config}",
        f"--storage.path={tmp_path / 'am-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv, stdout=output, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                pytest.fail(f"alertmanager exited with {process.returncode}:\n{_tail(log)}")
            with (
                contextlib.suppress(OSError),
                _DIRECT.open(f"{url}/-/ready", timeout=2) as answer,
            ):
                if answer.status == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"alertmanager not ready in time:\n{_tail(log)}")
            time.sleep(0.1)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture
async def target() -> AsyncIterator[tuple[str, list[int]]]:
    status = [500]

    async def health(_request: web.Request) -> web.Response:
        return web.Response(status=status[0], text="state")

    app = web.Application()
    app.router.add_get("/health", health)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    yield f"http://127.0.0.1:{runner.addresses[0][1]}/health", status
    await runner.cleanup()


async def _alerts(session: aiohttp.ClientSession, url: str) -> list[dict[str, object]]:
    query = {"filter": f'alertname="{ALERTNAME}"'}
    async with session.get(f"{url}/api/v2/alerts", params=query) as answer:
        answer.raise_for_status()
        found: list[dict[str, object]] = await answer.json()
        return found


async def test_alertmanager_receives_and_resolves_the_alert(
    alertmanager: str, target: tuple[str, list[int]]
) -> None:
    url, status = target
    clock = SystemClock()
    specs = build_checks(
        [{"name": "web", "kind": "http", "url": url, "interval": "1s", "timeout": "500ms",
          "labels": {"team": "shop", "app.kubernetes.io/name": "web"}, "alerts": ["ops"]}],
        source="agent.yaml",
    )  # fmt: skip
    alerting = build_alerting(
        {"routes": [{"name": "ops", "kind": "alertmanager", "url": alertmanager}]},
        source="agent.yaml",
        environ={},
    )
    alerts = AlertDispatcher(alerting, clock=clock, backoff_initial=0.05, backoff_maximum=0.5)
    service = CheckService(specs, clock=clock, alerts=alerts)
    service.reporting_url = "http://127.0.0.1:9800"
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await service.start()
        try:
            found: list[dict[str, object]] = []

            async def poll() -> bool:
                found[:] = await _alerts(session, alertmanager)
                return bool(found)

            deadline = time.monotonic() + 15
            while not await poll():
                assert time.monotonic() < deadline, "the alert never reached Alertmanager"
                await asyncio.sleep(0.1)
            (alert,) = found
            assert alert["labels"] == {
                "alertname": ALERTNAME,
                "check": "default/web",
                "namespace": "default",
                "team": "shop",
                "app_kubernetes_io_name": "web",
            }
            annotations = alert["annotations"]
            assert isinstance(annotations, dict)
            assert annotations["summary"] == "check default/web is failing"
            assert annotations["description"] == "status < 400 (observed status=500)"
            assert alert["generatorURL"] == ("http://127.0.0.1:9800/checks/default/web")
            state = alert["status"]
            assert isinstance(state, dict) and state["state"] == "active"

            status[0] = 200
            # A firing alert would stay listed for four minutes (four re-send periods):
            # gone within seconds means Alertmanager took the resolve (endsAt in the past).
            deadline = time.monotonic() + 15
            while await poll():
                assert time.monotonic() < deadline, "the alert was never resolved"
                await asyncio.sleep(0.1)
            # Alertmanager lists the resolve as soon as it has the POST; our side counts
            # the delivery once the answer is back.
            while alerts.counts() != {("ops", "delivered"): 2}:
                assert time.monotonic() < deadline, alerts.counts()
                await asyncio.sleep(0.05)
            view = service.views["default/web"]
            assert not view.state.alerting and view.state.notified is not None
            assert view.state.notified.ended_at is not None
            assert view.state.notified.ended_at <= time.time()
        finally:
            await service.stop()
