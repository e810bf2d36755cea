"""The ``dns`` check runner: one query to one server, the answer observed; never raising.

A DNS check asks "does this name resolve, to what, and how". The runner sends
one query with :mod:`dns.asyncquery` rather than going through
:mod:`dns.asyncresolver`: the resolver turns the very answers a check wants to
see into exceptions (``NXDOMAIN``, ``NoAnswer``; a ``SERVFAIL`` becomes
``NoNameservers`` after retrying every server) and hides the rcode and the
authoritative flag, while a single query returns the message as the server
sent it. So every rcode is an observation (``reached`` is True and the
conditions decide), and only silence, a refused or unreachable server or a
malformed reply leave ``reached`` False.

Queries go over UDP with EDNS (1232-byte payload) from a connected socket, so
a closed port is reported at once as refused rather than timing out; a
truncated answer is asked again over TCP within what is left of the budget.
Without a ``server`` the system resolver's name servers (``nameserver`` lines
of ``/etc/resolv.conf``, at most three, ``127.0.0.1`` when there are none) are
asked in order, each within its share of the remaining time, until one answers.
The query name is always absolute: no search domains are applied.

Context for conditions: ``dns.rcode`` (``"NOERROR"``, ``"NXDOMAIN"``...),
``dns.answers`` (the answer records of the asked type as text; TXT records as
their strings joined, unquoted), ``dns.ttl`` (smallest TTL in the answer
section, None without answers), ``dns.authoritative``, ``dns.server`` (who
answered), ``dns.protocol`` (``"tcp"`` after a fallback) and ``latency``.

:mod:`dns` (dnspython) is imported on the first query, not with this module,
so an agent without DNS checks never pays for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final, Literal, cast

from healthwatch.checks.runners.base import Probe

if TYPE_CHECKING:
    import dns.message

__all__ = [
    "PROTOCOLS",
    "RECORD_TYPES",
    "RESOLV_CONF",
    "DnsServer",
    "DnsTarget",
    "Transport",
    "run_dns",
    "system_servers",
]

RECORD_TYPES: Final = ("A", "AAAA", "CNAME", "MX", "TXT", "NS", "SOA", "SRV", "PTR", "CAA")
"""Record types a ``dns`` check may ask for."""
PROTOCOLS: Final = ("udp", "tcp")
"""Transports a ``dns`` check may use."""
RESOLV_CONF: Final = "/etc/resolv.conf"
"""Where the system resolver's name servers are listed."""

_EDNS_PAYLOAD: Final = 1232
_MAX_SYSTEM_SERVERS: Final = 3
_BACKSTOP: Final = 0.5

Transport = Literal["udp", "tcp"]
"""How a query travels."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsServer:
    """A name server to ask."""

    address: str
    """IPv4 or IPv6 address."""
    port: int = 53
    """UDP and TCP port."""

    def __str__(self) -> str:
        host = f"[{self.address}]" if ":" in self.address else self.address
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True, kw_only=True)
class DnsTarget:
    """One query to make."""

    query: str
    """Absolute name in ASCII (``example.org.``)."""
    record_type: str = "A"
    """One of :data:`RECORD_TYPES`."""
    server: DnsServer | None = None
    """Server to ask; the system resolver's servers when None."""
    protocol: Transport = "udp"
    """``udp`` (falling back to TCP on a truncated answer) or ``tcp``."""

    def __post_init__(self) -> None:
        if self.record_type not in RECORD_TYPES:
            raise ValueError(f"record type must be one of {', '.join(RECORD_TYPES)}")
        if self.protocol not in PROTOCOLS:
            raise ValueError("protocol must be udp or tcp")
        if not self.query.endswith("."):
            raise ValueError("query must be an absolute name ending in '.'")


def system_servers(path: str = RESOLV_CONF) -> tuple[DnsServer, ...]:
    """The first three usable ``nameserver`` lines of ``path``, as the C library reads them."""
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    found: list[DnsServer] = []
    for line in text.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] == "nameserver":
            with contextlib.suppress(ValueError):  # not an address: skipped, as libc does
                found.append(DnsServer(address=str(ipaddress.ip_address(words[1]))))
        if len(found) == _MAX_SYSTEM_SERVERS:
            break
    return tuple(found) or (DnsServer(address="127.0.0.1"),)


