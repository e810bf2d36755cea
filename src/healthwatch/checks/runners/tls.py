"""The ``tls`` check runner: handshake once and report the server's certificate.

Certificate checks exist to warn *before* things break, so the details
(``cert.expiry``, issuer, names) matter most exactly when verification fails:
an expired certificate, one for another host, one from an unknown CA. The
runner therefore works in two steps:

1. a verifying handshake (``CERT_REQUIRED`` against ``ca_file`` or the system
   store) that decides ``chain_ok``; hostname checking is left out of it so
   that a chain problem and a name problem are reported independently;
2. only when that fails, a second handshake with verification off
   (``CERT_NONE``), whose DER certificate is decoded for the details.

``hostname_ok`` is decided here by matching ``server_name`` against the
subjectAltName entries (RFC 6125: case-insensitive, a wildcard only as the
whole left-most label, IP addresses compared as addresses, no commonName
fallback), the same rules Python's ``ssl`` module applies.

Decoding a DER certificate without a third-party library: the standard
library's only decoder is ``ssl._ssl._test_decode_cert``, which reads a PEM
file. It is private but has existed unchanged since Python 3.4 and yields the
very dict ``getpeercert()`` returns, so both steps share one parser; it is
reached through ``getattr`` and a temporary file, and a failure to decode is
reported as an error rather than raised.
"""

from __future__ import annotations

import _ssl
import asyncio
import contextlib
import ipaddress
import os
import ssl
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import KW_ONLY, dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, cast

from healthwatch.checks.runners.base import Probe

__all__ = ["TlsTarget", "hostname_matches", "run_tls"]

CLOSE_TIMEOUT: Final = 1.0
"""Seconds allowed for a polite TLS close before the connection is aborted."""

_VERIFY_ERRORS: Final[Mapping[int, str]] = {
    9: "certificate is not yet valid",
    10: "certificate has expired",
    2: "unknown issuer",
    18: "unknown issuer (self-signed certificate)",
    19: "unknown issuer (self-signed certificate in chain)",
    20: "unknown issuer",
    21: "unknown issuer",
}
"""OpenSSL ``X509_V_ERR_*`` codes worth a short, stable wording."""

_NAMED: Final = (("commonName", "CN"), ("organizationName", "O"))
"""Name attributes shown for issuer and subject, in this order."""

_CertDict = dict[str, Any]


@dataclass(frozen=True, slots=True)
class TlsTarget:
    """Where to handshake for one ``tls`` check."""

    host: str
    """Address to connect to."""
    port: int = 443
    """TCP port."""
    _: KW_ONLY
    server_name: str | None = None
    """Name sent as SNI and verified against the certificate; ``host`` when None."""
    ca_file: str | None = None
    """PEM bundle of trusted CAs; the system store when None."""
    verify: bool = True
    """False skips chain verification (``chain_ok`` is then False, without an error)."""


def hostname_matches(name: str, san: list[tuple[str, str]]) -> bool:
    """Whether ``name`` matches one of the subjectAltName entries ``(type, value)``."""
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        address = None
    wanted = name.lower().rstrip(".")
    for kind, value in san:
        if kind == "IP Address" and address is not None:
            with contextlib.suppress(ValueError):
                if ipaddress.ip_address(value.strip()) == address:
                    return True
        elif kind == "DNS" and address is None:
            pattern = value.lower().rstrip(".")
            if pattern == wanted:
                return True
            if pattern.startswith("*.") and "*" not in pattern[2:]:
                head, _, rest = wanted.partition(".")
                if head and rest == pattern[2:]:
                    return True
    return False


def _name(rdns: object) -> str:
    """``CN=..., O=...`` from the nested tuples of ``getpeercert()``; every attribute if neither."""
    pairs = [pair for rdn in cast("tuple[tuple[tuple[str, str], ...], ...]", rdns) for pair in rdn]
    shown = [f"{short}={v}" for key, short in _NAMED for k, v in pairs if k == key]
    return ", ".join(shown or [f"{k}={v}" for k, v in pairs])


def _iso(openssl_time: str) -> str:
    return datetime.fromtimestamp(ssl.cert_time_to_seconds(openssl_time), tz=UTC).isoformat()


def _decode_der(der: bytes) -> _CertDict:
    """Decode a DER certificate with the standard library (see the module docstring)."""
    # Not in typeshed, hence getattr; see the module docstring for why this private API.
    decode = cast("Callable[[str], _CertDict]", getattr(_ssl, "_test_decode_cert"))  # noqa: B009
    fd, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(fd, "w") as pem:
            pem.write(ssl.DER_cert_to_PEM_cert(der))
        return decode(path)
    finally:
        os.unlink(path)


