"""A small authoritative DNS server for tests: UDP and TCP on one loopback port.

Built on ``dnslib`` records and asyncio, it answers from a zone written as
zone-file lines, follows CNAMEs like a real server does, and has names that
misbehave on purpose: ``servfail.test.`` answers SERVFAIL, ``big.test.``
answers over UDP with only the truncation bit set (the full answer comes over
TCP), and any other unknown name is NXDOMAIN. Every question is recorded with
its transport, so tests can see which one a runner used.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import struct
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, cast

from dnslib import QTYPE, RCODE, RR, DNSRecord  # type: ignore[import-untyped]

__all__ = ["ZONE", "DnsTestServer", "closed_port", "silent_udp_port"]

_LONG = "x" * 200
ZONE = f"""\
web.test.      300 IN A     10.0.0.1
web.test.       60 IN A     10.0.0.2
web.test.      300 IN AAAA  2001:db8::1
alias.test.     30 IN CNAME web.test.
mail.test.     300 IN MX    10 mx1.mail.test.
mail.test.     300 IN MX    20 mx2.mail.test.
txt.test.      300 IN TXT   "v=spf1 -all"
nodata.test.   300 IN TXT   "only text here"
1.0.0.10.in-addr.arpa. 300 IN PTR web.test.
big.test.      300 IN TXT   "{_LONG}"
big.test.      300 IN TXT   "{_LONG}1"
big.test.      300 IN TXT   "{_LONG}2"
big.test.      300 IN TXT   "{_LONG}3"
big.test.      300 IN TXT   "{_LONG}4"
big.test.      300 IN TXT   "{_LONG}5"
big.test.      300 IN TXT   "{_LONG}6"
"""


@dataclass
class DnsTestServer:
    """Answers from ``zone`` on ``host``, UDP and TCP on the same OS-chosen port."""

    zone: str = ZONE
    host: str = "127.0.0.1"
    port: int = 0
    asked: list[tuple[str, str, str]] = field(default_factory=list)
    """(transport, name, type) of every question, in order."""
    _records: dict[str, list[Any]] = field(default_factory=dict)
    _udp: asyncio.DatagramTransport | None = None
    _tcp: asyncio.Server | None = None

    async def start(self) -> DnsTestServer:
        by_name: dict[str, list[Any]] = defaultdict(list)
        for record in RR.fromZone(self.zone):
            by_name[str(record.rname).lower()].append(record)
        self._records = dict(by_name)
        loop = asyncio.get_running_loop()
        for _ in range(20):  # the UDP port's twin on TCP may be taken: pick again
            transport, _protocol = await loop.create_datagram_endpoint(
                lambda: _Udp(self), local_addr=(self.host, 0)
            )
            port = transport.get_extra_info("sockname")[1]
            try:
                self._tcp = await asyncio.start_server(self._serve_tcp, self.host, port)
            except OSError as error:
                transport.close()
                if error.errno != errno.EADDRINUSE:
                    raise
                continue
            self._udp, self.port = transport, port
            return self
        raise RuntimeError("no port free for both UDP and TCP")

    async def close(self) -> None:
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
            await self._tcp.wait_closed()

    @property
    def address(self) -> str:
        """``host:port`` as a check's ``server`` field takes it."""
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    def answer(self, wire: bytes, transport: str) -> bytes:
        request = DNSRecord.parse(wire)
        name = str(request.q.qname).lower()
        qtype = QTYPE[request.q.qtype]
        self.asked.append((transport, name, qtype))
        reply = request.reply()  # authoritative, recursion available
        if name == "servfail.test.":
            reply.header.rcode = RCODE.SERVFAIL
            reply.header.aa = 0
        elif name == "big.test." and transport == "udp":
            reply.header.tc = 1
        elif name not in self._records:
            reply.header.rcode = RCODE.NXDOMAIN
        else:
            for record in self._chase(name, qtype):
                reply.add_answer(record)
        packed: bytes = reply.pack()
        return packed

    def _chase(self, name: str, qtype: str) -> list[Any]:
        found: list[Any] = []
        for _ in range(8):
            records = self._records.get(name, [])
            wanted = [r for r in records if QTYPE[r.rtype] == qtype]
            cnames = [r for r in records if QTYPE[r.rtype] == "CNAME"]
            if wanted or not cnames or qtype == "CNAME":
                return found + wanted
            found += cnames
            name = str(cnames[0].rdata.label).lower()
        return found

    async def _serve_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                (size,) = struct.unpack("!H", await reader.readexactly(2))
                reply = self.answer(await reader.readexactly(size), "tcp")
                writer.write(struct.pack("!H", len(reply)) + reply)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


class _Udp(asyncio.DatagramProtocol):
    def __init__(self, server: DnsTestServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast("asyncio.DatagramTransport", transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if self.transport is not None:
            self.transport.sendto(self.server.answer(data, "udp"), addr)


def closed_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (UDP or TCP), as the OS handed it out a moment ago."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
    return port


def silent_udp_port(sock: socket.socket) -> int:
    """Bind ``sock`` (UDP) on loopback and return its port: it receives and never answers."""
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    return port
