"""Is the service answering? A health endpoint's GET, or the container runtime's listing.

The health request is a minimal HTTP/1.1 GET on asyncio streams (the standard
library only): the endpoints in question (kubelet ``/healthz``, kube-proxy
``/livez``) answer on loopback with a short body, so a full client adds nothing
but import time. Healthy means status 200, as node-problem-detector's health
checker judges it. The runtime check runs ``crictl ... pods --latest`` or
``docker ps`` with a timeout; exit 0 means reachable.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass
from typing import Final

from healthwatch.aio.processes import Command, CommandResult, run_command
from healthwatch.problems.servicemonitor.components import RuntimeKind
from healthwatch.problems.servicemonitor.validation import check_url

__all__ = ["Probe", "http_probe", "runtime_argv", "runtime_probe"]

_HEAD_LIMIT: Final = 16 * 1024
_BODY_SHOWN: Final = 200
_CLOSE_GRACE: Final = 1.0
_RUNTIME_OUTPUT_CAP: Final = 16 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Probe:
    """The outcome of one probe."""

    ok: bool
    """The service answered as a healthy one does."""
    detail: str
    """What was seen (``HTTP 500: not ok``, ``connection refused``), for messages."""


def _printable(data: bytes) -> str:
    text = data.decode("utf-8", "replace")
    cleaned = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(cleaned.split())[:_BODY_SHOWN]


async def _get(url: str) -> Probe:
    parts = check_url(url)
    host = parts.hostname or ""
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    authority = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        authority += f":{parts.port}"
    context = ssl.create_default_context() if secure else None
    reader, writer = await asyncio.open_connection(host, port, ssl=context, limit=_HEAD_LIMIT)
    try:
        request = (
            f"GET {target} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: healthwatch\r\n"
            "Accept: */*\r\nConnection: close\r\n\r\n"
        )
        writer.write(request.encode("ascii"))
        await writer.drain()
        status_line = await reader.readline()
        fields = status_line.decode("latin-1").split(maxsplit=2)
        if len(fields) < 2 or not fields[0].startswith("HTTP/") or not fields[1].isdigit():
            return Probe(ok=False, detail=f"not an HTTP answer: {_printable(status_line)!r}")
        status = int(fields[1])
        while await reader.readline() not in (b"\r\n", b"\n", b""):
            pass
        body = await reader.read(_BODY_SHOWN)
        shown = _printable(body)
        detail = f"HTTP {status}: {shown}" if shown else f"HTTP {status}"
        return Probe(ok=status == 200, detail=detail)
    finally:
        writer.close()
        with contextlib.suppress(OSError, TimeoutError, ssl.SSLError):
            await asyncio.wait_for(writer.wait_closed(), _CLOSE_GRACE)


async def http_probe(url: str, *, timeout: float) -> Probe:  # noqa: ASYNC109
    """GET ``url`` within ``timeout`` seconds; ok only on status 200. Never raises."""
    try:
        async with asyncio.timeout(timeout):
            return await _get(url)
    except TimeoutError:
        return Probe(ok=False, detail=f"{url}: no answer within {timeout:g}s")
    except ssl.SSLError as error:
        return Probe(ok=False, detail=f"{url}: TLS error: {error.reason or error}")
    except (asyncio.LimitOverrunError, asyncio.IncompleteReadError, ValueError) as error:
        return Probe(ok=False, detail=f"{url}: unreadable answer: {error}")
    except OSError as error:
        return Probe(ok=False, detail=f"{url}: {error.strerror or error}")


def runtime_argv(kind: RuntimeKind, *, endpoint: str, runtime_timeout: float) -> list[str]:
    """``crictl --timeout=2s --runtime-endpoint=E pods --latest``, or ``docker ps``."""
    if kind is RuntimeKind.DOCKER:
        return ["docker", "ps"]
    return [
        "crictl",
        f"--timeout={runtime_timeout:g}s",
        f"--runtime-endpoint={endpoint}",
        "pods",
        "--latest",
    ]


def _failure(program: str, result: CommandResult, timeout: float) -> str:
    if not result.started:
        return result.error
    if result.timed_out:
        return f"{program} did not answer within {timeout:g}s"
    said = _printable(result.stderr or result.stdout)
    return f"{program} exited with {result.exit_code}" + (f": {said}" if said else "")


async def runtime_probe(
    kind: RuntimeKind,
    *,
    endpoint: str,
    runtime_timeout: float,
    timeout: float,  # noqa: ASYNC109
) -> Probe:
    """Run the runtime's listing command; ok when it exits 0 within ``timeout``."""
    argv = runtime_argv(kind, endpoint=endpoint, runtime_timeout=runtime_timeout)
    result = await run_command(Command(argv=argv, output_cap=_RUNTIME_OUTPUT_CAP), timeout=timeout)
    if result.started and result.exit_code == 0:
        return Probe(ok=True, detail=f"{argv[0]} answered in {result.duration:.2f}s")
    return Probe(ok=False, detail=_failure(argv[0], result, timeout))
