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
            "/api/v1/checks": {
                "get": {
                    "summary": "Every synthetic check with its latest result and threshold state",
                    "responses": {"200": {"description": "the checks", "content": json_body}},
                }
            },
            "/api/v1/checks/{namespace}/{name}/history": {
                "get": {
                    "summary": "Stored results of one check, newest first",
                    "parameters": [
                        {
                            "name": "namespace",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "name",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                        },
                    ],
                    "responses": {
                        "200": {"description": "the results", "content": json_body},
                        "400": {"description": "a bad limit", "content": json_body},
                        "404": {"description": "no such check", "content": json_body},
                    },
                }
            },
            "/json": {
                "get": {
                    "summary": "Kuberhealthy's status page (v2 shape); always 200, read OK",
                    "parameters": [
                        {
                            "name": "namespace",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {"200": {"description": "the status", "content": json_body}},
                }
            },
            "/check/{run_uuid}": {
                "post": {
                    "summary": 'A Kuberhealthy check run reports {"OK": bool, "Errors": [..]}',
                    "parameters": [
                        {
                            "name": "run_uuid",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["OK"],
                                    "properties": {
                                        "OK": {"type": "boolean"},
                                        "Errors": {"type": "array", "items": {"type": "string"}},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {"description": "accepted", "content": json_body},
                        "400": {
                            "description": "malformed, or an unknown run",
                            "content": json_body,
                        },
                        "405": {"description": "not a POST", "content": json_body},
                        "410": {
                            "description": "the run has finished or passed its deadline",
                            "content": json_body,
                        },
                        "413": {"description": "body over 64 KiB", "content": json_body},
                        "415": {"description": "not application/json", "content": json_body},
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
