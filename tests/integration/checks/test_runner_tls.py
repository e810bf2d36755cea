"""The TLS runner against real asyncio TLS servers with certificates made by trustme."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme

from healthwatch.checks.expressions import compile_condition
from healthwatch.checks.runners.base import Probe
from healthwatch.checks.runners.tls import TlsTarget, hostname_matches, run_tls

Serve = Callable[[trustme.LeafCert], Awaitable[int]]


async def _echo_until_eof(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        await reader.read()
    writer.close()


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA(organization_name="Healthwatch Test")


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start a TLS server on 127.0.0.1 presenting the given certificate; returns its port."""
    servers: list[asyncio.Server] = []

    async def start(cert: trustme.LeafCert) -> int:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        server = await asyncio.start_server(_echo_until_eof, "127.0.0.1", 0, ssl=context)
        servers.append(server)
        return int(server.sockets[0].getsockname()[1])

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


def _cert(probe: Probe) -> Mapping[str, object]:
    cert = probe.context["cert"]
    assert isinstance(cert, Mapping)
    return cert


async def test_valid_certificate(ca: trustme.CA, ca_file: str, serve: Serve) -> None:
    port = await serve(ca.issue_cert("localhost", "127.0.0.1", common_name="localhost"))
    probe = await run_tls(
        TlsTarget("127.0.0.1", port, server_name="localhost", ca_file=ca_file), timeout=5
    )
    assert probe.reached and probe.error == ""
    cert = _cert(probe)
    assert cert["chain_ok"] is True and cert["hostname_ok"] is True
    expiry = cert["expiry"]
    assert isinstance(expiry, float) and expiry > 0
    assert cert["san"] == ["localhost", "127.0.0.1"]
    assert "O=Healthwatch Test" in str(cert["issuer"])
    assert str(cert["subject"]).startswith("CN=localhost, O=trustme")
    assert datetime.fromisoformat(str(cert["not_after"])) > datetime.now(UTC)
    assert datetime.fromisoformat(str(cert["not_before"])) < datetime.now(UTC)
    tls = probe.context["tls"]
    assert isinstance(tls, Mapping) and tls["version"] == "TLSv1.3" and tls["cipher"]
    latency = probe.context["latency"]
    assert isinstance(latency, float) and 0 < latency < 5
    assert compile_condition("cert.expiry > 14d").evaluate(probe.context).ok
    assert compile_condition("cert.chain_ok and cert.hostname_ok").evaluate(probe.context).ok


async def test_ip_address_target_matches_ip_san(ca: trustme.CA, ca_file: str, serve: Serve) -> None:
    port = await serve(ca.issue_cert("127.0.0.1"))
    probe = await run_tls(TlsTarget("127.0.0.1", port, ca_file=ca_file), timeout=5)
    assert probe.error == "" and _cert(probe)["hostname_ok"] is True


async def test_expired_certificate_still_reports_details(
    ca: trustme.CA, ca_file: str, serve: Serve
) -> None:
    now = datetime.now(UTC)
    leaf = ca.issue_cert(
        "localhost", not_before=now - timedelta(days=30), not_after=now - timedelta(days=2)
    )
    port = await serve(leaf)
    probe = await run_tls(
        TlsTarget("127.0.0.1", port, server_name="localhost", ca_file=ca_file), timeout=5
    )
    assert probe.reached
    assert probe.error == "certificate has expired"
    cert = _cert(probe)
    assert cert["chain_ok"] is False and cert["hostname_ok"] is True
    expiry = cert["expiry"]
    assert isinstance(expiry, float) and -3 * 86400 < expiry < -86400
    assert cert["san"] == ["localhost"]
    assert not compile_condition("cert.expiry > 14d").evaluate(probe.context).ok


async def test_certificate_for_another_host(ca: trustme.CA, ca_file: str, serve: Serve) -> None:
    port = await serve(ca.issue_cert("other.example"))
    probe = await run_tls(
        TlsTarget("127.0.0.1", port, server_name="localhost", ca_file=ca_file), timeout=5
    )
    assert probe.reached
    assert probe.error.startswith("hostname mismatch")
    cert = _cert(probe)
    assert cert["chain_ok"] is True and cert["hostname_ok"] is False
    assert cert["san"] == ["other.example"]


async def test_untrusted_ca_still_reports_details(
    ca: trustme.CA, serve: Serve, tmp_path: Path
) -> None:
    port = await serve(ca.issue_cert("localhost"))
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    with_other = await run_tls(
        TlsTarget("127.0.0.1", port, server_name="localhost", ca_file=str(other)), timeout=5
    )
    assert with_other.reached
    assert with_other.error.startswith("unknown issuer")
    cert = _cert(with_other)
    assert cert["chain_ok"] is False and cert["hostname_ok"] is True
    assert "O=Healthwatch Test" in str(cert["issuer"])
    assert isinstance(cert["expiry"], float) and cert["expiry"] > 0

    unverified = await run_tls(
        TlsTarget("127.0.0.1", port, server_name="localhost", verify=False), timeout=5
    )
    assert unverified.error == ""
    assert _cert(unverified)["chain_ok"] is False and _cert(unverified)["hostname_ok"] is True


async def test_closed_port_is_not_reached() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    probe = await run_tls(TlsTarget("127.0.0.1", port), timeout=5)
    assert not probe.reached
    assert probe.error == f"connection refused by 127.0.0.1:{port}"
    assert probe.context == {}


async def test_server_that_never_completes_the_handshake_times_out() -> None:
    hold = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await hold.wait()
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        probe = await run_tls(TlsTarget("127.0.0.1", port), timeout=0.3)
    finally:
        hold.set()
        server.close()
        await server.wait_closed()
    assert not probe.reached
    assert probe.error == f"timed out after 0.3s connecting or handshaking with 127.0.0.1:{port}"
    assert 0.3 <= probe.duration < 2


async def test_plain_tcp_server_is_a_handshake_failure() -> None:
    async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.0 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(plain, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        probe = await run_tls(TlsTarget("127.0.0.1", port), timeout=5)
    finally:
        server.close()
        await server.wait_closed()
    assert probe.error.startswith(f"TLS handshake with 127.0.0.1:{port} failed")


@pytest.mark.parametrize(
    ("name", "san", "expected"),
    [
        ("a.example.com", [("DNS", "*.example.com")], True),
        ("A.Example.COM.", [("DNS", "a.example.com")], True),
        ("b.a.example.com", [("DNS", "*.example.com")], False),
        ("example.com", [("DNS", "*.example.com")], False),
        ("::1", [("IP Address", "0:0:0:0:0:0:0:1")], True),
        ("127.0.0.1", [("DNS", "127.0.0.1")], False),
        ("localhost", [("IP Address", "127.0.0.1")], False),
    ],
)
def test_hostname_matching(name: str, san: list[tuple[str, str]], expected: bool) -> None:
    assert hostname_matches(name, san) is expected
