"""``GET /openapi.json``: the whole API as an OpenAPI 3.1 document.

Written out by hand rather than derived from models: the hot path has no
models, and the document is checked by openapi-spec-validator in the tests.
"""

from __future__ import annotations

from typing import Any

from streamlake.http.problems import TITLES, TYPE_PREFIX
from streamlake.http.settings import ServeSettings

_REF = "#/components/schemas/"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF + name}


def _json(schema: dict[str, Any], description: str, **headers: Any) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        response["headers"] = headers
    return response


def _problem(description: str, retry: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }
    if retry:
        response["headers"] = {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}
    return response


_RETRY = {"Retry-After": {"$ref": "#/components/headers/RetryAfter"}}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["type", "message"],
        "properties": {
            "type": {
                "type": "string",
                "description": "The DLQ error type (invalid_json, missing_field, "
                "schema_validation, ...) or `kafka` for a Kafka failure",
            },
            "message": {"type": "string"},
            "code": {"type": "string", "description": "librdkafka's error code (kafka only)"},
            "retriable": {"type": "boolean"},
        },
    },
    "Result": {
        "type": "object",
        "required": ["status", "ingestion_id"],
        "properties": {
            "status": {"enum": ["produced", "dlq", "failed"]},
            "topic": {"type": ["string", "null"]},
            "partition": {"type": ["integer", "null"]},
            "offset": {"type": ["integer", "null"]},
            "ingestion_id": {"type": ["string", "null"], "format": "uuid"},
            "error": _ref("Error"),
        },
    },
    "SingleResult": {
        "allOf": [
            _ref("Result"),
            {
                "type": "object",
                "properties": {
                    "dataset": {"type": "string"},
                    "schema_id": {"type": ["integer", "null"]},
                    "schema_version": {"type": ["string", "null"]},
                },
            },
        ]
    },
    "Summary": {
        "type": "object",
        "required": ["produced", "dlq", "failed"],
        "properties": {
            "produced": {"type": "integer"},
            "dlq": {"type": "integer"},
            "failed": {"type": "integer"},
            "blank": {"type": "integer", "description": "Blank lines skipped (streams)"},
        },
    },
    "BatchResult": {
        "type": "object",
        "required": ["summary", "results"],
        "properties": {
            "summary": _ref("Summary"),
            "results": {
                "type": "array",
                "description": "In request order; only the non-produced ones with "
                "`Prefer: return=minimal`",
                "items": {
                    "allOf": [
                        _ref("Result"),
                        {"type": "object", "properties": {"index": {"type": "integer"}}},
                    ]
                },
            },
        },
    },
    "StreamLine": {
        "description": "One line per input line (`line`, 1-based), then a final line "
        "with `summary` and `complete`",
        "oneOf": [
            {
                "allOf": [
                    _ref("Result"),
                    {
                        "type": "object",
                        "required": ["line"],
                        "properties": {"line": {"type": "integer"}},
                    },
                ]
            },
            {
                "type": "object",
                "required": ["summary", "complete"],
                "properties": {
                    "summary": _ref("Summary"),
                    "complete": {"type": "boolean"},
                    "error": {
                        "type": "object",
                        "properties": {
                            "reason": {"type": "string"},
                            "last_line_read": {"type": "integer"},
                            "resend_from_line": {"type": "integer"},
                        },
                    },
                },
            },
        ],
    },
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"enum": [TYPE_PREFIX + slug for slug in TITLES]},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string", "description": "What went wrong and what to do"},
            "dlq": {"description": "invalid-json only: where the body was dead-lettered"},
        },
    },
    "Version": {
        "type": "object",
        "properties": {
            "version": {"type": "integer"},
            "label": {"type": "string"},
            "schema_id": {"type": ["integer", "null"]},
            "usable": {"type": "boolean"},
        },
    },
    "Dataset": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "key_field": {"type": "string"},
            "raw_topic": {"type": "string"},
            "dlq_topic": {"type": "string"},
            "subject": {"type": "string"},
            "compatibility": {"type": "string"},
            "latest_version": {"type": "integer"},
            "idempotency_field": {"type": ["string", "null"]},
            "versions": {"type": "array", "items": _ref("Version")},
        },
    },
}


