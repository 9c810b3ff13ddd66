"""The OpenAPI schema states what the service enforces: each operation's error answers with
their body shape, and the bounds that come from settings (lengths, top_k, history)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from rag.config import Settings
from service.asgi import OPENAI_PREFIX, UPLOAD_PREFIX, matches
from service.errors import DESCRIPTIONS

DETAIL_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, in plain words."},
        "errors": {
            "type": "array",
            "description": "For request validation errors: one entry per problem.",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {"type": "string"}},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                },
            },
        },
    },
}
OPENAI_ERROR_SCHEMA: dict[str, Any] = {
    "title": "OpenAIError",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "param": {"type": ["string", "null"]},
                "code": {"type": ["string", "null"]},
            },
        }
    },
}

# Operations behind a bearer token (service/auth.py), as (method, prefix).
PROTECTED = (("POST", UPLOAD_PREFIX), ("PUT", UPLOAD_PREFIX), ("DELETE", UPLOAD_PREFIX))
OPERATOR = (("GET", "/feedback"),)


def error_codes(path: str, method: str, settings: Settings) -> set[int]:
    """The error statuses ``method`` on ``path`` (as in the schema) can answer with."""
    codes = {503}
    limits = settings.limits
    if method in ("POST", "PUT", "PATCH"):
        codes |= {400, 413, 422}
    if "{" in path:
        codes |= {404, 422}
    if method == "POST" and limits.rate_limit and matches(path, limits.rate_limit_paths):
        codes.add(429)
    if matches(path, limits.timeout_paths):
        codes.add(504)
    if any(method == m and matches(path, [prefix]) for m, prefix in PROTECTED + OPERATOR):
        codes |= {401, 403}
    if method in ("POST", "PUT") and matches(path, [UPLOAD_PREFIX]):
        codes |= {404, 409, 415}
    if matches(path, [OPENAI_PREFIX]):
        codes.add(404)  # unknown model
    return codes


def settings_bounds(settings: Settings) -> dict[str, dict[str, dict[str, int]]]:
    """Request fields bounded by settings (checked by the pipeline or the routes), by schema."""
    service = settings.service
    question = {"maxLength": service.max_question_chars}
    top_k = {"maximum": service.max_top_k}
    return {
        "AskRequest": {
            "question": question,
            "top_k": top_k,
            "history": {"maxItems": service.max_history_turns},
        },
        "SearchRequest": {"query": question, "top_k": top_k},
        "ChatTurn": {"content": {"maxLength": service.max_history_chars}},
        "FeedbackIn": {
            "question": question,
            "answer": {"maxLength": service.max_feedback_chars},
            "comment": {"maxLength": service.max_comment_chars},
        },
    }


_APPLIES_TO = {"maxLength": "string", "maximum": "integer", "maxItems": "array"}


def _bound(prop: dict[str, Any], constraints: dict[str, int]) -> None:
    # An optional field is {"anyOf": [{"type": "integer", ...}, {"type": "null"}]}: bound the
    # branch of the constrained type.
    for branch in prop.get("anyOf", [prop]):
        for key, value in constraints.items():
            if branch.get("type") == _APPLIES_TO[key]:
                branch[key] = value


def _document_errors(schema: dict[str, Any], settings: Settings) -> None:
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = DETAIL_SCHEMA
    components["OpenAIError"] = OPENAI_ERROR_SCHEMA
    # The app's validation handler answers {detail: str, errors: [...]}, not FastAPI's shape.
    components["HTTPValidationError"] = DETAIL_SCHEMA
    for path, operations in schema.get("paths", {}).items():
        ref = "OpenAIError" if matches(path, [OPENAI_PREFIX]) else "Error"
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in sorted(error_codes(path, method.upper(), settings)):
                responses.setdefault(
                    str(code),
                    {
                        "description": DESCRIPTIONS[code],
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}
                        },
                    },
                )


def _document_bounds(schema: dict[str, Any], settings: Settings) -> None:
    components = schema.get("components", {}).get("schemas", {})
    for name, fields in settings_bounds(settings).items():
        properties = components.get(name, {}).get("properties", {})
        for field, constraints in fields.items():
            if field in properties:
                _bound(properties[field], constraints)


def install(app: FastAPI, settings: Settings) -> None:
    """Make ``app.openapi()`` list error responses and the settings' bounds."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        _document_errors(schema, settings)
        _document_bounds(schema, settings)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
