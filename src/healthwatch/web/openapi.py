"""The OpenAPI description of the web listener, kept beside the routes it describes.

Every route of the web listener is described with the shape of its answers, so
clients can be generated from it and the test suite can check the running agent
against it (every generated request, valid or not, must get an answer the
description allows).
"""

from __future__ import annotations

from typing import Any

from healthwatch._version import __version__
from healthwatch.web.dashboard.openapi import DASHBOARD_SCHEMAS, dashboard_paths

__all__ = ["openapi_document"]

_OBJECT: dict[str, Any] = {"type": "object"}
_STRING: dict[str, Any] = {"type": "string"}
_STRINGS: dict[str, Any] = {"type": "array", "items": _STRING}
_NULLABLE_TIME: dict[str, Any] = {"type": ["string", "null"]}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": schema or _OBJECT}},
    }


def _param(name: str, where: str, schema: dict[str, Any], *, required: bool) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "schema": schema}


_SCHEMAS: dict[str, Any] = {
    "HealthReport": {
        "type": "object",
        "required": ["status", "components"],
        "properties": {
            "status": {"enum": ["starting", "ok", "degraded", "unhealthy", "draining", "stopped"]},
            "components": {"type": "object", "additionalProperties": _OBJECT},
        },
    },
    "Error": {"type": "object", "required": ["error"], "properties": {"error": _STRING}},
    "ReportAnswer": {
        "type": "object",
        "required": ["status", "message"],
        "properties": {"status": {"type": "integer"}, "message": _STRING},
    },
    "Result": {
        "type": "object",
        "required": ["ok", "errors", "run_id", "started_at", "duration_seconds", "attempts"],
        "properties": {
            "ok": {"type": "boolean"},
            "errors": _STRINGS,
            "run_id": _STRING,
            "started_at": _STRING,
            "duration_seconds": {"type": "number", "minimum": 0},
            "attempts": {"type": "integer", "minimum": 0},
            "passed_after_retry": {"type": "boolean"},
            "observations": {"type": "array", "items": _OBJECT},
        },
    },
    "Check": {
        "type": "object",
        "required": ["id", "name", "namespace", "kind", "latest", "runs", "failures"],
        "properties": {
            "id": _STRING,
            "name": _STRING,
            "namespace": _STRING,
            "kind": _STRING,
            "interval_seconds": {"type": "number"},
            "timeout_seconds": {"type": "number"},
            "conditions": _STRINGS,
            "labels": {"type": "object", "additionalProperties": _STRING},
            "latest": {"oneOf": [{"type": "null"}, _ref("Result")]},
            "runs": {"type": "integer", "minimum": 0},
            "failures": {"type": "integer", "minimum": 0},
            "consecutive_failures": {"type": "integer", "minimum": 0},
            "alerting": {"type": "boolean"},
            "alert_status": {"enum": ["ok", "firing", "in maintenance"]},
            "maintenance": {"type": ["string", "null"]},
            "last_success_at": _NULLABLE_TIME,
        },
    },
    "KuberhealthyState": {
        "type": "object",
        "required": ["OK", "Errors", "CheckDetails", "CurrentMaster"],
        "properties": {
            "OK": {"type": "boolean"},
            "Errors": _STRINGS,
            "CheckDetails": {
                "type": "object",
                "additionalProperties": {
                    "type": "object",
                    "required": ["OK", "Errors", "RunDuration", "Namespace", "LastRun", "uuid"],
                    "properties": {
                        "OK": {"type": "boolean"},
                        "Errors": _STRINGS,
                        "RunDuration": _STRING,
                        "Namespace": _STRING,
                        "LastRun": _NULLABLE_TIME,
                        "uuid": _STRING,
                    },
                },
            },
            "JobDetails": _OBJECT,
            "CurrentMaster": _STRING,
        },
    },
    "Report": {
        "oneOf": [
            {
                "type": "object",
                "required": ["OK"],
                "properties": {"OK": {"const": True}, "Errors": {"type": "array", "maxItems": 0}},
            },
            {
                "type": "object",
                "required": ["OK", "Errors"],
                "properties": {
                    "OK": {"const": False},
                    "Errors": {
                        "type": "array",
                        "minItems": 1,
                        "items": {"type": "string", "pattern": "\\S"},
                    },
                },
            },
        ]
    },
}


