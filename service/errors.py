"""The one mapping from errors to HTTP: status, then the JSON, OpenAI and SSE error shapes.

Each ``RagError`` kind has one status here. Route handlers raise; the handlers installed by
``install`` answer ``{"detail": ...}``, the OpenAI-compatible router answers OpenAI's
``{"error": {...}}`` from the same status, and event streams end with an ``error`` event
``{"detail": ...}`` built here too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from rag.errors import (
    Conflict,
    Forbidden,
    IndexMismatch,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RagError,
    Unauthorized,
    UnsupportedFormat,
)

log = logging.getLogger(__name__)

# Most specific first: UnsupportedFormat and PayloadTooLarge are kinds of InvalidInput.
STATUS: tuple[tuple[type[RagError], int], ...] = (
    (UnsupportedFormat, 415),
    (PayloadTooLarge, 413),
    (InvalidInput, 422),
    (Conflict, 409),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (IndexMismatch, 503),
)

# What each error status means in this service (the OpenAPI schema lists them per operation).
DESCRIPTIONS = {
    400: "Malformed request (body cannot be parsed).",
    401: "No bearer token.",
    403: "Wrong token, or the operation is disabled.",
    404: "No such document or model.",
    409: "Clashes with the collection (duplicate content or name).",
    413: "Request body over the configured limit.",
    415: "Unsupported document format.",
    422: "Invalid input; `detail` names the problem.",
    429: "Rate limit exceeded; see Retry-After.",
    503: "The index is not loaded or is damaged.",
    504: "The request took longer than limits.request_timeout_s.",
}

INTERNAL = "internal error"  # all a client learns of an unexpected failure (the log has more)

# OpenAI's error "type" and "code" for a status; other statuses: invalid_request_error / none.
_OPENAI_TYPES = {429: "rate_limit_exceeded", 504: "timeout"}
_OPENAI_CODES = {404: "not_found", 503: "index_unavailable"}


@dataclass(frozen=True)
class HttpError:
    """An error as the client sees it: status, message and extra response headers."""

    status: int
    detail: str
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> JSONResponse:
        """The service's shape: ``{"detail": ...}``."""
        return JSONResponse({"detail": self.detail}, self.status, self.headers or None)

    def openai_status(self) -> int:
        """OpenAI answers unusable input with 400 where the service's own API says 422."""
        return 400 if self.status == 422 else self.status

    def openai_error(self, code: str | None = None) -> dict[str, Any]:
        """The inside of OpenAI's ``{"error": {...}}`` (without ``param``)."""
        status = self.openai_status()
        default = "server_error" if status >= 500 else "invalid_request_error"
        kind = _OPENAI_TYPES.get(status, default)
        return {"message": self.detail, "type": kind, "code": code or _OPENAI_CODES.get(status)}

    def openai_body(self, code: str | None = None, param: str | None = None) -> dict[str, Any]:
        """OpenAI's shape: ``{"error": {message, type, param, code}}``."""
        return {"error": {**self.openai_error(code), "param": param}}

    def openai_response(self, code: str | None = None, param: str | None = None) -> JSONResponse:
        """OpenAI's shape with OpenAI's status (400 for invalid input)."""
        body = self.openai_body(code, param)
        return JSONResponse(body, self.openai_status(), self.headers or None)

    def sse_data(self) -> dict[str, Any]:
        """The data of a stream's closing ``error`` event."""
        return {"detail": self.detail}


def status_of(exc: RagError) -> int:
    """The HTTP status of a library error (500 for kinds the service does not expect)."""
    return next((status for kind, status in STATUS if isinstance(exc, kind)), 500)


def from_exception(exc: BaseException) -> HttpError:
    """What the client is told about ``exc``; unexpected failures are logged, not shown."""
    if isinstance(exc, RagError) and (status := status_of(exc)) != 500:
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
        return HttpError(status, str(exc), headers)
    log.error("unexpected error", exc_info=exc)
    return HttpError(500, INTERNAL)


def _validation_response(exc: RequestValidationError) -> JSONResponse:
    problems = []
    errors = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        if err.get("type") == "json_invalid":
            reason = (err.get("ctx") or {}).get("error", "")
            problems.append(f"body is not valid JSON (at position {loc[-1]}: {reason})")
        else:
            where = ".".join(p for p in loc if p != "body") or "body"
            problems.append(f"{where}: {err.get('msg')}")
        errors.append({"loc": loc, "msg": str(err.get("msg")), "type": str(err.get("type"))})
    return JSONResponse(status_code=422, content={"detail": "; ".join(problems), "errors": errors})


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(app: FastAPI, request: Request) -> list[str]:
    """Every method some route serves at the request's path (the ``Allow`` of a 405)."""
    # Starlette's 405 names the methods of the first route at the path only (GET for
    # /documents, which POST serves too): ask every route about every method instead.
    allowed = []
    for method in METHODS:
        scope = {
            "type": "http",
            "method": method,
            "path": request.scope.get("path", ""),
            "root_path": request.scope.get("root_path", ""),
            "headers": [],
            "query_string": b"",
        }
        if any(route.matches(scope)[0] is Match.FULL for route in app.router.routes):
            allowed.append(method)
    return allowed


def install(app: FastAPI) -> None:
    """Answer library errors, invalid requests and wrong methods in the service's shape."""

    @app.exception_handler(RagError)
    async def _rag_error(_: Request, exc: RagError) -> JSONResponse:
        return from_exception(exc).response()

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 405:
            allow = ", ".join(allowed_methods(app, request)) or (exc.headers or {}).get("Allow")
            if allow:
                exc.headers = {**(exc.headers or {}), "Allow": allow}
        return await http_exception_handler(request, exc)
