"""The HTTP check runner: one request, observed phase by phase, never raising.

Synthetic HTTP checks need more than "did it answer": conditions read the
status, the headers, the (bounded) body, parsed JSON, and where the time went.
This module performs one attempt with aiohttp's client and turns everything
that can go wrong (refused, DNS, TLS, timeouts, redirect loops, a server that
trickles bytes) into a :class:`~healthwatch.checks.runners.base.Probe` with a
clear, credential-free error.

Timings (``context["timings"]``, seconds) come from an :class:`aiohttp.TraceConfig`:
``dns`` and ``connect`` are phase durations (``connect`` is TCP plus TLS, as
aiohttp reports one span for both); ``tls`` approximates the handshake as that
same connection span for ``https`` (aiohttp has no separate hook) and is
``None`` for plain HTTP; ``first_byte`` and ``total`` are measured from the
start of the attempt, like curl's ``time_starttransfer``/``time_total``. A
shared session only reports phase timings when it was built with
:func:`timing_trace_config`; otherwise those values are ``None``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import json
import os
import re
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType, SimpleNamespace
from typing import Any

import aiohttp

from healthwatch.checks.runners.base import MAX_BODY, Probe
from healthwatch.checks.runners.http_addresses import probe_every_address

__all__ = ["HttpTarget", "redact_url", "run_http", "timing_trace_config"]

_CREDENTIALS = re.compile(r"(?<=//)[^/@\s]+@")


def redact_url(text: str) -> str:
    """Replace ``user:pass@`` in any URL inside ``text`` with ``***@``."""
    return _CREDENTIALS.sub("***@", text)


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpTarget:
    """One HTTP request to make."""

    url: str
    """Absolute ``http://`` or ``https://`` URL; credentials in it are never echoed."""
    method: str = "GET"
    """HTTP method."""
    headers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """Request headers sent as given."""
    body: bytes | None = None
    """Request body, if any."""
    follow_redirects: bool = True
    """Follow 3xx responses; when False the redirect response itself is observed."""
    max_redirects: int = 5
    """More redirects than this is an error (catches loops)."""
    verify_tls: bool = True
    """Verify the server certificate and host name."""
    ca_file: str | None = None
    """PEM bundle of CAs to trust instead of the system store."""
    client_cert: str | None = None
    """PEM client certificate for mutual TLS."""
    client_key: str | None = None
    """PEM key of ``client_cert`` (when not inside the certificate file)."""
    all_addresses: bool = False
    """Send the request to every address of the host (see :mod:`.http_addresses`)."""


@dataclass(slots=True)
class _Timings:
    """Monotonic marks filled in by the trace callbacks during one attempt."""

    start: float
    traced: bool = False
    dns: float = 0.0
    connect: float = 0.0
    dns_started: float | None = None
    create_started: float | None = None
    headers_at: float | None = None

    def as_context(self, *, end: float, https: bool) -> dict[str, float | None]:
        first_byte = None if self.headers_at is None else self.headers_at - self.start
        return {
            "dns": self.dns if self.traced else None,
            "connect": self.connect if self.traced else None,
            "tls": self.connect if self.traced and https else None,
            "first_byte": first_byte,
            "total": end - self.start,
        }


def _timings_of(ctx: SimpleNamespace) -> _Timings | None:
    found = getattr(ctx, "trace_request_ctx", None)
    return found if isinstance(found, _Timings) else None


async def _on_request_start(_s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: Any) -> None:
    if (marks := _timings_of(ctx)) is not None:
        marks.traced = True


async def _on_dns_start(_s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: Any) -> None:
    if (marks := _timings_of(ctx)) is not None:
        marks.dns_started = time.perf_counter()


async def _on_dns_end(_s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: Any) -> None:
    if (marks := _timings_of(ctx)) is not None and marks.dns_started is not None:
        marks.dns += time.perf_counter() - marks.dns_started
        marks.dns_started = None


async def _on_create_start(_s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: Any) -> None:
    if (marks := _timings_of(ctx)) is not None:
        marks.create_started = time.perf_counter()
        marks.dns_started = None


async def _on_create_end(_s: aiohttp.ClientSession, ctx: SimpleNamespace, _p: Any) -> None:
    if (marks := _timings_of(ctx)) is not None and marks.create_started is not None:
        span = time.perf_counter() - marks.create_started
        # The connection span contains DNS resolution; count it once, under "dns".
        marks.connect += max(0.0, span - marks.dns)
        marks.create_started = None


def timing_trace_config() -> aiohttp.TraceConfig:
    """A trace config to build shared sessions with, so :func:`run_http` can time phases."""
    config = aiohttp.TraceConfig()
    config.on_request_start.append(_on_request_start)
    config.on_dns_resolvehost_start.append(_on_dns_start)
    config.on_dns_resolvehost_end.append(_on_dns_end)
    config.on_connection_create_start.append(_on_create_start)
    config.on_connection_create_end.append(_on_create_end)
    return config


def _ssl_for(target: HttpTarget) -> ssl.SSLContext | bool:
    if target.client_cert is None and target.ca_file is None:
        return target.verify_tls  # aiohttp's defaults; keeps pooled connections reusable
    files = (target.ca_file, target.client_cert, target.client_key)
    changed = tuple(None if path is None else os.stat(path).st_mtime_ns for path in files)
    return _ssl_context(*files, target.verify_tls, changed)


@functools.lru_cache(maxsize=32)
def _ssl_context(
    ca_file: str | None,
    cert: str | None,
    key: str | None,
    verify: bool,
    _changed: tuple[int | None, ...],
) -> ssl.SSLContext:
    """One context per TLS configuration: building them is slow, and a shared session
    pools connections by context, so a fresh one per attempt would never reuse any.
    ``_changed`` (the files' modification times) makes a renewed certificate load anew."""
    context = ssl.create_default_context(cafile=ca_file)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cert is not None:
        context.load_cert_chain(cert, key)
    return context


