"""Sending an HTTP check's request to every address its host resolves to.

Behind one name there are often several servers: round-robin records, a
dual-stack host on IPv4 and IPv6. A plain request reaches whichever address
the connector picks, so a broken one can hide for many runs. With
``all_addresses`` the host is resolved (``getaddrinfo``, both families) and the
same request goes to each address at once. The URL is left as it is, so the
``Host`` header, TLS SNI and the certificate's name check still use the host's
name: each request gets its own connector whose resolver is pinned to one
address (:class:`PinnedResolver`), while other hosts (a redirect elsewhere)
resolve normally.

The merged probe's context holds ``addresses`` (in resolution order) and
``results`` (address → that request's own context plus ``address``,
``reached`` and ``error``). The engine judges the conditions against each
address (:func:`per_address`), so one failing address fails the check and
every error names its address.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Final
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from healthwatch.checks.runners.base import Probe

__all__ = [
    "CONCURRENCY",
    "MAX_ADDRESSES",
    "PinnedResolver",
    "address_label",
    "per_address",
    "probe_every_address",
    "resolve_addresses",
]

MAX_ADDRESSES: Final = 64
"""Addresses probed in one run; any beyond are reported as not probed (the check fails)."""
CONCURRENCY: Final = 16
"""Requests in flight at once for one check."""

_NUMERIC: Final = socket.AI_NUMERICHOST | socket.AI_NUMERICSERV

Resolve = Callable[[str, int], Awaitable[list[str]]]
"""Finds the addresses of a host for a port (:func:`resolve_addresses` by default)."""
ProbeWith = Callable[[aiohttp.ClientSession, float], Awaitable[Probe]]
"""Makes the check's request with the given session, within the given seconds."""


def address_label(address: str) -> str:
    """How an address is named in errors: IPv6 in brackets (``[::1]``), IPv4 as is."""
    return f"[{address}]" if ":" in address else address


async def resolve_addresses(host: str, port: int) -> list[str]:
    """Every distinct address of ``host`` for TCP, IPv4 and IPv6, in the resolver's order."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, family=socket.AF_UNSPEC, type=socket.SOCK_STREAM
    )
    found: dict[str, None] = {}
    for family, _type, _proto, _name, sockaddr in infos:
        if family in (socket.AF_INET, socket.AF_INET6):
            found.setdefault(str(sockaddr[0]), None)
    return list(found)


class PinnedResolver(AbstractResolver):
    """Resolves one host to one fixed address; every other host as aiohttp normally does."""

    def __init__(self, host: str, address: str) -> None:
        self._host = host.lower().strip("[]")
        self._address = address
        self._family = socket.AF_INET6 if ":" in address else socket.AF_INET
        self._fallback = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host.lower().strip("[]") != self._host:
            return await self._fallback.resolve(host, port, family)
        return [
            ResolveResult(
                hostname=host,
                host=self._address,
                port=port,
                family=self._family,
                proto=0,
                flags=_NUMERIC,
            )
        ]

    async def close(self) -> None:
        await self._fallback.close()


def _merge(addresses: list[str], probes: list[Probe], *, start: float) -> Probe:
    results: dict[str, Mapping[str, object]] = {}
    failed: list[str] = []
    for address, probe in zip(addresses, probes, strict=True):
        results[address] = MappingProxyType(
            {**probe.context, "address": address, "reached": probe.reached, "error": probe.error}
        )
        if not probe.reached or probe.error:
            failed.append(f"{address_label(address)}: {probe.error or 'not reached'}")
    duration = time.perf_counter() - start
    context = {"addresses": list(addresses), "results": results, "latency": duration}
    return Probe(
        reached=all(probe.reached for probe in probes),
        duration=duration,
        error="; ".join(failed),
        context=MappingProxyType(context),
    )


async def probe_every_address(
    url: str,
    *,
    timeout: float,  # noqa: ASYNC109 - the runner contract; resolution and requests share it
    probe: ProbeWith,
    trace_config: Callable[[], aiohttp.TraceConfig] | None = None,
    resolve: Resolve | None = None,
) -> Probe:
    """Resolve the host of ``url`` and ``probe`` each address within ``timeout``; never raises.

    Each address gets a session of its own, pinned to it, with a trace config
    from ``trace_config`` (for phase timings) when given. ``resolve`` replaces
    :func:`resolve_addresses`, e.g. to probe a known set of addresses.
    """
    start = time.perf_counter()
    host = "?"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        async with asyncio.timeout(timeout):
            addresses = await (resolve or resolve_addresses)(host, port)
        if not addresses:
            raise LookupError("no addresses")
    except Exception as error:  # a bad URL or a failed resolution is an observation
        detail = getattr(error, "strerror", None) or str(error) or type(error).__name__
        detail = "timed out" if isinstance(error, TimeoutError) else detail
        duration = time.perf_counter() - start
        return Probe(
            reached=False,
            duration=duration,
            error=f"DNS resolution failed for {host}: {detail}",
            context=MappingProxyType({"addresses": [], "latency": duration}),
        )
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(address: str) -> Probe:
        async with gate:
            left = max(timeout - (time.perf_counter() - start), 0.001)
            resolver = PinnedResolver(host, address)
            try:
                async with aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(resolver=resolver, use_dns_cache=False),
                    trace_configs=[trace_config()] if trace_config else None,
                    cookie_jar=aiohttp.DummyCookieJar(),
                ) as session:
                    return await probe(session, left)
            except Exception as error:  # a probe must not take its siblings down
                return Probe(reached=False, duration=0.0, error=f"{type(error).__name__}: {error}")
            finally:
                with contextlib.suppress(Exception):
                    await resolver.close()

    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(one(address), name=f"healthwatch-http-address-{address}")
            for address in addresses[:MAX_ADDRESSES]
        ]
    probes = [task.result() for task in tasks]
    probes += [
        Probe(reached=False, duration=0.0, error=f"not probed: more than {MAX_ADDRESSES} addresses")
        for _ in addresses[MAX_ADDRESSES:]
    ]
    return _merge(addresses, probes, start=start)


def per_address(probe: Probe) -> list[tuple[str, Probe]] | None:
    """Each address's own probe, labelled for errors, from a merged probe; None otherwise.

    Each context also holds ``addresses``, so conditions can read the whole set.
    """
    addresses = probe.context.get("addresses")
    results = probe.context.get("results")
    if not isinstance(addresses, list) or not isinstance(results, Mapping) or not results:
        return None
    parts: list[tuple[str, Probe]] = []
    for address, context in results.items():
        if not isinstance(context, Mapping):
            continue
        latency = context.get("latency")
        parts.append(
            (
                address_label(str(address)),
                Probe(
                    reached=context.get("reached") is True,
                    duration=latency if isinstance(latency, float) else 0.0,
                    error=str(context.get("error") or ""),
                    context=MappingProxyType({**context, "addresses": addresses}),
                ),
            )
        )
    return parts
