"""Request ids (X-Request-ID, echoed or generated), one access line per request, JSON logs."""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from rag.config import Settings
from service.asgi import ASGIApp, Message, Receive, Scope, Send, header

access_log = logging.getLogger("service.access")
request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

# A client's id is echoed only if it is short and plain, so it cannot forge log lines.
_VALID_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s,;\"']+")
# LogRecord attributes that are not "extra" fields (uvicorn's color_message repeats message).
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",
}


def new_request_id(given: bytes | None) -> str:
    """The client's X-Request-ID when well-formed, else a fresh one."""
    if given:
        try:
            text = given.decode("ascii")
        except UnicodeDecodeError:
            text = ""
        if _VALID_ID.match(text):
            return text
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Set the request id for the request's logs, echo it, and log one access line."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = new_request_id(header(scope, b"x-request-id"))
        token = request_id_var.set(request_id)
        start = time.perf_counter()
        status = 0

        async def with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [
                    (k, v) for k, v in message.get("headers") or [] if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, with_id)
        finally:
            client = scope.get("client")
            # Path only: query strings and headers (where tokens travel) are never logged.
            access_log.info(
                "%s %s %s %.1f ms",
                scope.get("method"),
                scope.get("path"),
                status or "-",
                (time.perf_counter() - start) * 1000,
                extra={
                    "method": scope.get("method"),
                    "path": scope.get("path"),
                    "status": status or None,
                    "duration_ms": round((time.perf_counter() - start) * 1000, 1),
                    "client": client[0] if client else None,
                },
            )
            request_id_var.reset(token)


class RequestIdFilter(logging.Filter):
    """Put the current request id on every record (``%(request_id)s``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


class RedactFilter(logging.Filter):
    """Blank out bearer credentials and the configured secrets wherever they appear."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = _BEARER.sub(r"\1[redacted]", message)
        for secret in self.secrets:
            clean = clean.replace(secret, "[redacted]")
        if clean != message:
            record.msg, record.args = clean, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out:
                out[key] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


def configure_logging(settings: Settings, stream: Any = None) -> logging.Handler:
    """Send all logs (uvicorn's too) through one handler: text or JSON, ids, redaction."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setLevel(logging.INFO)  # some libraries set DEBUG on their own loggers
    handler.addFilter(RequestIdFilter())
    token = settings.api_token.get_secret_value() if settings.api_token else ""
    handler.addFilter(RedactFilter([token]))
    handler.setFormatter(
        JsonFormatter() if settings.service.log_json else logging.Formatter(TEXT_FORMAT)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler
