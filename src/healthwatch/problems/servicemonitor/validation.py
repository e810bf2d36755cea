"""Checks on the service monitor's config values, and errors that say where the value was.

URLs and CRI endpoints are checked here so that the probes never meet a value
they cannot use: a health URL is plain ``http``/``https`` with a host and no
credentials; a CRI endpoint is ``unix://`` with an absolute path or ``tcp://``
with a host and port. Control characters and whitespace are refused everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Final
from urllib.parse import SplitResult, urlsplit

from healthwatch.model.errors import ConfigError

__all__ = ["Where", "check_endpoint", "check_url", "fail", "where_in"]

Where = Callable[[str], str]
"""Field path → place prefix (``file:line`` or ``file``) for error messages."""
MAX_URL: Final = 2048
_SAFE = re.compile(r"[\x21-\x7e]+")
"""Printable ASCII without spaces."""


def where_in(source: str, lines: Mapping[str, int] | None, prefix: str) -> Where:
    """Place of a field (its full path in the file): the file and the nearest known line."""
    found = lines or {}

    def where(field: str) -> str:
        path = field
        line = None
        while line is None and path:
            line = found.get(path)
            if "." in path:
                path = path.rpartition(".")[0]
            elif "[" in path:
                path = path.rpartition("[")[0]
            else:
                path = ""
        line = line or found.get(prefix)
        return f"{source}:{line}" if line else source

    return where


def fail(where: Where, field: str, problem: str, value: object = None) -> ConfigError:
    """The error for ``field``: ``place: field: problem (got value)``."""
    shown = f" (got {value!r:.200})" if value is not None else ""
    return ConfigError(f"{where(field)}: {field}: {problem}{shown}")


def _safe(text: str, what: str) -> None:
    if len(text) > MAX_URL:
        raise ValueError(f"{what} longer than {MAX_URL} characters")
    if _SAFE.fullmatch(text) is None:
        raise ValueError(f"{what} must be printable ASCII without spaces")


def _port(parts: SplitResult, what: str) -> int | None:
    try:
        return parts.port
    except ValueError:
        raise ValueError(f"{what} has an invalid port") from None


def check_url(url: str) -> SplitResult:
    """A health endpoint URL, split; ValueError saying what is wrong with it."""
    _safe(url, "the URL")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise ValueError("the URL must start with http:// or https://")
    if not parts.hostname:
        raise ValueError("the URL must name a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("the URL must not carry credentials")
    _port(parts, "the URL")
    if parts.fragment:
        raise ValueError("the URL must not have a fragment")
    return parts


def check_endpoint(endpoint: str) -> None:
    """A CRI endpoint as ``crictl --runtime-endpoint`` takes it; ValueError if unusable."""
    _safe(endpoint, "the endpoint")
    parts = urlsplit(endpoint)
    if parts.scheme == "unix":
        if parts.netloc or not parts.path.startswith("/"):
            raise ValueError("a unix endpoint is unix:///absolute/path/to.sock")
        if parts.query or parts.fragment:
            raise ValueError("a unix endpoint has no query or fragment")
        return
    if parts.scheme == "tcp":
        if not parts.hostname or _port(parts, "the endpoint") is None:
            raise ValueError("a tcp endpoint is tcp://host:port")
        return
    raise ValueError("the endpoint must start with unix:// or tcp://")
