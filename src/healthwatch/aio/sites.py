"""Serving an aiohttp application on one address, with bind errors people can read.

Shared by the metrics listener and the web listener so both bind, report and
shut down the same way. aiohttp is imported here only; the health core never
imports this module.
"""

from __future__ import annotations

import errno
import logging
import socket

from aiohttp import web

from healthwatch.model.errors import ListenError

__all__ = ["AppSite"]

_log = logging.getLogger("healthwatch.aio.sites")


class AppSite:
    """One aiohttp application bound to one host and port."""

    def __init__(self, app: web.Application, *, name: str, host: str, port: int) -> None:
        self.app = app
        self.name = name
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None
        self._bound: tuple[str, int] | None = None

    @property
    def address(self) -> tuple[str, int]:
        """The bound address (the real port when 0 was asked for)."""
        return self._bound or (self.host, self.port)

    @property
    def url(self) -> str:
        """Base URL of the listener."""
        host, port = self.address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    async def start(self) -> None:
        """Bind and serve; raises :class:`ListenError` naming the listener and address."""
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=128)
        try:
            await site.start()
        except OSError as error:
            await runner.cleanup()
            reason = (
                "address already in use"
                if error.errno == errno.EADDRINUSE
                else (error.strerror or str(error))
            )
            raise ListenError(self.name, self.host, self.port, reason) from error
        self._runner = runner
        sockets = _sockets(site)
        if sockets:
            host, port = sockets[0].getsockname()[:2]
            self._bound = (str(host), int(port))
        _log.info("%s listener on %s", self.name, self.url)

    async def stop(self) -> None:
        """Stop serving and release the port."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


def _sockets(site: web.TCPSite) -> list[socket.socket]:
    server = getattr(site, "_server", None)  # aiohttp keeps the asyncio server private
    return list(getattr(server, "sockets", None) or [])