def _cert_context(cert: _CertDict, *, chain_ok: bool, server_name: str) -> dict[str, object]:
    san = [(str(k), str(v)) for k, v in cert.get("subjectAltName", ())]
    return {
        "expiry": ssl.cert_time_to_seconds(cert["notAfter"]) - time.time(),
        "not_after": _iso(cert["notAfter"]),
        "not_before": _iso(cert["notBefore"]),
        "issuer": _name(cert.get("issuer", ())),
        "subject": _name(cert.get("subject", ())),
        "san": [value for _, value in san],
        "hostname_ok": hostname_matches(server_name, san),
        "chain_ok": chain_ok,
    }


@dataclass(frozen=True, slots=True)
class _Handshake:
    cert: _CertDict
    version: str
    cipher: str
    seconds: float


async def _handshake(target: TlsTarget, context: ssl.SSLContext, server_name: str) -> _Handshake:
    """One TLS handshake; raises ``OSError`` (including ``ssl.SSLError``) on failure."""
    started = time.monotonic()
    _, writer = await asyncio.open_connection(
        target.host, target.port, ssl=context, server_hostname=server_name
    )
    seconds = time.monotonic() - started
    try:
        tls = cast("ssl.SSLObject", writer.get_extra_info("ssl_object"))
        der = tls.getpeercert(binary_form=True)
        if der is None:
            raise ssl.SSLError("server sent no certificate")
        cert = tls.getpeercert() or _decode_der(der)
        cipher = tls.cipher()
        return _Handshake(cert, tls.version() or "", cipher[0] if cipher else "", seconds)
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), CLOSE_TIMEOUT)
        except (TimeoutError, OSError):
            writer.transport.abort()


def _contexts(target: TlsTarget) -> tuple[ssl.SSLContext | None, ssl.SSLContext]:
    """The verifying context (None when verification is off) and the non-verifying one."""
    loose = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    loose.check_hostname = False
    loose.verify_mode = ssl.CERT_NONE
    if not target.verify:
        return None, loose
    strict = ssl.create_default_context(cafile=target.ca_file)
    strict.check_hostname = False  # decided by hostname_matches, independently of the chain
    return strict, loose


def _verify_error(error: ssl.SSLCertVerificationError) -> str:
    return _VERIFY_ERRORS.get(error.verify_code, error.verify_message or str(error))


async def _observe(target: TlsTarget, server_name: str) -> Probe:
    started = time.monotonic()
    strict, loose = _contexts(target)
    chain_error = ""
    shake: _Handshake | None = None
    latency: float | None = None
    if strict is not None:
        try:
            shake = await _handshake(target, strict, server_name)
        except ssl.SSLCertVerificationError as e:
            chain_error = _verify_error(e)
            latency = time.monotonic() - started
    if shake is None:
        shake = await _handshake(target, loose, server_name)
    cert = _cert_context(
        shake.cert, chain_ok=strict is not None and not chain_error, server_name=server_name
    )
    errors = [chain_error] if chain_error else []
    if not cert["hostname_ok"]:
        errors.append(f"hostname mismatch: {server_name} not in {cert['san']}")
    return Probe(
        reached=True,
        duration=time.monotonic() - started,
        error="; ".join(errors),
        context=MappingProxyType(
            {
                "cert": MappingProxyType(cert),
                "latency": shake.seconds if latency is None else latency,
                "tls": MappingProxyType({"version": shake.version, "cipher": shake.cipher}),
            }
        ),
    )


async def run_tls(target: TlsTarget, *, timeout: float) -> Probe:  # noqa: ASYNC109 - contract
    """Handshake with ``target`` within ``timeout`` seconds; report its certificate; never raise."""
    started = time.monotonic()
    server_name = target.server_name or target.host
    where = f"{target.host}:{target.port}"

    def failed(error: str, *, reached: bool = False) -> Probe:
        return Probe(reached=reached, duration=time.monotonic() - started, error=error)

    try:
        async with asyncio.timeout(timeout):
            return await _observe(target, server_name)
    except TimeoutError:
        return failed(f"timed out after {timeout:g}s connecting or handshaking with {where}")
    except ConnectionRefusedError:
        return failed(f"connection refused by {where}")
    except ssl.SSLError as e:
        return failed(f"TLS handshake with {where} failed: {e.reason or e}", reached=True)
    except OSError as e:
        return failed(f"cannot connect to {where}: {e.strerror or e}")
    except (KeyError, ValueError) as e:
        return failed(f"cannot decode the certificate from {where}: {e}", reached=True)
