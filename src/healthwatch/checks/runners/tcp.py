"""The TCP check runner: connect, optionally talk, observe; never raising.

Many services (databases, brokers, SMTP, custom protocols) have no HTTP health
endpoint; the honest cheap check is "does the port accept a connection, and
does it say what it should". This module makes one connection (optionally TLS),
sends ``send`` if given, reads a bounded reply and searches it for ``expect``,
all within the one ``timeout`` it is given.

Context for conditions: ``tcp.connected``, ``latency`` (connect time, seconds),
``response`` (decoded text read back, at most ``read_limit`` bytes) and, when
``expect`` is set, ``expect_matched``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import re
import ssl
import time
from dataclasses import dataclass
from types import MappingProxyType

from healthwatch.checks.runners.base import MAX_BODY, Probe

__all__ = ["TcpTarget", "run_tcp"]

_CLOSE_TIMEOUT = 1.0
"""Seconds allowed for a polite close (a TLS close_notify) before giving up on it."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TcpTarget:
    """One TCP conversation to have."""

    host: str
    """Host name or address to connect to."""
    port: int
    """TCP port."""
    send: bytes | None = None
    """Bytes written once connected; a reply is then read."""
    expect: str | None = None
    """Regular expression searched in the reply; reading stops once it matches."""
    read_limit: int = 64 * 1024
    """Most bytes of reply read (never more than the runners' ``MAX_BODY``)."""
    tls: bool = False
    """Wrap the connection in TLS, verifying the certificate against the system store."""

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be 1-65535, got {self.port!r}")
        if self.read_limit <= 0:
            raise ValueError(f"read_limit must be positive, got {self.read_limit!r}")
        if self.expect is not None:
            try:
                re.compile(self.expect)
            except re.error as error:
                raise ValueError(f"invalid expect regex {self.expect!r}: {error}") from error


def _connect_error(error: BaseException, target: TcpTarget, timeout: float) -> str:
    where = f"{target.host}:{target.port}"
    if isinstance(error, TimeoutError):
        return f"timed out after {timeout:g}s connecting to {where}"
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS certificate verification failed for {where}: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return f"TLS handshake with {where} failed: {error.reason or error}"
    if isinstance(error, ConnectionRefusedError) or (
        isinstance(error, OSError) and error.errno == errno.ECONNREFUSED
    ):
        return f"connection refused by {where}"
    if isinstance(error, OSError):
        return f"cannot connect to {where}: {error.strerror or error}"
    return f"cannot connect to {where}: {type(error).__name__}: {error}"


async def _converse(
    target: TcpTarget,
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    context: dict[str, object],
) -> str:
    """Send, read and match; fills ``context`` as it goes, returns an error or ``""``."""
    limit = min(target.read_limit, MAX_BODY)
    pattern = re.compile(target.expect) if target.expect is not None else None
    received = bytearray()
    if target.send is not None:
        writer.write(target.send)
        await writer.drain()
    if pattern is None and target.send is None:
        return ""
    try:
        while len(received) < limit:
            chunk = await reader.read(limit - len(received))
            if not chunk:
                break
            received += chunk
            text = received.decode("utf-8", errors="replace")
            context["response"] = text
            if pattern is None:
                break  # without expect, the first reply is the reply
            if pattern.search(text):
                context["expect_matched"] = True
                return ""
    finally:
        context["response"] = received.decode("utf-8", errors="replace")
    if pattern is not None:
        ended = "reply limit reached" if len(received) >= limit else "connection closed"
        return f"{ended} before the reply matched /{target.expect}/"
    return ""


async def run_tcp(target: TcpTarget, *, timeout: float) -> Probe:  # noqa: ASYNC109 - contract
    """Connect to ``target`` and talk within ``timeout`` seconds; never raises.

    ``reached`` is True once the connection (and TLS handshake) succeeded;
    a reply that never comes is then an error with ``reached`` still True.
    """
    start = time.perf_counter()
    context: dict[str, object] = {"tcp": {"connected": False}}
    if target.expect is not None:
        context["expect_matched"] = False
    error = ""
    reached = False
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            try:
                reader, writer = await asyncio.open_connection(
                    target.host,
                    target.port,
                    ssl=ssl.create_default_context() if target.tls else None,
                    server_hostname=target.host if target.tls else None,
                )
            except Exception as failure:
                error = _connect_error(failure, target, timeout)
            else:
                reached = True
                context["latency"] = time.perf_counter() - start
                context["tcp"] = {"connected": True}
                context["response"] = ""
                error = await _converse(target, reader, writer, context)
    except TimeoutError:
        if reached:
            error = f"timed out after {timeout:g}s waiting for a reply"
        else:
            error = f"timed out after {timeout:g}s connecting to {target.host}:{target.port}"
    except Exception as failure:  # a reset mid-conversation is an observation
        error = f"connection failed during the exchange: {type(failure).__name__}: {failure}"
    finally:
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                async with asyncio.timeout(_CLOSE_TIMEOUT):
                    await writer.wait_closed()
    duration = time.perf_counter() - start
    context.setdefault("latency", duration)
    return Probe(reached=reached, duration=duration, error=error, context=MappingProxyType(context))