def _report_operation(summary: str, *, in_path: bool) -> dict[str, Any]:
    answer = _ref("ReportAnswer")
    parameters = [_param("kh-run-uuid", "header", _STRING, required=False)]
    if in_path:
        parameters.insert(0, _param("run_uuid", "path", _STRING, required=True))
    return {
        "post": {
            "summary": summary,
            "parameters": parameters,
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("Report")}},
            },
            "responses": {
                "200": _json("accepted", answer),
                "400": _json("malformed, unknown run, or header and URL disagree", answer),
                "405": _json("not a POST", answer),
                "410": _json("the run has finished or passed its deadline", answer),
                "413": _json("body over 64 KiB", answer),
                "415": _json("not application/json", answer),
            },
        }
    }


def _paths() -> dict[str, Any]:
    history_params = [
        _param("namespace", "path", _STRING, required=True),
        _param("name", "path", _STRING, required=True),
        _param(
            "limit", "query", {"type": "integer", "minimum": 1, "maximum": 1000}, required=False
        ),
    ]
    return {
        **dashboard_paths(),
        "/api/v1/health": {
            "get": {
                "summary": "The agent's own health report (components, probes, lifecycle)",
                "responses": {
                    "200": _json("ok or degraded", _ref("HealthReport")),
                    "503": _json("starting, unhealthy or draining", _ref("HealthReport")),
                },
            }
        },
        "/api/v1/version": {
            "get": {
                "summary": "Version of the running agent",
                "responses": {
                    "200": _json(
                        "the version",
                        {
                            "type": "object",
                            "required": ["version"],
                            "properties": {"version": _STRING},
                        },
                    )
                },
            }
        },
        "/api/openapi.json": {
            "get": {"summary": "This description", "responses": {"200": _json("OpenAPI 3.1")}}
        },
        "/api/v1/checks": {
            "get": {
                "summary": "Every synthetic check with its latest result and threshold state",
                "responses": {
                    "200": _json(
                        "the checks",
                        {
                            "type": "object",
                            "required": ["checks"],
                            "properties": {"checks": {"type": "array", "items": _ref("Check")}},
                        },
                    )
                },
            }
        },
        "/api/v1/checks/{namespace}/{name}/history": {
            "get": {
                "summary": "Stored results of one check, newest first",
                "parameters": history_params,
                "responses": {
                    "200": _json(
                        "the results",
                        {
                            "type": "object",
                            "required": ["check", "results"],
                            "properties": {
                                "check": _ref("Check"),
                                "results": {"type": "array", "items": _ref("Result")},
                            },
                        },
                    ),
                    "400": _json("a bad limit", _ref("Error")),
                    "404": _json("no such check", _ref("Error")),
                },
            }
        },
        "/json": {
            "get": {
                "summary": "Kuberhealthy's status page (v2 shape); always 200, read OK",
                "parameters": [_param("namespace", "query", _STRING, required=False)],
                "responses": {
                    "200": _json("the status", _ref("KuberhealthyState")),
                    "400": _json("the request had a body", _ref("Error")),
                },
            }
        },
        "/check": _report_operation(
            'Kuberhealthy v3 report {"OK": bool, "Errors": [..]}; run named by kh-run-uuid',
            in_path=False,
        ),
        "/check/{run_uuid}": _report_operation(
            "A report to the URL the run was handed (KH_REPORTING_URL)", in_path=True
        ),
        "/externalCheckStatus": _report_operation(
            "Kuberhealthy v2 report path; run named by kh-run-uuid", in_path=False
        ),
    }


def openapi_document() -> dict[str, Any]:
    """OpenAPI 3.1 for every route of the web listener."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "healthwatch agent API", "version": __version__},
        "paths": _paths(),
        "components": {"schemas": {**_SCHEMAS, **DASHBOARD_SCHEMAS}},
    }
