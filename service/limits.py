"""ASGI middlewares that bound a request: body size (413), rate (429) and duration (504)."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Sequence

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from service.asgi import (
    UPLOAD_PREFIX,
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    header,
    matches,
    send_error,
)
from service.errors import HttpError

log = logging.getLogger(__name__)

# Room for multipart boundaries and metadata fields around an upload of the maximum size.
MULTIPART_SLACK = 64 * 1024


class BodyLimitMiddleware:
    """413 for a body over the limit: by Content-Length before reading, else while streaming."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, max_upload_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes + MULTIPART_SLACK

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        limit = self.max_upload_bytes if matches(path, [UPLOAD_PREFIX]) else self.max_body_bytes
        declared = header(scope, b"content-length")
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                await send_error(scope, send, 400, "Content-Length is not a number")
                return
            if size > limit:
                await send_error(scope, send, 413, _too_large(size, limit))
                return
        received = 0
        rejected = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, rejected
            if rejected:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Chunked or lying Content-Length: stop reading and answer now; the app
                    # sees a disconnect, and whatever it sends afterwards is dropped.
                    rejected = True
                    if not started:
                        await send_error(scope, send, 413, _too_large(received, limit, True))
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if rejected:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except Exception:
            if rejected:  # the app's reaction to the cut-off body; the 413 is already sent
                return
            raise


def _too_large(size: int, limit: int, streamed: bool = False) -> str:
    what = f"more than {limit}" if streamed else str(size)
    return f"request body is {what} bytes; the limit is {limit}"


class RateLimitMiddleware:
    """Per-client limit on POSTs under some path prefixes; over it: 429 with Retry-After."""

    def __init__(self, app: ASGIApp, rate: str, prefixes: Sequence[str]) -> None:
        self.app = app
        self.items: list[RateLimitItem] = parse_many(rate)
        self.prefixes = list(prefixes)
        # Moving window: no burst of twice the limit across a window boundary.
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or not matches(str(scope.get("path", "")), self.prefixes)
        ):
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        key = str(client[0]) if client else "unknown"
        # Test every window first so a refused request uses up none of them.
        blocked = [item for item in self.items if not self.limiter.test(item, key)]
        if not blocked:
            for item in self.items:
                self.limiter.hit(item, key)
            await self.app(scope, receive, send)
            return
        reset = max(self.limiter.get_window_stats(item, key).reset_time for item in blocked)
        retry_after = max(1, math.ceil(reset - time.time()))
        await send_error(
            scope,
            send,
            429,
            f"rate limit exceeded ({blocked[0]} per client); retry in {retry_after} s",
            headers=[(b"retry-after", str(retry_after).encode())],
        )


class TimeoutMiddleware:
    """Bound a request's duration: 504 if no response has started, else end the stream."""

    def __init__(self, app: ASGIApp, timeout_s: float, prefixes: Sequence[str]) -> None:
        self.app = app
        self.timeout_s = timeout_s
        self.prefixes = list(prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not matches(str(scope.get("path", "")), self.prefixes):
            await self.app(scope, receive, send)
            return
        started = ended = expired = event_stream = False
        sending = asyncio.Lock()

        async def guarded_send(message: Message) -> None:
            nonlocal started, ended, event_stream
            async with sending:
                if expired:
                    return
                if message["type"] == "http.response.start":
                    started = True
                    content_type = dict(message.get("headers") or []).get(b"content-type", b"")
                    event_stream = bytes(content_type).startswith(b"text/event-stream")
                elif message["type"] == "http.response.body" and not message.get("more_body"):
                    ended = True
                await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        done, _ = await asyncio.wait({task}, timeout=self.timeout_s)
        if task in done:
            task.result()
            return
        expired = True
        # A worker thread cannot be interrupted: the task ends when its thread returns, and
        # its outcome is only logged. The client gets its answer now.
        task.cancel()
        task.add_done_callback(_log_late_failure)
        log.warning(
            "%s %s exceeded the request timeout of %.1f s",
            scope.get("method"),
            scope.get("path"),
            self.timeout_s,
        )
        detail = f"the request took longer than {self.timeout_s:g} s and was stopped"
        try:
            await asyncio.wait_for(sending.acquire(), timeout=5)
        except TimeoutError:
            return  # the client is not reading; the server will close the connection
        try:
            if not started:
                await send_error(scope, send, 504, detail)
            elif not ended:
                tail = b""
                if event_stream:
                    data = json.dumps(HttpError(504, detail).sse_data()).encode()
                    tail = b"event: error\r\ndata: " + data
                    tail += b"\r\n\r\n"
                await send({"type": "http.response.body", "body": tail, "more_body": False})
        finally:
            sending.release()


def _log_late_failure(task: asyncio.Future[None]) -> None:
    if task.cancelled():
        return
    exc = task.exception()
    if exc is not None:
        log.warning("a timed-out request failed afterwards: %r", exc)
