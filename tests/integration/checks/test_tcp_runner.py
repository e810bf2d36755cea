"""The TCP runner against real asyncio servers on loopback."""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import trustme

from healthwatch.checks.expressions import compile_condition
from healthwatch.checks.runners.tcp import TcpTarget, run_tcp

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
Serve = Callable[..., Awaitable[int]]


async def _pong(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    line = await reader.readline()
    writer.write(b"+PONG\r\n" if line == b"PING\r\n" else b"-ERR\r\n")
    await writer.drain()
    writer.close()


async def _banner(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"220 mail.example ESMTP ready\r\n")
    await writer.drain()
    await asyncio.sleep(0.2)
    writer.close()


async def _chatty(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"y" * 100_000)
    await writer.drain()
    writer.close()


async def _silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # until the client goes away
    writer.close()


async def _hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    """Start an asyncio server with ``handler`` on 127.0.0.1; returns its OS-chosen port."""
    servers: list[asyncio.Server] = []
    handlers: set[asyncio.Task[object]] = set()

    async def start(handler: Handler, ssl_context: ssl.SSLContext | None = None) -> int:
        async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            handlers.add(task)
            await handler(reader, writer)

        server = await asyncio.start_server(tracked, "127.0.0.1", 0, ssl=ssl_context)
        servers.append(server)
        port: int = server.sockets[0].getsockname()[1]
        return port

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()
    # Every handler must finish on its own once the client is gone: nothing left behind.
    async with asyncio.timeout(5):
        await asyncio.gather(*handlers, return_exceptions=True)


async def test_send_and_expect_feed_the_conditions_language(serve: Serve) -> None:
    port = await serve(_pong)
    probe = await run_tcp(
        TcpTarget(host="127.0.0.1", port=port, send=b"PING\r\n", expect=r"^\+PONG"), timeout=5
    )

    assert probe.reached and probe.error == ""
    assert probe.context["tcp"] == {"connected": True}
    assert probe.context["response"] == "+PONG\r\n" and probe.context["expect_matched"] is True
    condition = "tcp.connected == true and expect_matched == true and latency < 1s"
    assert compile_condition(condition).evaluate(probe.context).ok
    assert compile_condition('response matches "PONG"').evaluate(probe.context).ok


async def test_a_banner_is_read_without_sending(serve: Serve) -> None:
    port = await serve(_banner)
    probe = await run_tcp(TcpTarget(host="127.0.0.1", port=port, expect=r"^220 "), timeout=5)

    assert probe.error == "" and probe.context["expect_matched"] is True
    assert probe.duration < 0.2  # stopped reading at the match, not at close


async def test_connect_only_does_not_read(serve: Serve) -> None:
    port = await serve(_silent)
    probe = await run_tcp(TcpTarget(host="127.0.0.1", port=port), timeout=5)

    assert probe.reached and probe.error == "" and "expect_matched" not in probe.context
    assert isinstance(probe.context["latency"], float) and probe.duration < 1


async def test_the_reply_is_bounded_by_read_limit(serve: Serve) -> None:
    port = await serve(_chatty)
    target = TcpTarget(host="127.0.0.1", port=port, expect="never", read_limit=1000)
    probe = await run_tcp(target, timeout=5)

    assert probe.context["response"] == "y" * 1000 and probe.context["expect_matched"] is False
    assert probe.error == "reply limit reached before the reply matched /never/"


async def test_a_server_that_never_answers_times_out(serve: Serve) -> None:
    port = await serve(_silent)
    target = TcpTarget(host="127.0.0.1", port=port, send=b"HELLO\r\n", expect="OK")
    probe = await run_tcp(target, timeout=0.3)

    assert probe.reached and probe.context["tcp"] == {"connected": True}
    assert probe.error == "timed out after 0.3s waiting for a reply"
    assert probe.context["expect_matched"] is False and probe.duration < 2


async def test_a_server_that_hangs_up_is_observed(serve: Serve) -> None:
    port = await serve(_hang_up)
    target = TcpTarget(host="127.0.0.1", port=port, send=b"PING\r\n", expect="PONG")
    probe = await run_tcp(target, timeout=5)

    assert probe.reached and probe.context["response"] == ""
    assert probe.context["expect_matched"] is False
    assert "before the reply matched" in probe.error or "connection failed" in probe.error


async def test_a_closed_port_is_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    probe = await run_tcp(TcpTarget(host="127.0.0.1", port=port, expect="x"), timeout=5)

    assert not probe.reached and "refused" in probe.error
    assert probe.context["tcp"] == {"connected": False}
    assert not compile_condition("tcp.connected == true").evaluate(probe.context).ok


async def test_tls_rejects_a_certificate_from_an_unknown_ca(serve: Serve) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    port = await serve(_banner, context)
    probe = await run_tcp(TcpTarget(host="127.0.0.1", port=port, tls=True), timeout=5)

    assert not probe.reached and "TLS certificate verification failed" in probe.error


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"port": 0}, "port must be"),
        ({"port": 80, "read_limit": 0}, "read_limit must be positive"),
        ({"port": 80, "expect": "("}, "invalid expect regex"),
    ],
)
def test_bad_targets_are_rejected_at_load(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TcpTarget(host="h", **fields)  # type: ignore[arg-type]
