"""The small ASGI kit the service's middlewares share: types, path and header look-ups, and a
complete JSON error sent without a framework."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any

from service.errors import HttpError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UPLOAD_PREFIX = "/documents"  # document uploads: their own size limit, no JSON guard
OPENAI_PREFIX = "/v1"  # the OpenAI-compatible API: errors in OpenAI's shape


def matches(path: str, prefixes: Sequence[str]) -> bool:
    """Whether ``path`` is one of ``prefixes`` or below one (by whole path segments)."""
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)


def header(scope: Scope, name: bytes) -> bytes | None:
    """The first request header called ``name`` (lower-case bytes)."""
    for key, value in scope.get("headers") or ():
        if key == name:
            return bytes(value)
    return None


async def send_error(
    scope: Scope,
    send: Send,
    status: int,
    message: str,
    headers: Sequence[tuple[bytes, bytes]] = (),
) -> None:
    """Send a complete JSON error: {detail}, or OpenAI's {error: {...}} under /v1."""
    path = str(scope.get("path", ""))
    error = HttpError(status, message)
    body = error.openai_body() if matches(path, [OPENAI_PREFIX]) else {"detail": message}
    raw = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(raw)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": raw, "more_body": False})
