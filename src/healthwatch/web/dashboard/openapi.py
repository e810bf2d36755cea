"""The dashboard's part of the web listener's OpenAPI description.

Kept beside the dashboard so the routes and their description change together;
:mod:`healthwatch.web.openapi` merges it into the whole document. Pages answer
HTML (the schemathesis test checks their status codes and content types), the
live state answers JSON of the ``DashboardState`` shape.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DASHBOARD_SCHEMAS", "dashboard_paths"]

_STRING: dict[str, Any] = {"type": "string"}


def _param(name: str, where: str, schema: dict[str, Any], *, required: bool) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


DASHBOARD_SCHEMAS: dict[str, Any] = {
    "DashboardState": {
        "type": "object",
        "required": ["generated_at", "status", "components", "checks", "conditions", "timeline"],
        "properties": {
            "generated_at": _STRING,
            "status": {"enum": ["starting", "ok", "degraded", "unhealthy", "draining", "stopped"]},
            "lifecycle": _STRING,
            "standby": {"type": "boolean"},
            "components": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "required": ["status", "message"],
                    "properties": {
                        "status": {"enum": ["unknown", "healthy", "degraded", "unhealthy"]},
                        "message": _STRING,
                    },
                },
            },
            "checks": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "required": ["state", "words", "summary", "alerting"],
                    "properties": {
                        "state": {"enum": ["passing", "failing", "maintenance", "pending"]},
                        "words": _STRING,
                        "summary": _STRING,
                        "alerting": {"type": "boolean"},
                    },
                },
            },
            "conditions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["source", "type", "status", "state", "reason", "since"],
                    "properties": {
                        "state": {"enum": ["raised", "clear", "unknown"]},
                        "href": {"type": ["string", "null"]},
                    },
                },
            },
            "timeline": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["at", "kind", "severity", "title", "detail", "href", "who"],
                    "properties": {"kind": {"enum": ["problem", "component"]}},
                },
            },
        },
    },
}
"""Schemas of the dashboard's JSON answers, by name."""


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": _STRING}}}


def _page(summary: str, parameters: list[dict[str, Any]], **answers: str) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": parameters,
            "responses": {code: _html(what) for code, what in answers.items()},
        }
    }


def dashboard_paths() -> dict[str, Any]:
    """The dashboard's pages, static files and live state (see docs/dashboard.md)."""
    name = {"type": "string", "minLength": 1}
    revalidated = {"description": "unchanged since the ETag in If-None-Match"}
    return {
        "/": _page(
            "The dashboard's overview (HTML); always 200, the status is on the page",
            [],
            **{"200": "the overview"},
        ),
        "/checks/{namespace}/{name}": _page(
            "One check: its runs with failed conditions and observed values, latency, alerts",
            [
                _param("namespace", "path", name, required=True),
                _param("name", "path", name, required=True),
                _param("period", "query", {"enum": ["1d", "7d", "90d"]}, required=False),
            ],
            **{"200": "the check page", "400": "a bad period", "404": "no such check"},
        ),
        "/problems/{source}/{reason}": _page(
            "One problem of one daemon: the matched log lines, the rule, first and last seen",
            [
                _param("source", "path", name, required=True),
                _param("reason", "path", name, required=True),
            ],
            **{"200": "the problem page", "404": "nothing known of this problem"},
        ),
        "/components/{name}": _page(
            "One health component: status history, probe groups, suppression windows, standby",
            [_param("name", "path", name, required=True)],
            **{"200": "the component page", "404": "no such component"},
        ),
        "/static/{name}": {
            "get": {
                "summary": "The dashboard's stylesheet, script and icon",
                "parameters": [
                    _param(
                        "name",
                        "path",
                        {"enum": ["dashboard.css", "dashboard.js", "favicon.svg"]},
                        required=True,
                    ),
                    _param("v", "query", _STRING, required=False),
                ],
                "responses": {
                    "200": {
                        "description": "the file",
                        "content": {
                            kind: {"schema": _STRING}
                            for kind in ("text/css", "text/javascript", "image/svg+xml")
                        },
                    },
                    "304": revalidated,
                    "404": _html("no such file"),
                },
            }
        },
        "/api/v1/dashboard": {
            "get": {
                "summary": "What the dashboard's script updates open pages with",
                "responses": {
                    "200": _json("the live state", {"$ref": "#/components/schemas/DashboardState"}),
                    "304": revalidated,
                },
            }
        },
    }
