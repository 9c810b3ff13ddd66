"""Every middleware of the app, in one place and in order: the outermost is added last."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from rag.config import Settings
from service.jsonguard import StrictJsonMiddleware
from service.limits import BodyLimitMiddleware, RateLimitMiddleware, TimeoutMiddleware
from service.observability import RequestIdMiddleware
from service.security import SecurityHeadersMiddleware
from service.widget import STATIC


def install(app: FastAPI, settings: Settings) -> None:
    """Limits, JSON guard, security headers, request ids, and CORS around all of them."""
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
    # Outermost, so the limits' and guards' answers carry CORS headers too. The widget needs
    # no cookies, so credentials stay off and a "*" origin is never paired with them.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.service.cors_origins,
        allow_methods=["GET", "POST"],
        allow_headers=["content-type"],
        allow_credentials=False,
        max_age=600,
    )
