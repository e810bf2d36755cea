"""Keeping the secrets of alert routes out of files and out of logs.

A Slack webhook's URL path is its password and a webhook's ``Authorization``
header is a token, so the config may take them from the environment
(``${NAME}``, expanded once at load time) and everything that talks about a
route to people (logs, errors, ``/health``) uses :func:`url_origin` or
:func:`redacted_url`: scheme, host and port, never a path, query, credential
or header value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final
from urllib.parse import urlsplit

__all__ = ["check_http_url", "expand_variables", "redacted_url", "url_origin"]

_VARIABLE: Final = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def expand_variables(text: str, environ: Mapping[str, str]) -> str:
    """``text`` with each ``${NAME}`` replaced by ``environ[NAME]`` and ``$${`` by ``${``.

    ValueError naming the variable (never its value) when one is not set.
    """

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return "${"
        value = environ.get(name)
        if value is None:
            raise ValueError(f"environment variable {name} is not set")
        return value

    return _VARIABLE.sub(one, text)


def check_http_url(url: str) -> None:
    """ValueError unless ``url`` is an absolute http(s) URL with a host (and a valid port)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError("not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// URL")
    if any(c.isspace() for c in url):
        raise ValueError("must not contain spaces")


def url_origin(url: str) -> str:
    """``scheme://host:port`` of a valid URL: safe to log."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def redacted_url(url: str) -> str:
    """Any ``url`` without user, password, path and query: enough to spot a typo."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "<not a URL>"
    return f"{parts.scheme}://{host}/…" if parts.scheme else "<not a URL>"
