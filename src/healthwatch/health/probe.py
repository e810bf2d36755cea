"""A probe client: ask a health endpoint and turn the answer into an exit status.

For Docker ``HEALTHCHECK`` and Kubernetes exec probes in images without curl:
``python -m healthwatch probe http://127.0.0.1:9801 --kind ready`` exits 0 when
the probe passes and 1 otherwise (including when nothing answers).
"""

from __future__ import annotations

import http.client
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

__all__ = ["PROBE_KINDS", "ProbeResult", "probe", "probe_url"]

PROBE_KINDS = {"live": "/livez", "ready": "/readyz", "startup": "/startupz"}
_MAX_BODY = 16 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    """What a probe found."""

    ok: bool
    """True on a 2xx answer."""
    url: str
    """The URL asked."""
    status: int | None = None
    """HTTP status, or None when nothing answered."""
    body: str = ""
    """The start of the answer's body."""
    error: str = ""
    """Why nothing usable answered."""


def probe_url(url: str, kind: str | None = None) -> str:
    """The URL to ask: a bare base URL gets the path of ``kind`` (``ready`` by default)."""
    parts = _split(url)
    if kind is not None and kind not in PROBE_KINDS:
        raise ValueError(f"probe kind must be one of {', '.join(PROBE_KINDS)}, got {kind!r}")
    if parts.path in ("", "/"):
        return urllib.parse.urlunsplit(parts._replace(path=PROBE_KINDS[kind or "ready"]))
    return url


def _split(url: str) -> urllib.parse.SplitResult:
    """The parts of an http(s) URL with a host and a valid port; ValueError otherwise."""
    shape = "probe URL must be http(s)://host[:port][/path]"
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not 0-65535
    except ValueError as error:
        raise ValueError(f"{shape}, got {url!r}: {error}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{shape}, got {url!r}")
    return parts


def probe(url: str, *, kind: str | None = None, timeout: float = 5.0) -> ProbeResult:
    """Ask once; never raises for network errors."""
    target = probe_url(url, kind)
    request = urllib.request.Request(target, headers={"Accept": "text/plain"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(_MAX_BODY).decode(errors="replace")
            return ProbeResult(
                ok=200 <= response.status < 300, url=target, status=response.status, body=body
            )
    except urllib.error.HTTPError as error:
        body = error.read(_MAX_BODY).decode(errors="replace")
        return ProbeResult(ok=False, url=target, status=error.code, body=body)
    except (OSError, ValueError, http.client.HTTPException) as error:
        # HTTPException: something answered, but not with HTTP (BadStatusLine), or cut short.
        reason = getattr(error, "reason", None) or f"{type(error).__name__}: {error}"
        return ProbeResult(ok=False, url=target, error=f"{reason}")
