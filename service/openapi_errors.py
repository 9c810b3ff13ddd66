"""Document every error an operation can answer with, so clients and fuzzers can rely on it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from rag.config import Settings
from service.limits import UPLOAD_PREFIX, matches

OPENAI_PREFIX = "/v1"

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
DESCRIPTIONS = {
    "400": "Malformed request (body cannot be parsed).",
    "401": "No bearer token.",
    "403": "Wrong token, or the operation is disabled.",
    "404": "No such document or model.",
    "409": "Clashes with the collection (duplicate content or name).",
    "413": "Request body over the configured limit.",
    "415": "Unsupported document format.",
    "422": "Invalid input; `detail` names the problem.",
    "429": "Rate limit exceeded; see Retry-After.",
    "503": "The index is not loaded or is damaged.",
    "504": "The request took longer than limits.request_timeout_s.",
}


# Operations behind a bearer token (service/auth.py, service/feedback.py), as (method, prefix).
PROTECTED = (("POST", UPLOAD_PREFIX), ("PUT", UPLOAD_PREFIX), ("DELETE", UPLOAD_PREFIX))
OPERATOR = (("GET", "/feedback"),)


def error_codes(path: str, method: str, settings: Settings) -> set[str]:
    """The error statuses ``method`` on ``path`` (as in the schema) can answer with."""
    codes = {"503"}
    limits = settings.limits
    if method in ("POST", "PUT", "PATCH"):
        codes |= {"400", "413", "422"}
    if "{" in path:
        codes |= {"404", "422"}
    if method == "POST" and limits.rate_limit and matches(path, limits.rate_limit_paths):
        codes.add("429")
    if matches(path, limits.timeout_paths):
        codes.add("504")
    if any(method == m and matches(path, [prefix]) for m, prefix in PROTECTED + OPERATOR):
        codes |= {"401", "403"}
    if method in ("POST", "PUT") and matches(path, [UPLOAD_PREFIX]):
        codes |= {"404", "409", "415"}
    if matches(path, [OPENAI_PREFIX]):
        codes.add("404")  # unknown model
    return codes


def document_errors(app: FastAPI, settings: Settings) -> None:
    """Make ``app.openapi()`` list each operation's error responses with their body shape."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
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
                        code,
                        {
                            "description": DESCRIPTIONS[code],
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": f"#/components/schemas/{ref}"}
                                }
                            },
                        },
                    )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
