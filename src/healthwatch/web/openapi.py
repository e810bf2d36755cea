"""The OpenAPI description of the web listener's API, kept beside the routes it describes."""

from __future__ import annotations

from typing import Any

from healthwatch._version import __version__

__all__ = ["openapi_document"]


def openapi_document() -> dict[str, Any]:
    """OpenAPI 3.1 for ``/api/v1/…``."""
    json_body = {"application/json": {"schema": {"type": "object"}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "healthwatch agent API", "version": __version__},
        "paths": {
            "/api/v1/health": {
                "get": {
                    "summary": "The agent's own health report (components, probes, lifecycle)",
                    "responses": {
                        "200": {"description": "ok or degraded", "content": json_body},
                        "503": {
                            "description": "starting, unhealthy or draining",
                            "content": json_body,
                        },
                    },
                }
            },
            "/api/v1/version": {
                "get": {
                    "summary": "Version of the running agent",
                    "responses": {"200": {"description": "the version", "content": json_body}},
                }
            },
        },
    }