def document(settings: ServeSettings) -> dict[str, Any]:
    limits = settings.limits
    dataset_param = {
        "name": "dataset",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    version_param = {
        "name": "version",
        "in": "query",
        "required": False,
        "description": "Pin a schema version (default: the catalog's latest)",
        "schema": {"type": "integer", "minimum": 1},
    }
    common_errors = {
        "400": _problem("Malformed request, or a body that is not JSON (also dead-lettered)"),
        "401": _problem("No or unknown API key"),
        "403": _problem("The API key is not scoped to this dataset"),
        "404": _problem("Unknown dataset"),
        "429": _problem("Rate limit of the API key", retry=True),
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "StreamLake ingestion API",
            "version": "1",
            "description": "JSON events in, schema-checked Avro records in Kafka out. "
            "Every event gets its own answer; whole-request errors are "
            "application/problem+json (RFC 9457).",
        },
        "components": {
            "schemas": _SCHEMAS,
            "headers": {
                "RetryAfter": {
                    "description": "Seconds to wait before retrying",
                    "schema": {"type": "integer"},
                }
            },
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}] if settings.auth_enabled else [],
        "paths": {
            "/v1/datasets/{dataset}/events": {
                "post": {
                    "summary": "Produce one event, a batch, or an NDJSON stream",
                    "parameters": [
                        dataset_param,
                        version_param,
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "description": "Single events: the ingestion_id becomes "
                            "UUIDv5(dataset + key), the same for every retry",
                            "schema": {"type": "string", "maxLength": 255},
                        },
                        {"name": "traceparent", "in": "header", "schema": {"type": "string"}},
                        {"name": "X-Request-Id", "in": "header", "schema": {"type": "string"}},
                        {
                            "name": "Prefer",
                            "in": "header",
                            "description": "`return=minimal`: only the results that are "
                            "not produced",
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "Content-Encoding",
                            "in": "header",
                            "schema": {"enum": ["gzip", "identity"]},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "description": f"At most {limits.max_body_bytes} bytes after "
                        f"decompression; a batch at most {limits.max_batch_events} events",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"type": "object"},
                                        {
                                            "type": "array",
                                            "maxItems": limits.max_batch_events,
                                            "items": {},
                                        },
                                    ]
                                }
                            },
                            "application/x-ndjson": {"schema": {"type": "string"}},
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Produced (single), all produced (batch), or a "
                            "stream of result lines",
                            "content": {
                                "application/json": {
                                    "schema": {"oneOf": [_ref("SingleResult"), _ref("BatchResult")]}
                                },
                                "application/x-ndjson": {"schema": _ref("StreamLine")},
                            },
                        },
                        "207": _json(_ref("BatchResult"), "Some events went to the DLQ or failed"),
                        "422": _json(
                            _ref("SingleResult"), "The event was invalid and dead-lettered"
                        ),
                        "500": _json(_ref("SingleResult"), "A fatal Kafka failure"),
                        "503": {
                            "description": "A retriable Kafka failure (a result), or the "
                            "server is not ready, draining or overloaded (a problem)",
                            "headers": _RETRY,
                            "content": {
                                "application/json": {
                                    "schema": {"oneOf": [_ref("SingleResult"), _ref("BatchResult")]}
                                },
                                "application/problem+json": {"schema": _ref("Problem")},
                            },
                        },
                        **common_errors,
                        "413": _problem("Body too large or too many events"),
                        "415": _problem("Unsupported Content-Type or Content-Encoding"),
                    },
                }
            },
            "/v1/datasets": {
                "get": {
                    "summary": "The catalog's datasets, versions and schema ids",
                    "responses": {
                        "200": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "datasets": {"type": "array", "items": _ref("Dataset")}
                                },
                            },
                            "The datasets this API key may use",
                        ),
                        "401": common_errors["401"],
                    },
                }
            },
            "/v1/datasets/{dataset}/schema": {
                "get": {
                    "summary": "One version's Avro schema (the latest by default)",
                    "parameters": [dataset_param, version_param],
                    "responses": {
                        "200": _json(
                            {
                                "allOf": [
                                    _ref("Version"),
                                    {
                                        "type": "object",
                                        "properties": {
                                            "dataset": {"type": "string"},
                                            "subject": {"type": "string"},
                                            "key_field": {"type": "string"},
                                            "schema": {"type": "object"},
                                        },
                                    },
                                ]
                            },
                            "The schema",
                        ),
                        "401": common_errors["401"],
                        "403": common_errors["403"],
                        "404": _problem("Unknown dataset or version"),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This document",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1")},
                }
            },
            "/livez": {
                "get": {
                    "summary": "The process answers",
                    "security": [],
                    "responses": {"200": _json({"type": "object"}, "Live")},
                }
            },
            "/readyz": {
                "get": {
                    "summary": "Catalog registered, Kafka answers, not draining",
                    "security": [],
                    "responses": {
                        "200": _json({"type": "object"}, "Ready"),
                        "503": _json(
                            {
                                "type": "object",
                                "properties": {
                                    "ready": {"const": False},
                                    "reasons": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                            "Not ready, with the reasons",
                            **_RETRY,
                        ),
                    },
                }
            },
            "/metrics": {
                "get": {
                    "summary": "Prometheus metrics",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The Prometheus text format",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            },
        },
    }
