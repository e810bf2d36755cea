"""Turning a check entry's kind fields into its runner's target, every value checked.

Each kind's runner takes a frozen target (:class:`HttpTarget`, :class:`DnsTarget`...);
:func:`build_target` makes it from a :class:`~healthwatch.checks.spec.CheckEntry`
and refuses anything the runner would only trip over later: a relative URL, a
client certificate file that is missing or does not load, a record type the
runner does not ask for, a DNS server that is not an address, a query name
that is not a name. Every refusal is a :class:`ConfigError` naming the file,
the line, the field path and the bad value, made by :func:`fail`.
"""

from __future__ import annotations

import ipaddress
import os
import re
import ssl
from collections.abc import Callable
from types import MappingProxyType
from typing import TYPE_CHECKING, Final
from urllib.parse import urlsplit

from healthwatch.checks.runners.dns import (
    PROTOCOLS,
    RECORD_TYPES,
    DnsServer,
    DnsTarget,
    Transport,
)
from healthwatch.checks.runners.exec import ExecTarget
from healthwatch.checks.runners.external import ExternalTarget
from healthwatch.checks.runners.http import HttpTarget
from healthwatch.checks.runners.tcp import TcpTarget
from healthwatch.checks.runners.tls import TlsTarget
from healthwatch.model.errors import ConfigError

if TYPE_CHECKING:
    from healthwatch.checks.spec import CheckEntry

__all__ = [
    "MAX_NAME",
    "MAX_REDIRECTS",
    "Target",
    "Where",
    "build_target",
    "fail",
    "parse_server",
    "query_name",
]

Target = HttpTarget | TcpTarget | TlsTarget | ExecTarget | ExternalTarget | DnsTarget
Where = Callable[[str], str]
"""The place (``file:line``) of a field path."""

MAX_NAME: Final = 253
"""Longest DNS query name, in characters, without the final dot."""
MAX_REDIRECTS: Final = 20
"""Most redirects an http check may be told to follow."""
_METHOD: Final = re.compile(r"[A-Z][A-Z0-9_-]*")
_FORBIDDEN: Final = frozenset(' \\"();@$')


def fail(where: Where, field: str, problem: str, value: object = None) -> ConfigError:
    """The error for ``field``: ``file:line: field: problem (got value)``."""
    shown = f" (got {value!r:.200})" if value is not None else ""
    return ConfigError(f"{where(field)}: {field}: {problem}{shown}")


def query_name(text: str, record_type: str = "A") -> str:
    """``text`` as an absolute ASCII name; ValueError saying why it is not a name.

    International labels are encoded with IDNA; for a ``PTR`` query an IP
    address stands for its reverse name (``10.0.0.1`` → ``1.0.0.10.in-addr.arpa.``).
    """
    if not text:
        raise ValueError("must not be empty")
    if record_type == "PTR":
        try:
            return ipaddress.ip_address(text).reverse_pointer + "."
        except ValueError:
            pass
    if text == ".":
        return text
    name = text.removesuffix(".")
    if len(name) > MAX_NAME:
        raise ValueError(f"longer than {MAX_NAME} characters")
    labels: list[str] = []
    for label in name.split("."):
        if not label:
            raise ValueError("has an empty label ('..', or a leading dot)")
        if any(not c.isprintable() or c in _FORBIDDEN for c in label):
            raise ValueError(f"label {label!r} has a space, quote or special character")
        try:
            encoded = label if label.isascii() else label.encode("idna").decode("ascii")
        except UnicodeError:
            raise ValueError(f"label {label!r} is not a valid international name") from None
        if len(encoded) > 63:
            raise ValueError(f"label {label[:20]!r}… is longer than 63 characters")
        labels.append(encoded)
    ascii_name = ".".join(labels)
    if len(ascii_name) > MAX_NAME:
        raise ValueError(f"longer than {MAX_NAME} characters once encoded")
    return ascii_name + "."


def parse_server(text: str) -> DnsServer:
    """``host``, ``host:port``, ``[v6]:port`` or a bare IPv6 address; ValueError if not."""
    host, port_text = text, ""
    if text.startswith("["):
        host, closed, rest = text[1:].partition("]")
        if not closed or (rest and not rest.startswith(":")):
            raise ValueError("must be an address, address:port or [IPv6]:port")
        port_text = rest[1:] if rest else ""
        if rest and not port_text:
            raise ValueError("has an empty port")
    elif text.count(":") == 1:
        host, _, port_text = text.partition(":")
        if not port_text:
            raise ValueError("has an empty port")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError("must be an IPv4 or IPv6 address (a host name is not accepted)") from None
    port = 53
    if port_text:
        if not port_text.isascii() or not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError("port must be between 1 and 65535")
        port = int(port_text)
    return DnsServer(address=str(address), port=port)


def _host_port(entry: CheckEntry, where: Where, label: str, default: int | None) -> tuple[str, int]:
    if not entry.host:
        raise fail(where, label + "host", f"a {entry.kind} check needs a host", entry.host)
    port = entry.port if entry.port is not None else default
    if port is None:
        raise fail(where, label + "port", f"a {entry.kind} check needs a port")
    if not 0 < port < 65536:
        raise fail(where, label + "port", "must be between 1 and 65535", port)
    return entry.host, port


