"""Wire the request limits, security headers, request ids, /ready and error docs into an app."""

from __future__ import annotations

from fastapi import FastAPI

from rag.config import Settings
from service import ready
from service.jsonguard import StrictJsonMiddleware
from service.limits import BodyLimitMiddleware, RateLimitMiddleware, TimeoutMiddleware
from service.observability import RequestIdMiddleware
from service.openapi_errors import document_errors
from service.security import SecurityHeadersMiddleware
from service.widget import STATIC


def install(app: FastAPI, settings: Settings) -> None:
    """Add the middlewares (call before CORS is added, so CORS wraps their answers too)."""
    limits = settings.limits
    # add_middleware puts each one outside the previous: the innermost is added first.
    app.add_middleware(TimeoutMiddleware, limits.request_timeout_s, limits.timeout_paths)
    app.add_middleware(StrictJsonMiddleware, limits.max_json_depth)
    if limits.rate_limit:
        app.add_middleware(RateLimitMiddleware, limits.rate_limit, limits.rate_limit_paths)
    app.add_middleware(
        BodyLimitMiddleware, limits.max_body_bytes, settings.service.max_upload_bytes
    )
    app.add_middleware(SecurityHeadersMiddleware, STATIC / "demo.html")
    app.add_middleware(RequestIdMiddleware)
    app.include_router(ready.router)
    document_errors(app, settings)
