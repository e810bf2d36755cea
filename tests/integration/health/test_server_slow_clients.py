"""Slow, greedy and vanishing clients cannot starve the standalone server."""

from __future__ import annotations

import contextlib
import logging
import select
import socket
import struct
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from healthwatch.health.registry import HealthRegistry
from healthwatch.health.routes import HealthRoutes
from tests.integration.health.netkit import Address, Serve, connect, fetch, timed_fetch

QUICK = 0.5
"""A normal client must be answered this fast whatever the others do."""


@contextlib.contextmanager
def slowloris(address: Address, count: int, *, every: float = 1.0) -> Iterator[list[socket.socket]]:
    """``count`` connections that each send one byte of a request every ``every`` seconds."""
    socks = [connect(address) for _ in range(count)]
    stop = threading.Event()
    request = b"GET /livez HTTP/1.1\r\nHost: x\r\nX-Padding: " + b"a" * 10_000

    def drip() -> None:
        for index in range(len(request)):
            for sock in socks:
                with contextlib.suppress(OSError):
                    sock.sendall(request[index : index + 1])
            if stop.wait(every):
                return

    dripper = threading.Thread(target=drip, name="slowloris", daemon=True)
    dripper.start()
    try:
        yield socks
    finally:
        stop.set()
        dripper.join(timeout=5)
        for sock in socks:
            sock.close()


@pytest.fixture
def server_address(ready: HealthRegistry, serve: Serve) -> Address:
    return serve(HealthRoutes(ready)).address


@pytest.mark.slow
def test_slowloris_does_not_delay_normal_clients(server_address: Address) -> None:
    with slowloris(server_address, 20):
        deadline = time.monotonic() + 2.5  # long enough for a few drips
        while time.monotonic() < deadline:
            reply, took = timed_fetch(server_address, "/livez")
            assert reply.status == 200
            assert took < QUICK
            time.sleep(0.2)


def test_slowloris_filling_every_slot_does_not_starve_probes(
    ready: HealthRegistry, serve: Serve
) -> None:
    server = serve(HealthRoutes(ready), max_connections=8)
    with slowloris(server.address, 8) as socks:
        time.sleep(0.2)  # let the server take every one of them
        for _ in range(5):
            reply, took = timed_fetch(server.address, "/livez")
            assert reply.status == 200
            assert took < QUICK
        readable, _, _ = select.select(socks, [], [], 0.5)
        for sock in readable:  # closed by the server to make room: EOF, or a reset
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(1) == b""
        evicted = len(readable)
        assert 1 <= evicted <= 5


def test_many_concurrent_connections(server_address: Address) -> None:
    def one(index: int) -> int:
        return fetch(server_address, "/readyz" if index % 2 else "/livez", timeout=10).status

    with ThreadPoolExecutor(max_workers=64) as pool:
        statuses = list(pool.map(one, range(400)))
    assert statuses == [200] * 400


def test_many_idle_connections_held_open(server_address: Address) -> None:
    socks = [connect(server_address) for _ in range(100)]
    try:
        reply, took = timed_fetch(server_address, "/livez")
        assert (reply.status, took < QUICK) == (200, True)
    finally:
        for sock in socks:
            sock.close()


@pytest.mark.parametrize(
    "sent",
    [
        b"",
        b"GET /li",
        b"GET /livez HTTP/1.1\r\nHost: x\r\n",
        b"GET /livez HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
        b"POST /livez HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nabc",
    ],
    ids=["nothing", "half-line", "no-blank-line", "full-request", "full-health", "half-body"],
)
def test_client_vanishing_mid_request(
    server_address: Address, sent: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="healthwatch")
    for linger in (False, True):
        sock = connect(server_address)
        if linger:  # close with a reset rather than a FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.sendall(sent)
        sock.close()
    reply, took = timed_fetch(server_address, "/livez")
    assert (reply.status, took < QUICK) == (200, True)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_idle_connection_is_closed_after_the_request_timeout(
    ready: HealthRegistry, serve: Serve
) -> None:
    server = serve(HealthRoutes(ready), request_timeout=0.3)
    with connect(server.address) as sock:
        sock.settimeout(3)
        started = time.monotonic()
        assert sock.recv(1) == b""
        assert time.monotonic() - started < 2
