"""Listen addresses: ``HOST:PORT``, ``[IPv6]:PORT``, ``:PORT`` or ``off``."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

__all__ = ["ListenAddress", "parse_listen"]

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"{_LABEL}(?:\.{_LABEL})*")


@dataclass(frozen=True, slots=True)
class ListenAddress:
    """Where a listener binds."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_listen(value: str, *, allow_off: bool = False) -> ListenAddress | None:
    """Parse a listen address; ``off`` gives None where allowed. Raises ValueError."""
    text = value.strip()
    if text.lower() in ("off", "none", "disabled", "false"):
        if allow_off:
            return None
        raise ValueError("this listener cannot be turned off")
    if text.startswith("["):
        host, sep, port_text = text[1:].partition("]:")
        if not sep:
            raise ValueError(f"expected [IPv6]:PORT, got {value!r}")
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep:
            hint = " or 'off'" if allow_off else ""
            raise ValueError(f"expected HOST:PORT{hint}, got {value!r}")
        if ":" in host:
            raise ValueError(f"an IPv6 address needs brackets, as in [::1]:9801; got {value!r}")
    host = host or "127.0.0.1"
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise ValueError(f"port must be a number from 0 to 65535, got {port_text!r} in {value!r}")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOSTNAME.fullmatch(host):
            raise ValueError(f"not a host name or IP address: {host!r} in {value!r}") from None
    return ListenAddress(host, int(port_text))