async def _read_capped(response: aiohttp.ClientResponse) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_BODY:
        chunk = await response.content.read(MAX_BODY + 1 - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _decode(raw: bytes, charset: str | None) -> str:
    try:
        return raw.decode(charset or "utf-8", errors="replace")
    except LookupError:  # an unknown charset named by the server
        return raw.decode("utf-8", errors="replace")


def _parse_json(text: str, content_type: str) -> tuple[bool, object]:
    looks_json = content_type.endswith(("/json", "+json"))
    if not looks_json and not text.lstrip().startswith(("{", "[", '"')):
        return False, None
    try:
        return True, json.loads(text)
    except ValueError:
        return False, None


def _describe(error: BaseException, target: HttpTarget, *, timeout: float, answered: bool) -> str:
    """A clear message for ``error``; never contains URL credentials."""
    if isinstance(error, aiohttp.TooManyRedirects):
        return f"too many redirects (more than {target.max_redirects})"
    if isinstance(error, TimeoutError):
        phase = "reading the response body" if answered else "waiting for a response"
        return f"timed out after {timeout:g}s {phase}"
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        return f"TLS certificate verification failed: {error.certificate_error}"
    if isinstance(error, aiohttp.ClientSSLError):
        return f"TLS handshake failed: {error.os_error}"
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return f"DNS resolution failed for {error.host}: {error.os_error.strerror or error}"
    if isinstance(error, aiohttp.ClientConnectorError):
        where = f"{error.host}:{error.port}"
        if error.os_error.errno == errno.ECONNREFUSED:
            return f"connection refused by {where}"
        return f"cannot connect to {where}: {error.os_error.strerror or error.os_error}"
    if isinstance(error, aiohttp.ServerDisconnectedError):
        return "server closed the connection without a complete response"
    if isinstance(error, aiohttp.InvalidURL):
        return f"invalid URL {error.url}"
    if isinstance(error, _TlsConfigError):
        return f"cannot load TLS configuration: {error}"
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


class _TlsConfigError(Exception):
    """The CA bundle or client certificate named by the target could not be loaded."""


async def _attempt(
    target: HttpTarget,
    session: aiohttp.ClientSession,
    marks: _Timings,
    *,
    seconds: float,
) -> dict[str, object]:
    try:
        tls = _ssl_for(target)
    except (OSError, ValueError) as error:  # ssl.SSLError is an OSError
        raise _TlsConfigError(str(error)) from error
    async with session.request(
        target.method,
        target.url,
        headers=dict(target.headers),
        data=target.body,
        allow_redirects=target.follow_redirects,
        max_redirects=target.max_redirects + 1,  # aiohttp fails on reaching its limit
        ssl=tls,
        timeout=aiohttp.ClientTimeout(total=seconds),
        trace_request_ctx=marks,
    ) as response:
        marks.headers_at = time.perf_counter()
        raw = await _read_capped(response)
        truncated = len(raw) > MAX_BODY
        text = _decode(raw[:MAX_BODY], response.charset)
        headers: dict[str, str] = {}
        for name, value in response.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        context: dict[str, object] = {
            "status": response.status,
            "headers": headers,
            "body": text,
            "body_truncated": truncated,
            "redirects": len(response.history),
            "url": redact_url(str(response.url)),
        }
        if not truncated:
            parsed, document = _parse_json(text, response.content_type)
            if parsed:
                context["json"] = document
        return context


async def run_http(
    target: HttpTarget,
    *,
    timeout: float,  # noqa: ASYNC109 - the runner contract; the budget is split inside
    session: aiohttp.ClientSession | None = None,
) -> Probe:
    """Make one request to ``target`` within ``timeout`` seconds; never raises.

    ``reached`` is True when an HTTP response started (status and headers came
    back), even if something failed afterwards (a body that never finishes, a
    redirect loop). With no ``session`` a temporary one is made and closed.
    With ``all_addresses`` each address gets its own request (see :mod:`.http_addresses`).
    """
    if target.all_addresses:
        single = replace(target, all_addresses=False)
        return await probe_every_address(
            target.url,
            timeout=timeout,
            probe=lambda own, seconds: run_http(single, timeout=seconds, session=own),
            trace_config=timing_trace_config,
        )
    marks = _Timings(start=time.perf_counter())
    https = target.url.lower().startswith("https:")
    context: dict[str, object] = {}
    error = ""
    redirected = False
    owned: aiohttp.ClientSession | None = None
    try:
        async with asyncio.timeout(timeout + 1.0):  # a backstop; ClientTimeout fires first
            if session is None:
                owned = session = aiohttp.ClientSession(
                    trace_configs=[timing_trace_config()],
                    cookie_jar=aiohttp.DummyCookieJar(),
                )
            context = await _attempt(target, session, marks, seconds=timeout)
    except Exception as failure:  # every failure is an observation, never an exception
        redirected = isinstance(failure, aiohttp.TooManyRedirects)
        error = redact_url(
            _describe(failure, target, timeout=timeout, answered=marks.headers_at is not None)
        )
    finally:
        if owned is not None:
            with contextlib.suppress(Exception):
                await owned.close()
    end = time.perf_counter()
    context["latency"] = end - marks.start
    context["timings"] = marks.as_context(end=end, https=https)
    return Probe(
        reached=marks.headers_at is not None or redirected,
        duration=end - marks.start,
        error=error,
        context=MappingProxyType(context),
    )
