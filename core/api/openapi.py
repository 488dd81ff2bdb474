"""The OpenAPI 3 document of the API, built from the same limits the code enforces."""

from typing import Any

from core.config import Settings
from core.status import JobStatus

__all__ = ["openapi_document"]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): {"$ref": f"#/components/responses/E{code}"} for code in codes}


_NAME = {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"^[A-Za-z0-9._-]+$"}
_TIME = {"type": "string", "format": "date-time"}
_NULLABLE_TIME = {**_TIME, "nullable": True}


def _schemas(settings: Settings) -> dict[str, Any]:
    submit = {
        "type": "object",
        "additionalProperties": False,
        "required": ["payload"],
        "properties": {
            "payload": {
                "type": "object",
                "required": ["type"],
                "properties": {"type": {"type": "string", "minLength": 1, "maxLength": 200}},
            },
            "queue": _NAME,
            "max_attempts": {"type": "integer", "minimum": 1, "maximum": 1000},
            "delay_seconds": {
                "type": "number",
                "minimum": 0,
                "maximum": settings.max_delay_seconds,
            },
            "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 500},
        },
    }
    job = {
        "type": "object",
        "required": [
            "id",
            "queue",
            "type",
            "status",
            "attempts",
            "max_attempts",
            "payload",
            "errors",
            "created_at",
            "updated_at",
            "run_at",
        ],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "queue": {"type": "string"},
            "type": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in JobStatus]},
            "attempts": {"type": "integer", "minimum": 0},
            "max_attempts": {"type": "integer", "minimum": 1},
            "attempts_left": {"type": "integer"},
            "redrives": {"type": "integer", "minimum": 0},
            "payload": {"type": "object"},
            "result": {"nullable": True},
            "last_error": {"type": "string", "nullable": True},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["attempt", "error", "at"],
                    "properties": {
                        "attempt": {"type": "integer"},
                        "error": {"type": "string"},
                        "at": {"type": "string"},
                    },
                },
            },
            "idempotency_key": {"type": "string", "nullable": True},
            "run_at": _TIME,
            "lease_expires_at": _NULLABLE_TIME,
            "created_at": _TIME,
            "updated_at": _TIME,
            "started_at": _NULLABLE_TIME,
            "finished_at": _NULLABLE_TIME,
        },
    }
    return {
        "SubmitRequest": submit,
        "BatchRequest": {
            "type": "object",
            "required": ["jobs"],
            "properties": {
                "jobs": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": settings.max_batch,
                    "items": _ref("SubmitRequest"),
                }
            },
        },
        "Job": job,
        "JobList": {
            "type": "object",
            "required": ["jobs"],
            "properties": {
                "jobs": {"type": "array", "items": _ref("Job")},
                "next_cursor": {"type": "string", "nullable": True},
            },
        },
        "RedriveRequest": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "ids": {"type": "array", "items": {"type": "string", "format": "uuid"}},
                "queue": {"type": "string", "minLength": 1},
                "type": {"type": "string", "minLength": 1},
                "limit": {"type": "integer", "minimum": 1, "maximum": 1_000_000},
                "dry_run": {"type": "boolean"},
            },
        },
        "RedriveResult": {
            "type": "object",
            "required": ["redriven", "ids", "dry_run"],
            "properties": {
                "redriven": {"type": "integer"},
                "ids": {"type": "array", "items": {"type": "string"}},
                "dry_run": {"type": "boolean"},
            },
        },
        "Queues": {
            "type": "object",
            "required": ["queues"],
            "properties": {
                "queues": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "queue": {"type": "string"},
                            "ready": {"type": "integer"},
                            "delayed": {"type": "integer"},
                            "running": {"type": "integer"},
                            "failed": {"type": "integer"},
                            "oldest_ready_age_seconds": {"type": "number", "nullable": True},
                        },
                    },
                }
            },
        },
        "Health": {
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"type": "string"}, "checks": {"type": "object"}},
        },
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                }
            },
        },
    }


_LIST_PARAMS = [
    {"name": "queue", "in": "query", "schema": {"type": "string", "minLength": 1}},
    {"name": "type", "in": "query", "schema": {"type": "string", "minLength": 1}},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
    {"name": "cursor", "in": "query", "schema": {"type": "string", "minLength": 1}},
]
_KEY_HEADER = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 500},
}


def _paths() -> dict[str, Any]:
    job = _json(_ref("Job"), "the job")
    body_errors = _errors(400, 401, 409, 413, 415, 429)
    return {
        "/jobs": {
            "post": {
                "summary": "Submit a job",
                "parameters": [_KEY_HEADER],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("SubmitRequest")}},
                },
                "responses": {
                    "201": job,
                    "200": _json(_ref("Job"), "idempotent replay"),
                    **body_errors,
                },
            },
            "get": {
                "summary": "List jobs, newest first",
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "schema": {"type": "string", "enum": [s.value for s in JobStatus]},
                    },
                    *_LIST_PARAMS,
                ],
                "responses": {"200": _json(_ref("JobList"), "a page"), **_errors(400, 401)},
            },
        },
        "/jobs/batch": {
            "post": {
                "summary": "Submit several jobs atomically",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("BatchRequest")}},
                },
                "responses": {
                    "201": _json(_ref("JobList"), "the jobs"),
                    "200": _json(_ref("JobList"), "every job replayed"),
                    **body_errors,
                },
            }
        },
        "/jobs/{id}": {
            "get": {
                "summary": "One job",
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string", "format": "uuid"},
                    }
                ],
                "responses": {"200": job, **_errors(400, 401, 404)},
            }
        },
        "/dlq": {
            "get": {
                "summary": "Failed jobs",
                "parameters": _LIST_PARAMS,
                "responses": {"200": _json(_ref("JobList"), "a page"), **_errors(400, 401)},
            }
        },
        "/dlq/redrive": {
            "post": {
                "summary": "Requeue failed jobs with a fresh retry budget (no selector: all)",
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": _ref("RedriveRequest")}},
                },
                "responses": {
                    "200": _json(_ref("RedriveResult"), "what was redriven"),
                    **_errors(400, 401, 413, 415),
                },
            }
        },
        "/queues": {
            "get": {
                "summary": "Depth per queue and state",
                "responses": {"200": _json(_ref("Queues"), "the queues"), **_errors(401)},
            }
        },
        "/healthz": {
            "get": {
                "summary": "Liveness",
                "security": [],
                "responses": {"200": _json(_ref("Health"), "alive")},
            }
        },
        "/readyz": {
            "get": {
                "summary": "Readiness: PostgreSQL, migrations, Redis",
                "security": [],
                "responses": {
                    "200": _json(_ref("Health"), "ready"),
                    "503": _json(_ref("Health"), "not ready"),
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "security": [],
                "responses": {
                    "200": {
                        "description": "exposition format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "security": [],
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3")},
            }
        },
    }


def openapi_document(settings: Settings) -> dict[str, Any]:
    reasons = {
        400: "invalid input",
        401: "missing or wrong API key",
        404: "not found",
        409: "idempotency key used by another request",
        413: "body too large",
        415: "body is not JSON",
        429: "backlog over TASKENGINE_MAX_QUEUE_DEPTH",
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "task-engine",
            "version": "1.0.0",
            "description": "Durable jobs on PostgreSQL and Redis.",
        },
        "paths": _paths(),
        "components": {
            "schemas": _schemas(settings),
            "responses": {f"E{code}": _json(_ref("Error"), text) for code, text in reasons.items()},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
        "security": [{"bearer": []}, {"apiKey": []}, {}],
    }
