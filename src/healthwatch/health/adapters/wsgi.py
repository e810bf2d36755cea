"""The health routes as a WSGI application (Flask, Django, any WSGI server).

Mount it under a prefix, e.g. with werkzeug's ``DispatcherMiddleware``, or serve
it on its own. Under a threaded WSGI server a slow pulled check holds only its
own request's thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from healthwatch.health.adapters._paths import encode_path
from healthwatch.health.routes import HealthRoutes, Request

__all__ = ["HealthWSGI"]

StartResponse = Callable[..., Any]


class HealthWSGI:
    """A PEP 3333 application serving :class:`HealthRoutes`."""

    def __init__(self, routes: HealthRoutes) -> None:
        self.routes = routes

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        # PEP 3333: PATH_INFO holds the raw bytes decoded as latin-1.
        raw = environ.get("PATH_INFO", "") or "/"
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if "CONTENT_TYPE" in environ:
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        request = Request(
            method=str(environ.get("REQUEST_METHOD", "GET")),
            path=encode_path(raw.encode("latin-1")),
            query=str(environ.get("QUERY_STRING", "")),
            headers=headers,
            client=environ.get("REMOTE_ADDR"),
        )
        response = self.routes.handle(request)
        phrase = HTTPStatus(response.status).phrase
        start_response(f"{response.status} {phrase}", response.all_headers())
        return [] if request.method == "HEAD" else [response.body]
