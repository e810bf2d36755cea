"""Small HTTP and timing helpers for the health integration tests (real sockets only)."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from healthwatch.health.routes import HealthRoutes
from healthwatch.health.server import HealthServer

Address = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Reply:
    """One HTTP answer; header names in lower case."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


class Serve(Protocol):
    """The ``serve`` fixture: start a standalone server on an OS-chosen loopback port."""

    def __call__(
        self, routes: HealthRoutes, *, max_connections: int = ..., request_timeout: float = ...
    ) -> HealthServer: ...


def fetch(
    address: Address,
    path: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    timeout: float = 5.0,
) -> Reply:
    """One request on a fresh connection, closed afterwards."""
    conn = http.client.HTTPConnection(address[0], address[1], timeout=timeout)
    try:
        conn.request(method, path, headers=dict(headers or {}))
        response = conn.getresponse()
        body = response.read()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        conn.close()


def timed_fetch(address: Address, path: str, *, timeout: float = 5.0) -> tuple[Reply, float]:
    """``fetch`` and the seconds it took, connection set-up included."""
    start = time.perf_counter()
    reply = fetch(address, path, timeout=timeout)
    return reply, time.perf_counter() - start


def connect(address: Address, *, timeout: float = 5.0) -> socket.socket:
    """A plain TCP connection to ``address``."""
    return socket.create_connection(address, timeout=timeout)


def exchange(address: Address, data: bytes, *, timeout: float = 5.0) -> bytes:
    """Send raw bytes, then read until the server closes (or the connection is reset)."""
    with connect(address, timeout=timeout) as sock:
        sock.sendall(data)
        chunks: list[bytes] = []
        with contextlib.suppress(ConnectionResetError):
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks)


def split_response(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    """Status, lower-cased headers and body of one raw HTTP/1.x response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split(" ", 2)[1]), headers, body


def wait_for(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` passes; the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


@contextlib.contextmanager
def loop_in_thread() -> Iterator[asyncio.AbstractEventLoop]:
    """An asyncio loop running forever in its own thread; stopped and closed on exit."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-app-loop", daemon=True)
    thread.start()
    try:
        yield loop
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