class _QueryFailedError(Exception):
    """One server did not give a usable answer; says which transport failed."""

    def __init__(self, protocol: Transport, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.protocol: Transport = protocol
        self.cause = cause


async def _ask(
    target: DnsTarget, server: DnsServer, seconds: float
) -> tuple[dns.message.Message, Transport]:
    import dns.asyncbackend  # noqa: PLC0415 - dnspython is loaded by the first DNS check
    import dns.asyncquery  # noqa: PLC0415
    import dns.message  # noqa: PLC0415

    query = dns.message.make_query(
        target.query, target.record_type, use_edns=0, payload=_EDNS_PAYLOAD
    )
    deadline = time.perf_counter() + seconds
    if target.protocol == "udp":
        family = socket.AF_INET6 if ":" in server.address else socket.AF_INET
        backend = dns.asyncbackend.get_backend("asyncio")
        try:
            # A connected socket: an ICMP "port unreachable" becomes ECONNREFUSED, not silence.
            make_socket = cast("Callable[..., Awaitable[Any]]", backend.make_socket)
            sock = await make_socket(
                family, socket.SOCK_DGRAM, 0, None, (server.address, server.port)
            )
            async with sock:
                response = await dns.asyncquery.udp(
                    query,
                    server.address,
                    timeout=seconds,
                    port=server.port,
                    ignore_unexpected=True,
                    raise_on_truncation=True,
                    sock=sock,
                )
            return response, "udp"
        except dns.message.Truncated:
            pass  # asked again over TCP below
        except Exception as error:
            raise _QueryFailedError("udp", error) from error
    try:
        remaining = max(deadline - time.perf_counter(), 0.001)
        response = await dns.asyncquery.tcp(
            query, server.address, timeout=remaining, port=server.port
        )
    except Exception as error:
        raise _QueryFailedError("tcp", error) from error
    return response, "tcp"


def _describe(failure: _QueryFailedError, server: DnsServer, asked: str, seconds: float) -> str:
    """A message naming the server, the transport and the question."""
    import dns.exception  # noqa: PLC0415 - loaded already by the query

    where = f"{server} ({failure.protocol.upper()})"
    cause = failure.cause
    if isinstance(cause, TimeoutError | dns.exception.Timeout):
        return f"no answer from {where} to {asked} within {seconds:.3g}s"
    if isinstance(cause, OSError) and cause.errno == errno.ECONNREFUSED:
        return f"connection refused by {where} asking {asked}"
    if isinstance(cause, OSError):
        return f"cannot reach {where} asking {asked}: {cause.strerror or cause}"
    if isinstance(cause, EOFError):
        return f"{where} closed the connection without answering {asked}"
    detail = str(cause) or type(cause).__name__
    return f"bad reply from {where} to {asked}: {detail}"


def _observe(
    response: dns.message.Message, target: DnsTarget, server: DnsServer, protocol: Transport
) -> dict[str, object]:
    import dns.flags  # noqa: PLC0415
    import dns.rcode  # noqa: PLC0415
    import dns.rdatatype  # noqa: PLC0415
    from dns.rdtypes.txtbase import TXTBase  # noqa: PLC0415

    wanted = dns.rdatatype.from_text(target.record_type)
    answers: list[str] = []
    for rrset in response.answer:
        if rrset.rdtype != wanted:
            continue  # the CNAME chain leading to the records asked for
        for rdata in rrset:
            if isinstance(rdata, TXTBase):
                answers.append(b"".join(rdata.strings).decode("utf-8", errors="replace"))
            else:
                answers.append(rdata.to_text())
    return {
        "rcode": dns.rcode.to_text(response.rcode()),
        "answers": answers,
        "ttl": min((rrset.ttl for rrset in response.answer), default=None),
        "authoritative": bool(response.flags & dns.flags.AA),
        "server": str(server),
        "protocol": protocol,
    }


async def run_dns(
    target: DnsTarget,
    *,
    timeout: float,  # noqa: ASYNC109 - the runner contract; the budget is split inside
    resolv_conf: str = RESOLV_CONF,
) -> Probe:
    """Ask ``target``'s question within ``timeout`` seconds; never raises.

    ``reached`` is True when a server answered, whatever its rcode; the error
    of an unreached target names every server tried and the question.
    """
    start = time.perf_counter()
    deadline = start + timeout
    servers = (target.server,) if target.server is not None else system_servers(resolv_conf)
    asked = f"{target.query} {target.record_type}"
    context: dict[str, object] = {}
    errors: list[str] = []
    try:
        async with asyncio.timeout(timeout + _BACKSTOP):  # a backstop; the queries time out first
            for index, server in enumerate(servers):
                share = (deadline - time.perf_counter()) / (len(servers) - index)
                if share <= 0:
                    errors.append(f"no time left to ask {server}")
                    continue
                try:
                    response, protocol = await _ask(target, server, share)
                except _QueryFailedError as failure:
                    errors.append(_describe(failure, server, asked, share))
                    continue
                context["dns"] = _observe(response, target, server, protocol)
                break
    except TimeoutError:
        errors.append(f"no answer to {asked} within {timeout:g}s")
    except Exception as failure:  # a dnspython surprise is an observation, never an exception
        errors.append(f"DNS query {asked} failed: {type(failure).__name__}: {failure}")
    duration = time.perf_counter() - start
    context["latency"] = duration
    reached = "dns" in context
    return Probe(
        reached=reached,
        duration=duration,
        error="; ".join(errors),
        context=MappingProxyType(context),
    )