def _client_files(entry: CheckEntry, where: Where, label: str) -> None:
    """A client certificate (and key) must be files that load, checked now, not at 3 a.m."""
    if entry.client_key is not None and entry.client_cert is None:
        raise fail(where, label + "client_key", "needs client_cert", entry.client_key)
    for field, path in (("client_cert", entry.client_cert), ("client_key", entry.client_key)):
        if path is not None and not os.path.isfile(path):
            raise fail(where, label + field, "no such file", path)
    if entry.client_cert is None:
        return
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_cert_chain(entry.client_cert, entry.client_key)
    except (OSError, ValueError) as error:  # ssl.SSLError is an OSError
        reason = getattr(error, "reason", None) or getattr(error, "strerror", None) or error
        raise fail(
            where,
            label + "client_cert",
            f"cannot load the certificate and key: {reason}",
            entry.client_cert,
        ) from None


def _http(entry: CheckEntry, where: Where, label: str) -> HttpTarget:
    url = entry.url
    if not url:
        raise fail(where, label + "url", "an http check needs a url", url)
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise fail(where, label + "url", f"not a URL: {error}", url) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise fail(where, label + "url", "must be an absolute http:// or https:// URL", url)
    method = entry.method or "GET"
    if not _METHOD.fullmatch(method):
        raise fail(where, label + "method", "must be an upper-case HTTP method", method)
    follow = True if entry.follow_redirects is None else entry.follow_redirects
    if entry.max_redirects is not None:
        if not follow:
            problem = "needs follow_redirects: true"
            raise fail(where, label + "max_redirects", problem, entry.max_redirects)
        if not 0 <= entry.max_redirects <= MAX_REDIRECTS:
            problem = f"must be between 0 and {MAX_REDIRECTS}"
            raise fail(where, label + "max_redirects", problem, entry.max_redirects)
    _client_files(entry, where, label)
    return HttpTarget(
        url=url,
        method=method,
        headers=MappingProxyType(dict(entry.headers or {})),
        body=None if entry.body is None else entry.body.encode(),
        follow_redirects=follow,
        max_redirects=5 if entry.max_redirects is None else entry.max_redirects,
        verify_tls=True if entry.verify is None else entry.verify,
        ca_file=entry.ca_file,
        client_cert=entry.client_cert,
        client_key=entry.client_key,
        all_addresses=bool(entry.all_addresses),
    )


def _dns(entry: CheckEntry, where: Where, label: str) -> DnsTarget:
    record_type = "A" if entry.record_type is None else entry.record_type.upper()
    if record_type not in RECORD_TYPES:
        problem = f"must be one of {', '.join(RECORD_TYPES)}"
        raise fail(where, label + "record_type", problem, entry.record_type)
    if entry.query is None:
        raise fail(where, label + "query", "a dns check needs a query (the name to look up)")
    try:
        name = query_name(entry.query, record_type)
    except ValueError as error:
        raise fail(where, label + "query", f"not a DNS name: {error}", entry.query) from None
    server: DnsServer | None = None
    if entry.server is not None:
        try:
            server = parse_server(entry.server)
        except ValueError as error:
            raise fail(where, label + "server", str(error), entry.server) from None
    protocol = "udp" if entry.protocol is None else entry.protocol
    if protocol not in PROTOCOLS:
        raise fail(where, label + "protocol", "must be udp or tcp", entry.protocol)
    transport: Transport = "tcp" if protocol == "tcp" else "udp"
    return DnsTarget(query=name, record_type=record_type, server=server, protocol=transport)


def build_target(entry: CheckEntry, where: Where, label: str) -> Target:
    """The runner's target for ``entry``; ``label`` prefixes field paths (``checks[0].``)."""
    if entry.kind == "http":
        return _http(entry, where, label)
    if entry.kind == "dns":
        return _dns(entry, where, label)
    if entry.kind == "tcp":
        host, port = _host_port(entry, where, label, None)
        try:
            return TcpTarget(
                host=host,
                port=port,
                send=None if entry.send is None else entry.send.encode(),
                expect=entry.expect,
            )
        except ValueError as error:
            raise fail(where, label + "expect", str(error)) from None
    if entry.kind == "tls":
        host, port = _host_port(entry, where, label, 443)
        return TlsTarget(
            host,
            port,
            server_name=entry.server_name,
            ca_file=entry.ca_file,
            verify=True if entry.verify is None else entry.verify,
        )
    if entry.kind == "external":
        if entry.argv is not None and (not entry.argv or not entry.argv[0]):
            raise fail(where, label + "argv", "argv, when given, must not be empty", entry.argv)
        return ExternalTarget(
            argv=None if entry.argv is None else tuple(entry.argv),
            env=None if entry.env is None else MappingProxyType(dict(entry.env)),
            namespace=entry.namespace,
        )
    if not entry.argv or not entry.argv[0]:
        raise fail(where, label + "argv", "an exec check needs a non-empty argv", entry.argv)
    return ExecTarget(
        tuple(entry.argv),
        env=None if entry.env is None else MappingProxyType(dict(entry.env)),
        cwd=entry.cwd,
    )
