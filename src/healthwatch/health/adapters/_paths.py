"""Turning a framework's decoded path back into the percent-encoded form the routes expect."""

from __future__ import annotations

from urllib.parse import quote

__all__ = ["encode_path"]

_SAFE = "/:@!$&'()*+,;=-._~"


def encode_path(path: str | bytes) -> str:
    """Percent-encode a decoded path (str, or raw bytes) so routes decode it exactly once."""
    return quote(path, safe=_SAFE)
