"""The exception tree of healthwatch.

::

    HealthwatchError
    ├── ConfigError        a configuration file or value is wrong (names file, field, value)
    └── ListenError        a listener could not bind its address (names the address)

Third-party errors are wrapped into these (``raise ... from error``) at the edge
of the part that called the library; only the command line turns them into
exit codes.
"""

from __future__ import annotations

__all__ = ["ConfigError", "HealthwatchError", "ListenError"]


class HealthwatchError(Exception):
    """Base of every error healthwatch raises on purpose."""


class ConfigError(HealthwatchError):
    """A configuration is invalid; the message names the file, the field and the bad value."""


class ListenError(HealthwatchError):
    """A listener could not bind; the message names the listener and the address."""

    def __init__(self, listener: str, host: str, port: int, reason: str) -> None:
        super().__init__(f"{listener} listener cannot bind {host}:{port}: {reason}")
        self.listener = listener
        self.host = host
        self.port = port
        self.reason = reason
